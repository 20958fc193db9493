-- rollup_gpu_days: mark the GPU-hours that count in gpu_hourly and recompute gpu_daily, for the
-- GPUs and UTC days whose hours rollup_gpu_hours has just recomputed (the registered relation
-- new_gpu_samples: from the day of each GPU's first new sample to the day of its last). Run by
-- unitcost.collectors.rollups in the transaction that wrote those samples, after
-- rollup_gpu_hours. These SELECTs are the definitions of the daily
-- GPU figures (kpi_gpu_daily and gpu_owners only read the table):
--   counted        one row per GPU and hour counts: NVML, else DCGM, else nvidia-smi (the same
--                  GPU's hour and energy never added twice)
--   gpu_hours      counted hours; util_gpu_hours, energy_j: their sums; *_n: hours with a figure
--   pod, namespace any of the day's values, from every source (they say who owns the GPU)
CREATE OR REPLACE TEMP TABLE rollup_gpu_days AS
SELECT DISTINCT gpu_uuid, CAST(d AS DATE) AS day
FROM (
    SELECT gpu_uuid,
           date_trunc('day', timezone('UTC', min(ts))) AS lo,
           date_trunc('day', timezone('UTC', max(ts))) AS hi
    FROM new_gpu_samples
    GROUP BY gpu_uuid
) g, LATERAL (SELECT unnest(range(g.lo, g.hi + INTERVAL 1 DAY, INTERVAL 1 DAY)) AS d);
UPDATE gpu_hourly h SET counted = (r.rn = 1)
FROM (
    SELECT h.host, h.gpu_uuid, h.source, h.hour,
           row_number() OVER (
               PARTITION BY h.gpu_uuid, h.hour
               ORDER BY CASE h.source WHEN 'nvml' THEN 0 WHEN 'dcgm' THEN 1 ELSE 2 END
           ) AS rn
    FROM gpu_hourly h
    JOIN rollup_gpu_days d ON h.gpu_uuid = d.gpu_uuid AND CAST(h.hour AS DATE) = d.day
) r
WHERE h.host = r.host AND h.gpu_uuid = r.gpu_uuid AND h.source = r.source AND h.hour = r.hour;
DELETE FROM gpu_daily t USING rollup_gpu_days r
WHERE t.gpu_uuid = r.gpu_uuid AND t.day = r.day;
CREATE OR REPLACE TEMP TABLE rollup_gpu_day_hours AS
SELECT h.*, r.day
FROM gpu_hourly h
JOIN rollup_gpu_days r ON h.gpu_uuid = r.gpu_uuid AND CAST(h.hour AS DATE) = r.day;
INSERT INTO gpu_daily
SELECT
    a.host, a.gpu_uuid, a.day,
    coalesce(c.gpu_hours, 0), c.util_gpu_hours, coalesce(c.util_gpu_hours_n, 0),
    c.energy_j, coalesce(c.energy_hours_n, 0), a.pod, a.namespace
FROM (
    SELECT host, gpu_uuid, day, any_value(pod) AS pod, any_value(namespace) AS namespace
    FROM rollup_gpu_day_hours
    GROUP BY 1, 2, 3
) a
LEFT JOIN (
    SELECT host, gpu_uuid, day, count(*) AS gpu_hours,
           sum(util_gpu) AS util_gpu_hours, count(util_gpu) AS util_gpu_hours_n,
           sum(energy_j) AS energy_j, count(energy_j) AS energy_hours_n
    FROM rollup_gpu_day_hours
    WHERE counted
    GROUP BY 1, 2, 3
) c USING (host, gpu_uuid, day);
DROP TABLE rollup_gpu_day_hours;
DROP TABLE rollup_gpu_days;
