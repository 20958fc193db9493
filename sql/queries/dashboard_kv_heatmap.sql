-- dashboard_kv_heatmap: KV-cache use by UTC weekday and hour of day over a period, for the
-- hour-of-day x weekday heatmap of /utilization.
-- Grain: one row per (weekday, hour_of_day) with KV-cache telemetry. Upstream: metric_intervals.
-- Parameters: $start, $end (UTC days, end exclusive), $deployments (ids; NULL = all).
-- kv_cache_usage: time-weighted mean KV-cache use of the cell's intervals (0-1), as kpi's
-- kv_cache_usage restricted to that weekday and hour.
WITH cells AS (
    SELECT timezone('UTC', interval_start) AS t, kv_cache_usage, interval_s
    FROM metric_intervals
    -- bounds as instants, so the scan prunes by interval_start
    WHERE interval_start >= timezone('UTC', CAST($start AS TIMESTAMP))
      AND interval_start < timezone('UTC', CAST($end AS TIMESTAMP))
      AND kv_cache_usage IS NOT NULL
      AND ($deployments IS NULL OR list_contains($deployments, deployment_id))
)
SELECT
    isodow(t) AS weekday,                      -- 1 = Monday ... 7 = Sunday (UTC)
    hour(t) AS hour_of_day,                    -- 0-23 (UTC)
    sum(kv_cache_usage * interval_s) / sum(interval_s) AS kv_cache_usage,  -- 0-1
    sum(interval_s) / 3600.0 AS hours_observed -- deployment-hours of telemetry in the cell
FROM cells
GROUP BY ALL
ORDER BY weekday, hour_of_day;
