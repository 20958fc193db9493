-- billing_file_same_content: another recorded file with exactly these bytes (zero or one row):
-- the same file under another path or name, loaded once only. Parameters: content hash,
-- source_file.
SELECT source_file FROM billing_files
WHERE content_hash = ? AND source_file <> ? AND NOT starts_with(coalesce(reason, ''), 'same content')
ORDER BY loaded_at, source_file
LIMIT 1;
