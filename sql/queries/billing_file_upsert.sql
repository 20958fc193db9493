-- billing_file_upsert: record one billing file (natural key: source_file), loaded or set aside.
-- Parameters: source_file, source_format (NULL: not read), fingerprint, rows_loaded,
-- extra_columns, run id, content_hash, delivery_id, delivered_at, superseded_by, reason.
INSERT OR REPLACE INTO billing_files (source_file, source_format, fingerprint, rows_loaded,
                                      extra_columns, loaded_at, collector_run_id, content_hash,
                                      delivery_id, delivered_at, superseded_by, reason)
VALUES (?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?);
