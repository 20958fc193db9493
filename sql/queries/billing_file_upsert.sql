-- billing_file_upsert: record one loaded billing file (natural key: source_file).
-- Parameters: source_file, source_format, fingerprint, rows_loaded, extra_columns, run id.
INSERT OR REPLACE INTO billing_files (source_file, source_format, fingerprint, rows_loaded,
                                      extra_columns, loaded_at, collector_run_id)
VALUES (?, ?, ?, ?, ?, now(), ?);
