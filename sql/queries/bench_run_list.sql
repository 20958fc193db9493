-- bench_run_list: recent runs with their headline figures. Grain: one row per run.
-- Upstream: bench_runs (summary written at run end by unitcost.bench.metrics).
SELECT run_id, source, status, CAST(started_at AS VARCHAR) AS started_at, model, engine,
       hardware, CAST(load_profile AS VARCHAR) AS load_profile,
       CAST(summary AS VARCHAR) AS summary, group_id
FROM bench_runs
ORDER BY started_at DESC
LIMIT $limit;
