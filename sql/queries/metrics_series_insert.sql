-- metrics_series_insert: register the batch's new series (natural key source, metric,
-- series_key) and return their ids. Grain: one row per new series. Upstream: new_series
-- (registered by collectors.metric_store: idx, metric, series_key, label_keys, label_values,
-- deployment_id, emulated). Parameters: $source, $source_kind.
INSERT INTO metric_series (source, source_kind, metric, series_key, labels, deployment_id,
                           emulated)
SELECT $source, $source_kind, metric, series_key, map(label_keys, label_values), deployment_id,
       emulated
FROM new_series
ORDER BY idx
RETURNING series_id, metric, series_key;
