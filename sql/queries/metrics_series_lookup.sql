-- metrics_series_lookup: the stored id, deployment and emulated flag of each series of a batch
-- (those already known). Grain: one row per known batch series. Upstream: batch_series
-- (registered by collectors.metric_store: idx, metric, series_key, ...), metric_series.
-- Parameter: $source.
SELECT b.idx, s.series_id, s.deployment_id, s.emulated
FROM batch_series b
JOIN metric_series s
  ON s.source = $source AND s.metric = b.metric AND s.series_key = b.series_key;
