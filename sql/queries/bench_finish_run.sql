-- bench_finish_run: close a run: final status, end time and its derived summary JSON.
UPDATE bench_runs
SET status = $status, ended_at = $ended_at, summary = CAST($summary AS JSON)
WHERE run_id = $run_id;
