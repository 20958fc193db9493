-- gpu_hours_counted: the GPU-hours that count, one source each, so the same GPU's hour (and
-- its energy) is never added twice when two collectors saw it: NVML, else DCGM, else
-- nvidia-smi. Grain: one row per (gpu_uuid, hour). Upstream: gpu_utilization_hourly.
-- Read by kpi_gpu_daily and the /utilization heatmap (sql/queries/dashboard_gpu_heatmap.sql).
CREATE OR REPLACE VIEW gpu_hours_counted AS
SELECT
    host,
    gpu_uuid,
    hour,                                      -- UTC
    util_gpu,                                  -- 0-1 mean of the hour's samples
    energy_j                                   -- J used in the hour
FROM gpu_utilization_hourly
QUALIFY row_number() OVER (
    PARTITION BY gpu_uuid, hour
    ORDER BY CASE source WHEN 'nvml' THEN 0 WHEN 'dcgm' THEN 1 ELSE 2 END
) = 1;
