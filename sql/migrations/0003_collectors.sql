-- 0003_collectors: bookkeeping the collectors need beyond 0001.
-- billing_files: one row per billing export file loaded into billing_line_items, so a re-run can
-- skip a file whose content has not changed and every stored row can be traced to its file.
CREATE TABLE billing_files (
    source_file       VARCHAR PRIMARY KEY,   -- path or s3:// URI, as in billing_line_items
    source_format     VARCHAR NOT NULL,      -- focus-1.0 ... focus-1.3, cur-legacy, cur-2.0
    fingerprint       VARCHAR NOT NULL,      -- size+mtime (local) or ETag (S3) when loaded
    rows_loaded       BIGINT NOT NULL,
    extra_columns     VARCHAR[],             -- source columns kept in x_Extensions
    loaded_at         TIMESTAMPTZ NOT NULL,
    collector_run_id  VARCHAR
);
