-- collect_run_finish: close a collector run with its outcome.
-- Parameters: status (ok, failed, interrupted), rows_written, error text (NULL when ok), run id.
UPDATE collector_runs
SET ended_at = now(), status = ?, rows_written = ?, error = ?
WHERE collector_run_id = ?;
