-- dashboard_bench_runs: every finished benchmark run with what the /benchmarks page plots.
-- Grain: one row per completed or imported run (running, failed and interrupted runs are
-- left out: their figures cover part of a run).
-- Upstream: bench_run_summary (figures defined in docs/bench.md), bench_runs (emulated flag,
-- SLO), price_catalog_effective (the catalog's USD per GPU-hour for the run's price_ref,
-- on-demand row preferred as in bench_price_for_ref).
WITH price AS (
    SELECT price_ref, on_demand_usd_per_gpu_hour, source AS price_source, as_of AS price_as_of,
           caveat AS price_caveat
    FROM price_catalog_effective
    QUALIFY row_number() OVER (
        PARTITION BY price_ref ORDER BY CASE price_model WHEN 'on_demand' THEN 0 ELSE 1 END
    ) = 1
)
SELECT
    s.run_id,
    coalesce(r.name, s.run_id) AS run_name,
    s.source,
    s.status,
    s.started_at,
    coalesce(s.model, 'unknown') AS model,
    coalesce(s.engine, 'unknown') AS engine,
    coalesce(s.hardware, 'unknown') AS hardware,
    coalesce(s.quantization, 'unknown') AS quantization,
    s.gpu_count,
    s.parameter_count,
    s.price_ref,
    s.group_id,
    r.deployment_id,                               -- set when the run named one
    r.emulated,                                    -- the target was `unitcost emulate`
    s.load_kind,
    s.concurrency,                                 -- concurrent requests (closed loop)
    s.rate,                                        -- offered req/s (open loop)
    s.requests_ok,
    s.requests_failed,
    s.success_rate,                                -- 0-1
    s.duration_s,
    s.request_rate,                                -- ok req/s
    s.output_tokens_per_s,
    s.total_tokens_per_s,
    s.total_tokens_per_s - s.output_tokens_per_s AS input_tokens_per_s,
    s.goodput,                                     -- req/s meeting the SLO
    s.ttft_p50_ms,
    s.ttft_p99_ms,
    s.tpot_p50_ms,
    s.tpot_p99_ms,
    s.itl_p50_ms,
    s.e2e_p50_ms,
    s.e2e_p99_ms,
    s.usd_per_1m_output_tokens_at_slo,             -- as the run stored it (its price then)
    s.meets_slo,
    CAST(r.slo AS VARCHAR) AS slo,                 -- {"ttft": ms, "tpot": ms, ...}
    p.on_demand_usd_per_gpu_hour,                  -- catalog USD per GPU-hour, today
    p.price_source,
    p.price_as_of,
    p.price_caveat
FROM bench_run_summary s
JOIN bench_runs r USING (run_id)
LEFT JOIN price p ON p.price_ref = s.price_ref
WHERE s.status IN ('completed', 'imported')
  AND s.output_tokens_per_s IS NOT NULL
ORDER BY s.started_at DESC;
