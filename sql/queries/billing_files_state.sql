-- billing_files_state: what was recorded of every billing file (one query per collection
-- instead of one per file): fingerprint, content hash, superseded_by, reason, delivery.
-- Grain: one row per billing_files row. Upstream: billing_files.
SELECT source_file, fingerprint, content_hash, superseded_by, reason, delivery_id
FROM billing_files;
