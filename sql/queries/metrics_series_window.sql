-- metrics_series_window: the labels of each series of one source with samples in [start, end).
-- Grain: one row per (metric, series_key). Parameters: source, start, end.
SELECT metric, series_key, any_value(map_keys(labels)), any_value(map_values(labels))
FROM metric_samples
WHERE source = ? AND ts >= ? AND ts < ?
GROUP BY metric, series_key;
