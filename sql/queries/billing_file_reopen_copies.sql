-- billing_file_reopen_copies: files recorded as copies of a file whose content just changed
-- are read again at the next collection (fingerprint and hash cleared).
-- Parameters: source_file, its new content hash.
UPDATE billing_files SET fingerprint = '', content_hash = NULL
WHERE superseded_by = ? AND starts_with(coalesce(reason, ''), 'same content')
  AND content_hash IS DISTINCT FROM ?;
