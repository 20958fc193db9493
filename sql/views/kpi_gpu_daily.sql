-- kpi_gpu_daily: GPU-hours sampled, utilization and energy per deployment and UTC day.
-- Grain: one row per (deployment_id, day). Upstream: gpu_utilization_hourly (per GPU and hour),
-- gpu_owners (GPU -> deployment). Where one GPU-hour was seen by two sources, one counts:
-- NVML, else DCGM, else nvidia-smi (the same GPU's energy must not be added twice).
CREATE OR REPLACE VIEW kpi_gpu_daily AS
WITH one_source AS (
    SELECT * FROM gpu_utilization_hourly
    QUALIFY row_number() OVER (
        PARTITION BY gpu_uuid, hour
        ORDER BY CASE source WHEN 'nvml' THEN 0 WHEN 'dcgm' THEN 1 ELSE 2 END
    ) = 1
)
SELECT
    o.deployment_id,
    CAST(g.hour AS DATE) AS day,                               -- UTC calendar day
    count(*) AS gpu_hours_sampled,                             -- GPU-hours with samples
    sum(g.util_gpu) AS util_gpu_hours,                         -- sum of hourly mean util (0-1)
    count(g.util_gpu) AS util_gpu_hours_n,
    sum(g.energy_j) AS energy_j,                               -- joules, counter increases
    count(g.energy_j) AS energy_hours_n
FROM one_source g
JOIN gpu_owners o USING (host, gpu_uuid)
GROUP BY ALL;
