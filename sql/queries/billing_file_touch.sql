-- billing_file_touch: a file read again with the same bytes (only its size/mtime or ETag
-- changed): keep its record, note the new fingerprint. Parameters: fingerprint, source_file.
UPDATE billing_files SET fingerprint = ? WHERE source_file = ?;
