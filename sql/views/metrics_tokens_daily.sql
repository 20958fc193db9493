-- metrics_tokens_daily: tokens and requests per deployment and UTC day, from metric_intervals.
-- Grain: one row per (deployment_id, day). Upstream: metric_intervals.
-- success_rate = requests_ok / (requests_ok + requests_failed); NULL when no requests.
-- emulated: the day's figures come (at least in part) from `unitcost emulate` series.
CREATE OR REPLACE VIEW metrics_tokens_daily AS
SELECT
    deployment_id,
    CAST(timezone('UTC', interval_start) AS DATE) AS day,
    any_value(engine) AS engine,
    sum(input_tokens) AS input_tokens,         -- counter increases (resets handled)
    sum(output_tokens) AS output_tokens,
    sum(requests_ok) AS requests_ok,
    sum(requests_failed) AS requests_failed,
    sum(requests_ok) / nullif(sum(requests_ok) + sum(requests_failed), 0) AS success_rate,
    sum(energy_j) AS energy_j,                 -- joules
    bool_or(emulated) AS emulated,
    sum(prefix_cache_queries) AS prefix_cache_queries,  -- prompt tokens looked up in the cache
    sum(prefix_cache_hits) AS prefix_cache_hits         -- of those, tokens found there
FROM metric_intervals
GROUP BY ALL;
