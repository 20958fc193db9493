-- gpu_hours_counted: the GPU-hours that count, one source each (gpu_hourly.counted: NVML, else
-- DCGM, else nvidia-smi), so the same GPU's hour and its energy are never added twice when two
-- collectors saw it. Grain: one row per (gpu_uuid, hour). Upstream: gpu_utilization_hourly
-- (the flag is set by sql/queries/rollup_gpu_days.sql). Read by the /utilization heatmap.
CREATE OR REPLACE VIEW gpu_hours_counted AS
SELECT
    host,
    gpu_uuid,
    hour,                                      -- UTC
    util_gpu,                                  -- 0-1 mean of the hour's samples
    energy_j                                   -- J used in the hour
FROM gpu_utilization_hourly
WHERE counted;
