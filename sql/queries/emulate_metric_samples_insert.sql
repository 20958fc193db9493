-- Purpose: bulk-insert offline emulated metric samples from the registered frame emulate_rows.
-- Grain: one row per (source, metric, series_key, ts); a rerun replaces the same samples.
-- Upstream: emulate_rows (source, metric, series_key, labels, ts, value), a pandas frame.
INSERT OR REPLACE INTO metric_samples (source, metric, series_key, labels, ts, value, run_id)
SELECT source, metric, series_key, CAST(labels AS MAP(VARCHAR, VARCHAR)), ts, value, NULL
FROM emulate_rows;
