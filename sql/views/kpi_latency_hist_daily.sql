-- kpi_latency_hist_daily: per deployment and UTC day, how many requests (TTFT, E2E) or tokens
-- (ITL) fell in each latency bucket, so the share within any SLO threshold can be interpolated
-- (analytics/kpi.py: good tokens). Counts are bucket increases (cumulative: observations <= le).
-- Grain: one row per (deployment_id, day, kind, le). Upstream: metric_intervals' ttft_hist,
-- itl_hist, e2e_hist ({le seconds: count}, +Inf as 'inf').
CREATE OR REPLACE VIEW kpi_latency_hist_daily AS
WITH buckets AS (
    SELECT deployment_id, interval_start, 'ttft' AS kind,
           unnest(map_keys(ttft_hist)) AS le, unnest(map_values(ttft_hist)) AS n
    FROM metric_intervals WHERE ttft_hist IS NOT NULL
    UNION ALL
    SELECT deployment_id, interval_start, 'itl',
           unnest(map_keys(itl_hist)), unnest(map_values(itl_hist))
    FROM metric_intervals WHERE itl_hist IS NOT NULL
    UNION ALL
    SELECT deployment_id, interval_start, 'e2e',
           unnest(map_keys(e2e_hist)), unnest(map_values(e2e_hist))
    FROM metric_intervals WHERE e2e_hist IS NOT NULL
)
SELECT
    CASE deployment_id WHEN 'unmapped' THEN 'unmapped-telemetry' ELSE deployment_id END
        AS deployment_id,                        -- as in kpi_usage_daily
    CAST(timezone('UTC', interval_start) AS DATE) AS day,
    kind,                                        -- ttft, itl, e2e
    le,                                          -- bucket bound, seconds
    sum(n) AS n                                  -- observations <= le
FROM buckets
GROUP BY ALL;
