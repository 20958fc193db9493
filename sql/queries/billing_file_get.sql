-- billing_file_get: what was recorded of a billing file (zero or one row): its fingerprint
-- when last read, content hash, and whether it counts. Parameter: source_file.
SELECT fingerprint, content_hash, superseded_by, reason FROM billing_files WHERE source_file = ?;
