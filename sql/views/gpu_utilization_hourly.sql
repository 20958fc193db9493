-- gpu_utilization_hourly: per GPU and UTC hour, mean utilization, memory and power.
-- Grain: one row per (host, gpu_uuid, source, hour). Upstream: gpu_samples.
-- energy_j: increase of NVML's cumulative energy counter within the hour (mJ -> J); NULL when
-- the source has no counter (nvidia-smi).
CREATE OR REPLACE VIEW gpu_utilization_hourly AS
SELECT
    host,
    gpu_uuid,
    source,
    date_trunc('hour', timezone('UTC', ts)) AS hour,   -- UTC
    any_value(gpu_model) AS gpu_model,
    avg(util_gpu) AS util_gpu,                 -- 0-1 mean of samples
    avg(sm_active) AS sm_active,               -- 0-1, GPM where supported
    avg(tensor_active) AS tensor_active,
    max(mem_used_bytes) AS mem_used_bytes_max,
    avg(power_w) AS power_w,                   -- mean W
    (max(energy_mj) - min(energy_mj)) / 1000.0 AS energy_j,
    count(*) AS samples
FROM gpu_samples
GROUP BY ALL;
