-- dashboard_kv_heatmap: KV-cache use by UTC weekday and hour of day over a period, for the
-- hour-of-day x weekday heatmap of /utilization.
-- Grain: one row per (weekday, hour_of_day) with KV-cache telemetry. Upstream: metric_kv_hourly
-- (metric_intervals summed per deployment and UTC hour, kept in step with every write).
-- Parameters: $start, $end (UTC days, end exclusive), $deployments (ids; NULL = all).
-- kv_cache_usage: time-weighted mean KV-cache use of the cell's intervals (0-1), as kpi's
-- kv_cache_usage restricted to that weekday and hour.
SELECT
    isodow(hour) AS weekday,                   -- 1 = Monday ... 7 = Sunday (UTC)
    hour(hour) AS hour_of_day,                 -- 0-23 (UTC)
    sum(kv_usage_s) / sum(kv_observed_s) AS kv_cache_usage,  -- 0-1
    sum(kv_observed_s) / 3600.0 AS hours_observed -- deployment-hours of telemetry in the cell
FROM metric_kv_hourly
WHERE day >= $start AND day < $end
  AND ($deployments IS NULL OR list_contains($deployments, deployment_id))
GROUP BY ALL
ORDER BY weekday, hour_of_day;
