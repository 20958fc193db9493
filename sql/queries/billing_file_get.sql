-- billing_file_get: what was recorded of a billing file (zero or one row): its fingerprint
-- when last read, content hash, whether it counts (superseded_by, reason) and its delivery.
-- Parameter: source_file.
SELECT fingerprint, content_hash, superseded_by, reason, delivery_id
FROM billing_files WHERE source_file = ?;
