-- capacity_bench_runs: completed benchmark runs that can say what a config serves at an SLO.
-- Grain: one row per bench_runs row with status 'completed' (imported runs carry no per-request
-- records, so goodput at another SLO cannot be recomputed from them; running, failed and
-- interrupted runs are left out). Upstream: bench_runs.
-- Config names compare case-insensitively and NULL reads as 'unknown', so names match as users
-- type them (H100 = h100). $model etc. NULL = every config (recommend reads all runs at once).
SELECT
    run_id,
    group_id,
    model,
    coalesce(quantization, 'unknown') AS quantization,
    coalesce(engine, 'unknown') AS engine,
    coalesce(hardware, 'unknown') AS hardware,
    coalesce(gpu_count, 1) AS gpu_count,
    parameter_count,
    price_ref,
    emulated,                                          -- target was `unitcost emulate`
    (summary ->> 'meets_slo') IS NOT NULL AS from_capacity_search,  -- run of `bench --capacity`
    started_at
FROM bench_runs
WHERE status = 'completed'
  AND source = 'unitcost'
  AND model IS NOT NULL
  AND ($model IS NULL OR lower(model) = lower($model))
  AND ($quantization IS NULL OR lower(coalesce(quantization, 'unknown')) = lower($quantization))
  AND ($engine IS NULL OR lower(coalesce(engine, 'unknown')) = lower($engine))
  AND ($hardware IS NULL OR lower(coalesce(hardware, 'unknown')) = lower($hardware))
  AND ($gpu_count IS NULL OR coalesce(gpu_count, 1) = $gpu_count)
ORDER BY run_id;
