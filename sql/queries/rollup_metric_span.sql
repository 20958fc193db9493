-- rollup_metric_span: the first and last interval of each deployment, to rebuild its daily
-- rollups. Grain: one row per deployment_id. Upstream: metric_intervals.
SELECT deployment_id, min(interval_start), max(interval_start)
FROM metric_intervals
GROUP BY deployment_id
ORDER BY deployment_id;
