-- metrics_series_all: every stored series with its labels, deployment and emulated flag, for
-- re-mapping series to deployments. Grain: one row per series. Upstream: metric_series.
SELECT series_id, metric, map_keys(labels), map_values(labels), deployment_id, emulated
FROM metric_series
ORDER BY series_id;
