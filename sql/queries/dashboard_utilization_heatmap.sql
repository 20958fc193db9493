-- dashboard_utilization_heatmap: GPU utilization and KV-cache use by UTC weekday and hour of day
-- over a period, for the hour-of-day x weekday heatmap of /utilization.
-- Grain: one row per (weekday, hour) that has data. Upstream: gpu_utilization_hourly and
-- gpu_owners (GPU -> deployment; one source per GPU-hour, NVML > DCGM > nvidia-smi, the rule of
-- kpi_gpu_daily), metric_intervals (KV-cache use). Parameters: $start, $end (UTC days, end
-- exclusive), $deployments (deployment ids to include; NULL = all).
-- gpu_utilization: mean of the hourly GPU utilization over every GPU-hour in the cell (0-1),
-- the definition of kpi's gpu_utilization restricted to that weekday and hour.
-- kv_cache_usage: time-weighted mean KV-cache use over the cell's intervals (0-1).
WITH one_source AS (
    SELECT * FROM gpu_utilization_hourly
    WHERE hour >= $start AND hour < $end
    QUALIFY row_number() OVER (
        PARTITION BY gpu_uuid, hour
        ORDER BY CASE source WHEN 'nvml' THEN 0 WHEN 'dcgm' THEN 1 ELSE 2 END
    ) = 1
),
gpu AS (
    SELECT isodow(g.hour) AS weekday, hour(g.hour) AS hour_of_day,
           avg(g.util_gpu) AS gpu_utilization, count(g.util_gpu) AS gpu_hours
    FROM one_source g
    JOIN gpu_owners o USING (host, gpu_uuid)
    WHERE $deployments IS NULL OR list_contains($deployments, o.deployment_id)
    GROUP BY ALL
),
kv AS (
    SELECT isodow(timezone('UTC', interval_start)) AS weekday,
           hour(timezone('UTC', interval_start)) AS hour_of_day,
           sum(kv_cache_usage * interval_s) / nullif(sum(interval_s), 0) AS kv_cache_usage
    FROM metric_intervals
    WHERE timezone('UTC', interval_start) >= $start AND timezone('UTC', interval_start) < $end
      AND kv_cache_usage IS NOT NULL
      AND ($deployments IS NULL OR list_contains($deployments, deployment_id))
    GROUP BY ALL
)
SELECT
    coalesce(gpu.weekday, kv.weekday) AS weekday,          -- 1 = Monday ... 7 = Sunday (UTC)
    coalesce(gpu.hour_of_day, kv.hour_of_day) AS hour_of_day,  -- 0-23 (UTC)
    gpu.gpu_utilization,
    gpu.gpu_hours,                                        -- GPU-hours in the cell
    kv.kv_cache_usage
FROM gpu
FULL OUTER JOIN kv USING (weekday, hour_of_day)
ORDER BY weekday, hour_of_day;
