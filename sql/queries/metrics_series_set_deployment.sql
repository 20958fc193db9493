-- metrics_series_set_deployment: re-map series to deployments (after the rules changed, or for
-- series carried over by migration 0005 without one). Grain: one update per given series.
-- Upstream: series_deployments (registered by collectors.metric_store: series_id,
-- deployment_id).
UPDATE metric_series s
SET deployment_id = m.deployment_id
FROM series_deployments m
WHERE s.series_id = m.series_id;
