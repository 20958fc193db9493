-- kpi_gpu_daily: GPU-hours sampled, utilization and energy per deployment and UTC day.
-- Grain: one row per (deployment_id, day) with counted GPU-hours. Upstream: gpu_daily (per GPU
-- and day, one source per GPU-hour: NVML, else DCGM, else nvidia-smi; definitions in
-- sql/queries/rollup_gpu_days.sql), gpu_owners (GPU -> deployment).
CREATE OR REPLACE VIEW kpi_gpu_daily AS
SELECT
    o.deployment_id,
    g.day,                                                     -- UTC calendar day
    CAST(sum(g.gpu_hours) AS BIGINT) AS gpu_hours_sampled,    -- GPU-hours with samples
    sum(g.util_gpu_hours) AS util_gpu_hours,                   -- sum of hourly mean util (0-1)
    CAST(sum(g.util_gpu_hours_n) AS BIGINT) AS util_gpu_hours_n,
    sum(g.energy_j) AS energy_j,                               -- joules, counter increases
    CAST(sum(g.energy_hours_n) AS BIGINT) AS energy_hours_n
FROM gpu_daily g
JOIN gpu_owners o USING (host, gpu_uuid)
WHERE g.gpu_hours > 0
GROUP BY ALL;
