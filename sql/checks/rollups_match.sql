-- rollups_match: the rollup tables hold exactly the sums of what is stored (every writer
-- refreshes them in its transaction). Returns one row per rollup row that differs from a
-- recomputation of its definition (sql/queries/rollup_*.sql), or exists on one side only;
-- must return zero rows. Upstream: metric_intervals, metric_daily, metric_kv_hourly,
-- gpu_samples, gpu_hourly, gpu_daily.
WITH want_days AS (
    SELECT deployment_id, CAST(timezone('UTC', interval_start) AS DATE) AS day,
           round(coalesce(sum(output_tokens), 0), 3) AS output_tokens,
           round(coalesce(sum(input_tokens), 0), 3) AS input_tokens,
           sum(interval_s) AS observed_s
    FROM metric_intervals GROUP BY 1, 2
),
have_days AS (
    SELECT deployment_id, day, round(coalesce(output_tokens, 0), 3),
           round(coalesce(input_tokens, 0), 3), observed_s
    FROM metric_daily
),
want_hours AS (
    SELECT host, gpu_uuid, source, date_trunc('hour', timezone('UTC', ts)) AS hour,
           count(*) AS samples
    FROM gpu_samples GROUP BY 1, 2, 3, 4
),
have_hours AS (SELECT host, gpu_uuid, source, hour, samples FROM gpu_hourly),
want_kv AS (
    SELECT deployment_id, date_trunc('hour', timezone('UTC', interval_start)) AS hour,
           round(sum(kv_cache_usage * interval_s), 3) AS kv_usage_s,
           sum(interval_s) AS kv_observed_s
    FROM metric_intervals WHERE kv_cache_usage IS NOT NULL GROUP BY 1, 2
),
have_kv AS (
    SELECT deployment_id, hour, round(kv_usage_s, 3), kv_observed_s FROM metric_kv_hourly
),
want_gpu_days AS (
    SELECT a.host, a.gpu_uuid, a.day, coalesce(c.n, 0) AS gpu_hours
    FROM (SELECT DISTINCT host, gpu_uuid, CAST(hour AS DATE) AS day FROM gpu_hourly) a
    LEFT JOIN (
        SELECT host, gpu_uuid, CAST(hour AS DATE) AS day, count(*) AS n
        FROM (
            SELECT * FROM gpu_hourly
            QUALIFY row_number() OVER (
                PARTITION BY gpu_uuid, hour
                ORDER BY CASE source WHEN 'nvml' THEN 0 WHEN 'dcgm' THEN 1 ELSE 2 END
            ) = 1
        )
        GROUP BY 1, 2, 3
    ) c USING (host, gpu_uuid, day)
),
have_gpu_days AS (SELECT host, gpu_uuid, day, gpu_hours FROM gpu_daily),
miscounted AS (
    SELECT host, gpu_uuid, source, hour
    FROM gpu_hourly
    QUALIFY counted IS DISTINCT FROM (row_number() OVER (
        PARTITION BY gpu_uuid, hour
        ORDER BY CASE source WHEN 'nvml' THEN 0 WHEN 'dcgm' THEN 1 ELSE 2 END
    ) = 1)
)
SELECT 'metric_daily' AS rollup, deployment_id AS what, CAST(day AS VARCHAR) AS at_
FROM ((SELECT * FROM want_days EXCEPT SELECT * FROM have_days)
      UNION ALL (SELECT * FROM have_days EXCEPT SELECT * FROM want_days))
UNION ALL
SELECT 'gpu_hourly', host || '/' || gpu_uuid || '/' || source, CAST(hour AS VARCHAR)
FROM ((SELECT * FROM want_hours EXCEPT SELECT * FROM have_hours)
      UNION ALL (SELECT * FROM have_hours EXCEPT SELECT * FROM want_hours))
UNION ALL
SELECT 'metric_kv_hourly', deployment_id, CAST(hour AS VARCHAR)
FROM ((SELECT * FROM want_kv EXCEPT SELECT * FROM have_kv)
      UNION ALL (SELECT * FROM have_kv EXCEPT SELECT * FROM want_kv))
UNION ALL
SELECT 'gpu_daily', host || '/' || gpu_uuid, CAST(day AS VARCHAR)
FROM ((SELECT * FROM want_gpu_days EXCEPT SELECT * FROM have_gpu_days)
      UNION ALL (SELECT * FROM have_gpu_days EXCEPT SELECT * FROM want_gpu_days))
UNION ALL
SELECT 'gpu_hourly.counted', host || '/' || gpu_uuid || '/' || source, CAST(hour AS VARCHAR)
FROM miscounted;
