-- bench_run_last_end: the perf_counter_ns stamp of a run's last stored request end, so a run
-- closed after its process died gets an end time from its own records (anchor_ns + elapsed).
-- Grain: one row. Upstream: bench_requests.
SELECT max(coalesce(end_ns, sent_ns, scheduled_ns)) AS last_ns
FROM bench_requests
WHERE run_id = $run_id;
