-- dashboard_gpu_heatmap: GPU utilization by UTC weekday and hour of day over a period, for the
-- hour-of-day x weekday heatmap of /utilization.
-- Grain: one row per (weekday, hour_of_day) with GPU samples. Upstream: gpu_utilization_hourly
-- (per GPU and hour, from the gpu_hourly rollup), gpu_owners (GPU -> deployment). One source per
-- GPU-hour (NVML > DCGM > nvidia-smi), the rule of kpi_gpu_daily. Parameters: $start, $end (UTC
-- days, end exclusive), $deployments (deployment ids to include; NULL = all).
-- gpu_utilization: mean of the hourly GPU utilization over every GPU-hour in the cell (0-1),
-- the definition of kpi's gpu_utilization restricted to that weekday and hour.
WITH one_source AS (
    SELECT host, gpu_uuid, hour, util_gpu FROM gpu_utilization_hourly
    WHERE hour >= CAST($start AS TIMESTAMP) AND hour < CAST($end AS TIMESTAMP)
    QUALIFY row_number() OVER (
        PARTITION BY gpu_uuid, hour
        ORDER BY CASE source WHEN 'nvml' THEN 0 WHEN 'dcgm' THEN 1 ELSE 2 END
    ) = 1
)
SELECT
    isodow(g.hour) AS weekday,                 -- 1 = Monday ... 7 = Sunday (UTC)
    hour(g.hour) AS hour_of_day,               -- 0-23 (UTC)
    avg(g.util_gpu) AS gpu_utilization,        -- 0-1
    count(g.util_gpu) AS gpu_hours             -- GPU-hours in the cell
FROM one_source g
JOIN gpu_owners o USING (host, gpu_uuid)
WHERE $deployments IS NULL OR list_contains($deployments, o.deployment_id)
GROUP BY ALL
ORDER BY weekday, hour_of_day;
