-- billing_file_reopen_copies: files recorded as copies of a file whose content just changed
-- are read again at the next collection (their fingerprint is cleared). Parameter: source_file.
UPDATE billing_files SET fingerprint = ''
WHERE superseded_by = ? AND starts_with(coalesce(reason, ''), 'same content');
