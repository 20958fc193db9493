-- rollup_metric_days: recompute metric_daily, metric_failures_daily, metric_hist_daily and
-- metric_kv_hourly for the (deployment, UTC day) pairs of the registered relation rollup_days
-- (deployment_id, day, day_start, day_end as TIMESTAMPTZ), from metric_intervals. Run by
-- unitcost.collectors.rollups in the transaction that derived those intervals. These SELECTs are
-- the definitions of the daily sums (the kpi_* views only read the tables):
--   observed_s  seconds covered by interval rows (intervals are at least one sampling step long)
--   active_s    of those, in intervals with traffic (any token processed or request finished)
--   kv_usage_s  KV-cache fraction x seconds, over the intervals that report it (kv_observed_s)
--   histograms  bucket increases {le: observations <= le}, summed per bound
--   metric_kv_hourly  kv_usage_s and kv_observed_s per UTC hour of interval_start (hours with
--               a KV-cache figure only)
DELETE FROM metric_daily t USING rollup_days r
WHERE t.deployment_id = r.deployment_id AND t.day = r.day;
DELETE FROM metric_failures_daily t USING rollup_days r
WHERE t.deployment_id = r.deployment_id AND t.day = r.day;
DELETE FROM metric_hist_daily t USING rollup_days r
WHERE t.deployment_id = r.deployment_id AND t.day = r.day;
DELETE FROM metric_kv_hourly t USING rollup_days r
WHERE t.deployment_id = r.deployment_id AND t.day = r.day;
CREATE OR REPLACE TEMP TABLE rollup_intervals AS
SELECT i.*, r.day
FROM metric_intervals i
JOIN rollup_days r
  ON i.deployment_id = r.deployment_id
 AND i.interval_start >= r.day_start AND i.interval_start < r.day_end;
INSERT INTO metric_daily
SELECT
    deployment_id,
    day,
    any_value(engine),
    sum(input_tokens), sum(output_tokens), sum(requests_ok), sum(requests_failed),
    sum(interval_s),
    coalesce(sum(interval_s) FILTER (
        WHERE coalesce(input_tokens, 0) + coalesce(output_tokens, 0) > 0
           OR coalesce(requests_ok, 0) + coalesce(requests_failed, 0) > 0), 0),
    sum(kv_cache_usage * interval_s),
    coalesce(sum(interval_s) FILTER (WHERE kv_cache_usage IS NOT NULL), 0),
    sum(prefix_cache_queries), sum(prefix_cache_hits),
    bool_or(emulated)
FROM rollup_intervals
GROUP BY 1, 2;
INSERT INTO metric_failures_daily
SELECT deployment_id, day, reason, sum(n)
FROM (
    SELECT deployment_id, day, unnest(map_keys(failed_by_reason)) AS reason,
           unnest(map_values(failed_by_reason)) AS n
    FROM rollup_intervals WHERE failed_by_reason IS NOT NULL
)
GROUP BY 1, 2, 3;
INSERT INTO metric_hist_daily
SELECT deployment_id, day, kind, le, sum(n)
FROM (
    SELECT deployment_id, day, 'ttft' AS kind,
           unnest(map_keys(ttft_hist)) AS le, unnest(map_values(ttft_hist)) AS n
    FROM rollup_intervals WHERE ttft_hist IS NOT NULL
    UNION ALL
    SELECT deployment_id, day, 'itl', unnest(map_keys(itl_hist)), unnest(map_values(itl_hist))
    FROM rollup_intervals WHERE itl_hist IS NOT NULL
    UNION ALL
    SELECT deployment_id, day, 'e2e', unnest(map_keys(e2e_hist)), unnest(map_values(e2e_hist))
    FROM rollup_intervals WHERE e2e_hist IS NOT NULL
)
GROUP BY 1, 2, 3, 4;
INSERT INTO metric_kv_hourly
SELECT deployment_id, day, date_trunc('hour', timezone('UTC', interval_start)),
       sum(kv_cache_usage * interval_s), sum(interval_s)
FROM rollup_intervals
WHERE kv_cache_usage IS NOT NULL
GROUP BY 1, 2, 3;
DROP TABLE rollup_intervals;
