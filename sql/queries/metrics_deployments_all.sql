-- metrics_deployments_all: every deployment with series or interval rows (a full re-derivation
-- covers them all). Grain: one row per deployment. Upstream: metric_series, metric_intervals.
SELECT deployment_id FROM metric_series WHERE deployment_id IS NOT NULL
UNION
SELECT deployment_id FROM metric_intervals;
