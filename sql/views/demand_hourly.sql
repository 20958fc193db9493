-- demand_hourly: requests each deployment received, hour by hour, from its traffic metrics.
-- Grain: one row per (deployment_id, hour) with data. Upstream: metric_intervals, at each
-- deployment's finest interval length only (two granularities of the same traffic would
-- count it twice). A partly covered hour's rate is over the seconds it covers.
CREATE OR REPLACE VIEW demand_hourly AS
WITH finest AS (
    SELECT deployment_id, min(interval_s) AS interval_s
    FROM metric_intervals
    GROUP BY deployment_id
)
SELECT
    m.deployment_id,
    date_trunc('hour', m.interval_start) AS hour,                       -- UTC
    sum(coalesce(m.requests_ok, 0) + coalesce(m.requests_failed, 0)) AS requests,
    sum(coalesce(m.output_tokens, 0)) AS output_tokens,
    sum(m.interval_s) AS covered_s,                                     -- seconds with data
    sum(coalesce(m.requests_ok, 0) + coalesce(m.requests_failed, 0))
        / sum(m.interval_s) AS rps                                      -- mean requests/s
FROM metric_intervals AS m
JOIN finest AS f USING (deployment_id, interval_s)
GROUP BY m.deployment_id, date_trunc('hour', m.interval_start);
