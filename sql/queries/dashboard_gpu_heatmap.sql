-- dashboard_gpu_heatmap: GPU utilization by UTC weekday and hour of day over a period, for the
-- hour-of-day x weekday heatmap of /utilization.
-- Grain: one row per (weekday, hour_of_day) with GPU samples. Upstream: gpu_utilization_hourly
-- (its counted hours: one source per GPU and hour, the hours kpi_gpu_daily counts), gpu_owners
-- (GPU -> deployment). Parameters: $start, $end (UTC days, end exclusive), $deployments (deployment
-- ids to include; NULL = all).
-- gpu_utilization: mean of the hourly GPU utilization over every GPU-hour in the cell (0-1),
-- the definition of kpi's gpu_utilization restricted to that weekday and hour.
SELECT
    isodow(g.hour) AS weekday,                 -- 1 = Monday ... 7 = Sunday (UTC)
    hour(g.hour) AS hour_of_day,               -- 0-23 (UTC)
    avg(g.util_gpu) AS gpu_utilization,        -- 0-1
    count(g.util_gpu) AS gpu_hours             -- GPU-hours in the cell
FROM gpu_utilization_hourly g
JOIN gpu_owners o USING (host, gpu_uuid)
WHERE g.counted
  AND g.hour >= CAST($start AS TIMESTAMP) AND g.hour < CAST($end AS TIMESTAMP)
  AND ($deployments IS NULL OR list_contains($deployments, o.deployment_id))
GROUP BY ALL
ORDER BY weekday, hour_of_day;
