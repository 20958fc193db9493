-- kpi_usage_daily: what each deployment served per UTC day, as additive parts, so any period,
-- grain or grouping is a plain sum of days (ratios are formed only after summing).
-- Grain: one row per (deployment_id, day). Upstream: metric_daily, the rollup of
-- metric_intervals kept in step with every write (definitions: sql/queries/rollup_metric_days.sql).
-- A second of telemetry is "observed" when an interval row covers it, "active" when its
-- interval served traffic (any token or finished request), else idle.
CREATE OR REPLACE VIEW kpi_usage_daily AS
SELECT
    -- Series no deployment rule claims are 'unmapped' in metric_intervals; here they are
    -- 'unmapped-telemetry', so they never meet the billing lines no rule claims ('unmapped').
    CASE deployment_id WHEN 'unmapped' THEN 'unmapped-telemetry' ELSE deployment_id END
        AS deployment_id,
    day,                                                       -- UTC calendar day
    engine,
    input_tokens,                                              -- prompt tokens
    output_tokens,                                             -- generated tokens
    requests_ok,
    requests_failed,
    observed_s,                                                -- seconds with telemetry
    active_s,                                                  -- seconds with traffic
    kv_usage_s,                                                -- KV-cache fraction x seconds
    kv_observed_s,
    prefix_cache_queries,                                      -- prompt tokens looked up
    prefix_cache_hits,                                         -- of those, found (tokens)
    emulated                                                   -- any emulated series
FROM metric_daily;
