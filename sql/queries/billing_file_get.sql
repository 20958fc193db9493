-- billing_file_get: the fingerprint a billing file had when last loaded (zero or one row).
-- Parameter: source_file.
SELECT fingerprint FROM billing_files WHERE source_file = ?;
