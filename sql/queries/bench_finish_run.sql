-- bench_finish_run: close a run: final status, end time, its derived summary JSON and the
-- client's event-loop lag samples (ns). Upstream: unitcost.bench.runner.
UPDATE bench_runs
SET status = $status, ended_at = $ended_at, summary = CAST($summary AS JSON),
    loop_lag_ns = $loop_lag_ns::BIGINT[]
WHERE run_id = $run_id;
