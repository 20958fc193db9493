-- gpu_utilization_hourly: per GPU and UTC hour, mean utilization, memory, power and energy.
-- Grain: one row per (host, gpu_uuid, source, hour). Upstream: gpu_samples.
-- energy_j: the increase of the GPU's cumulative energy counter (mJ -> J) credited to the hour
-- of the later sample, as for any counter: between consecutive samples of one GPU and source,
-- e1 - e0, or e1 when e1 < e0 (the counter restarted: driver reload, reboot). So an hour gets
-- the energy used since the last sample before it, and a reset is never a negative hour. NULL
-- when the source has no counter (nvidia-smi) or the hour has no pair of samples.
CREATE OR REPLACE VIEW gpu_utilization_hourly AS
WITH samples AS (
    SELECT
        host,
        gpu_uuid,
        source,
        date_trunc('hour', timezone('UTC', ts)) AS hour,   -- UTC
        gpu_model, util_gpu, sm_active, tensor_active, mem_used_bytes, power_w, energy_mj,
        lag(energy_mj IGNORE NULLS) OVER (PARTITION BY host, gpu_uuid, source ORDER BY ts)
            AS prev_energy_mj
    FROM gpu_samples
)
SELECT
    host,
    gpu_uuid,
    source,
    hour,
    any_value(gpu_model) AS gpu_model,
    avg(util_gpu) AS util_gpu,                 -- 0-1 mean of samples
    avg(sm_active) AS sm_active,               -- 0-1, GPM where supported
    avg(tensor_active) AS tensor_active,
    max(mem_used_bytes) AS mem_used_bytes_max,
    avg(power_w) AS power_w,                   -- mean W
    sum(CASE WHEN energy_mj IS NULL OR prev_energy_mj IS NULL THEN NULL
             WHEN energy_mj >= prev_energy_mj THEN energy_mj - prev_energy_mj
             ELSE energy_mj END) / 1000.0 AS energy_j,  -- J used in the hour (see above)
    count(*) AS samples
FROM samples
GROUP BY host, gpu_uuid, source, hour;
