-- metrics_deployments_span: the first and last time any of the given deployments has a sample
-- (through its series) or a metric_intervals row, so a re-derivation covers both.
-- Grain: one row (min, max; NULL when there is nothing). Upstream: metric_series,
-- metric_points, metric_intervals. Parameters: $deps (deployment ids), $interval_s.
SELECT min(t0), max(t1)
FROM (
    SELECT min(p.ts) AS t0, max(p.ts) AS t1
    FROM metric_points p
    WHERE p.series_id IN (
        SELECT series_id FROM metric_series WHERE list_contains($deps, deployment_id))
    UNION ALL
    SELECT min(interval_start), max(interval_start)
    FROM metric_intervals
    WHERE list_contains($deps, deployment_id) AND interval_s = $interval_s
);
