-- billing_file_same_content: another file with exactly these bytes that counts (zero or one
-- row): the same file under another path or name. Grain: one file (the earliest recorded).
-- Upstream: billing_files. Parameters: content hash, source_file.
SELECT source_file, delivered_at FROM billing_files
WHERE content_hash = ? AND source_file <> ? AND superseded_by IS NULL
ORDER BY loaded_at, source_file
LIMIT 1;
