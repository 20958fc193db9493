-- bench_runs_running: runs still marked `running`, with the process that ran them, for
-- `bench mark-interrupted`. Grain: one row per run. Upstream: bench_runs.
SELECT run_id, name, CAST(started_at AS VARCHAR) AS started_at, epoch_ms(started_at) AS started_ms,
       client_pid, client_host, client_start_ticks
FROM bench_runs
WHERE status = 'running'
ORDER BY started_at;
