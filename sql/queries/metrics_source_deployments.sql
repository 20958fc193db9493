-- metrics_source_deployments: the deployments a source's series count for (a range pull that
-- replaces a window re-derives all of them). Grain: one row per deployment.
-- Upstream: metric_series. Parameter: $source.
SELECT DISTINCT deployment_id FROM metric_series
WHERE source = $source AND deployment_id IS NOT NULL;
