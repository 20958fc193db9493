-- metrics_points_delete_window: drop a source's samples in [lo, hi) before a range pull of that
-- window writes them again (metric_points has no index; this keeps (series_id, ts) unique and a
-- re-pull idempotent). Grain: samples. Upstream: metric_points, metric_series.
-- Parameters: $source, $lo, $hi.
DELETE FROM metric_points
WHERE ts >= $lo AND ts < $hi
  AND series_id IN (SELECT series_id FROM metric_series WHERE source = $source);
