-- collect_run_start: record that a collector started (one row per invocation).
-- Parameters: collector_run_id, collector, source, window_start, window_end.
INSERT INTO collector_runs (collector_run_id, collector, source, started_at, status,
                            rows_written, window_start, window_end)
VALUES (?, ?, ?, now(), 'running', 0, ?, ?);
