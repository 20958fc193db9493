-- metrics_samples_window: raw samples of one source in [start, end), for interval computation.
-- Grain: one row per sample. Parameters: source, start, end.
SELECT metric, series_key, ts, value
FROM metric_samples
WHERE source = ? AND ts >= ? AND ts < ?
ORDER BY metric, series_key, ts;
