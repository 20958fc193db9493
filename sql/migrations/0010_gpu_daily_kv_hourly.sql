-- 0010_gpu_daily_kv_hourly: two more rollups kept in step with every write (and the GPU-hours
-- that count marked in gpu_hourly), so a page's KPIs and
-- the /utilization heatmaps read thousands of rows, not the hourly GPU rollup (~2,200 rows per
-- GPU and quarter) or the metric intervals (~130k per deployment and quarter).
-- Written only by unitcost.collectors.rollups, in the transaction that writes the rows they sum;
-- sql/queries/rollup_*.sql hold the definitions from now on, and sql/checks/rollups_match.sql
-- verifies the tables equal them.

-- gpu_hourly.counted: whether the row is the GPU-hour that counts. Where two collectors saw one
-- GPU's hour, one source counts (NVML, else DCGM, else nvidia-smi), so the same hour and its
-- energy are never added twice; set for every row by the rollup that writes the hour.
ALTER TABLE gpu_hourly ADD COLUMN counted BOOLEAN;
UPDATE gpu_hourly h SET counted = (r.rn = 1)
FROM (
    SELECT host, gpu_uuid, source, hour,
           row_number() OVER (
               PARTITION BY gpu_uuid, hour
               ORDER BY CASE source WHEN 'nvml' THEN 0 WHEN 'dcgm' THEN 1 ELSE 2 END
           ) AS rn
    FROM gpu_hourly
) r
WHERE h.host = r.host AND h.gpu_uuid = r.gpu_uuid AND h.source = r.source AND h.hour = r.hour;

-- Purpose: the GPU-hours that count (gpu_hourly.counted), summed per GPU and UTC day.
-- Grain: (host, gpu_uuid, day); a GPU seen on a day only by a source that does not count has a
-- row with gpu_hours 0 (its pod and namespace still say which deployment owns it).
CREATE TABLE gpu_daily (
    host             VARCHAR NOT NULL,
    gpu_uuid         VARCHAR NOT NULL,
    day              DATE NOT NULL,         -- UTC calendar day
    gpu_hours        BIGINT NOT NULL,       -- counted GPU-hours with samples
    util_gpu_hours   DOUBLE,                -- sum of the counted hours' mean utilization (0-1)
    util_gpu_hours_n BIGINT NOT NULL,       -- counted hours with a utilization figure
    energy_j         DOUBLE,                -- J, the counted hours' counter increases
    energy_hours_n   BIGINT NOT NULL,       -- counted hours with an energy figure
    pod              VARCHAR,               -- any of the day's pods (any source)
    namespace        VARCHAR,
    PRIMARY KEY (host, gpu_uuid, day)
);
-- Purpose: KV-cache use per deployment and UTC hour, for the hour-of-day x weekday heatmap.
-- Grain: (deployment_id, hour); only hours with a KV-cache figure. day: the hour's UTC day (the
-- key metric_daily's refresh deletes by).
CREATE TABLE metric_kv_hourly (
    deployment_id  VARCHAR NOT NULL,
    day            DATE NOT NULL,
    hour           TIMESTAMP NOT NULL,      -- UTC, naive: the hour interval_start falls in
    kv_usage_s     DOUBLE NOT NULL,         -- KV-cache fraction x seconds
    kv_observed_s  BIGINT NOT NULL,         -- seconds with a KV-cache figure
    PRIMARY KEY (deployment_id, hour)
);

INSERT INTO gpu_daily
SELECT
    a.host, a.gpu_uuid, a.day,
    coalesce(c.gpu_hours, 0), c.util_gpu_hours, coalesce(c.util_gpu_hours_n, 0),
    c.energy_j, coalesce(c.energy_hours_n, 0), a.pod, a.namespace
FROM (
    SELECT host, gpu_uuid, CAST(hour AS DATE) AS day, any_value(pod) AS pod,
           any_value(namespace) AS namespace
    FROM gpu_hourly
    GROUP BY 1, 2, 3
) a
LEFT JOIN (
    SELECT host, gpu_uuid, CAST(hour AS DATE) AS day, count(*) AS gpu_hours,
           sum(util_gpu) AS util_gpu_hours, count(util_gpu) AS util_gpu_hours_n,
           sum(energy_j) AS energy_j, count(energy_j) AS energy_hours_n
    FROM gpu_hourly
    WHERE counted
    GROUP BY 1, 2, 3
) c USING (host, gpu_uuid, day);

INSERT INTO metric_kv_hourly
SELECT
    deployment_id,
    CAST(timezone('UTC', interval_start) AS DATE),
    date_trunc('hour', timezone('UTC', interval_start)),
    sum(kv_cache_usage * interval_s),
    sum(interval_s)
FROM metric_intervals
WHERE kv_cache_usage IS NOT NULL
GROUP BY 1, 2, 3;
