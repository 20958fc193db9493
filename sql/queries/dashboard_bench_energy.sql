-- dashboard_bench_energy: energy per output token of each benchmark run whose server exposed
-- GPU energy on the /metrics the run scraped (dcgm-exporter's counter, or `unitcost emulate`).
-- Grain: one row per run with both counters. Upstream: metric_samples (bench scrapes, run_id
-- set). Parameter: $token_metrics (the engines' output-token counters, from
-- collectors.metric_families).
-- joules_per_output_token = increase of DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION (mJ, summed over
-- the GPUs) / increase of the engine's output-token counter, both between the same first and
-- last scrape of the run; a counter that goes down restarted, and its new value is the increase.
WITH steps AS (
    SELECT run_id, metric, series_key, value,
           value - lag(value) OVER (PARTITION BY run_id, metric, series_key ORDER BY ts) AS d
    FROM metric_samples
    WHERE run_id IS NOT NULL
      AND (metric = 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION' OR list_contains($token_metrics, metric))
),
inc AS (
    SELECT run_id, metric,
           sum(CASE WHEN d >= 0 THEN d ELSE value END) AS increase   -- NULL for a first sample
    FROM steps
    WHERE d IS NOT NULL
    GROUP BY ALL
)
SELECT
    e.run_id,
    e.increase / 1000.0 AS energy_j,                              -- joules, all GPUs
    t.increase AS engine_output_tokens,                           -- tokens the engine counted
    e.increase / 1000.0 / t.increase AS joules_per_output_token
FROM inc e
JOIN (
    SELECT run_id, max(increase) AS increase                      -- one engine per server
    FROM inc WHERE metric <> 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION' GROUP BY ALL
) t USING (run_id)
WHERE e.metric = 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION' AND t.increase > 0;
