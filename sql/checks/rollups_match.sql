-- rollups_match: the rollup tables hold exactly the sums of what is stored (every writer
-- refreshes them in its transaction). Returns one row per rollup row that differs from a
-- recomputation of its definition (sql/queries/rollup_*.sql), or exists on one side only;
-- must return zero rows. Upstream: metric_intervals, metric_daily, gpu_samples, gpu_hourly.
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
have_hours AS (SELECT host, gpu_uuid, source, hour, samples FROM gpu_hourly)
SELECT 'metric_daily' AS rollup, deployment_id AS what, CAST(day AS VARCHAR) AS at_
FROM ((SELECT * FROM want_days EXCEPT SELECT * FROM have_days)
      UNION ALL (SELECT * FROM have_days EXCEPT SELECT * FROM want_days))
UNION ALL
SELECT 'gpu_hourly', host || '/' || gpu_uuid || '/' || source, CAST(hour AS VARCHAR)
FROM ((SELECT * FROM want_hours EXCEPT SELECT * FROM have_hours)
      UNION ALL (SELECT * FROM have_hours EXCEPT SELECT * FROM want_hours));
