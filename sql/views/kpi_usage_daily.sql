-- kpi_usage_daily: what each deployment served per UTC day, as additive parts, so any period,
-- grain or grouping is a plain sum of days (ratios are formed only after summing).
-- Grain: one row per (deployment_id, day). Upstream: metric_intervals (counter increases per
-- interval, resets handled; definitions in collectors/intervals.py).
-- A second of telemetry is "observed" when an interval row covers it, "active" when its
-- interval served traffic (any token or finished request), else idle.
CREATE OR REPLACE VIEW kpi_usage_daily AS
SELECT
    -- Series no deployment rule claims are 'unmapped' in metric_intervals; here they are
    -- 'unmapped-telemetry', so they never meet the billing lines no rule claims ('unmapped').
    CASE deployment_id WHEN 'unmapped' THEN 'unmapped-telemetry' ELSE deployment_id END
        AS deployment_id,
    CAST(timezone('UTC', interval_start) AS DATE) AS day,       -- UTC calendar day
    any_value(engine) AS engine,
    sum(input_tokens) AS input_tokens,                         -- prompt tokens
    sum(output_tokens) AS output_tokens,                       -- generated tokens
    sum(requests_ok) AS requests_ok,
    sum(requests_failed) AS requests_failed,
    sum(interval_s) AS observed_s,                             -- seconds with telemetry
    sum(interval_s) FILTER (
        WHERE coalesce(input_tokens, 0) + coalesce(output_tokens, 0) > 0
           OR coalesce(requests_ok, 0) + coalesce(requests_failed, 0) > 0
    ) AS active_s,                                             -- seconds with traffic
    sum(kv_cache_usage * interval_s) AS kv_usage_s,            -- KV-cache fraction x seconds
    sum(interval_s) FILTER (WHERE kv_cache_usage IS NOT NULL) AS kv_observed_s,
    sum(prefix_cache_queries) AS prefix_cache_queries,         -- prompt tokens looked up
    sum(prefix_cache_hits) AS prefix_cache_hits,               -- of those, found (tokens)
    bool_or(emulated) AS emulated                              -- any emulated series
FROM metric_intervals
GROUP BY ALL;
