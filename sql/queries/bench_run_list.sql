-- bench_run_list: recent runs with their headline figures and, for a run measured at an SLO
-- capacity, which decision chose it. Grain: one row per run.
-- Upstream: bench_runs (summary written at run end by unitcost.bench.metrics), bench_capacity.
SELECT r.run_id, r.name, r.source, r.status, CAST(r.started_at AS VARCHAR) AS started_at,
       epoch_ms(r.started_at) AS started_ms,     -- ms since the epoch, for a running run's age
       r.model, r.engine, r.hardware, r.emulated, CAST(r.load_profile AS VARCHAR) AS load_profile,
       CAST(r.summary AS VARCHAR) AS summary, r.group_id,
       r.client_pid, r.client_host, r.client_start_ticks,
       (SELECT list(CASE WHEN c.scenario = '' THEN 'capacity'
                         ELSE 'capacity ' || c.scenario || '@' || c.target END
                    ORDER BY c.scenario, c.target)
        FROM bench_capacity c WHERE c.capacity_run_id = r.run_id) AS at_capacity
FROM bench_runs r
ORDER BY r.started_at DESC
LIMIT $limit;
