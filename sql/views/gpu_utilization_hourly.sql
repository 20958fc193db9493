-- gpu_utilization_hourly: per GPU and UTC hour, mean utilization, memory, power and energy.
-- Grain: one row per (host, gpu_uuid, source, hour). Upstream: gpu_hourly, the rollup of
-- gpu_samples kept in step with every write (definitions: sql/queries/rollup_gpu_hours.sql).
-- energy_j: the increase of the GPU's cumulative energy counter (mJ -> J) credited to the hour
-- of the later sample, as for any counter: between consecutive samples of one GPU and source,
-- e1 - e0, or e1 when e1 < e0 (the counter restarted: driver reload, reboot). So an hour gets
-- the energy used since the last sample before it, and a reset is never a negative hour. Pairs
-- more than a day apart are not paired. NULL when the source has no counter (nvidia-smi) or
-- the hour has no pair of samples.
CREATE OR REPLACE VIEW gpu_utilization_hourly AS
SELECT
    host,
    gpu_uuid,
    source,
    hour,                                      -- UTC
    gpu_model,
    util_gpu,                                  -- 0-1 mean of samples
    sm_active,                                 -- 0-1, GPM where supported
    tensor_active,
    mem_used_bytes_max,
    power_w,                                   -- mean W
    energy_j,                                  -- J used in the hour (see above)
    samples,
    counted                                    -- the GPU-hour that counts (one source each)
FROM gpu_hourly;
