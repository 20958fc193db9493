-- metrics_intervals_delete: drop the metric_intervals rows a derivation is about to recompute
-- (metrics_intervals_derive), in the same transaction. Grain: rows of the given deployments,
-- interval length and starts in [lo, hi). Upstream: metric_intervals.
-- Parameters: $deps (deployment ids), $lo, $hi, $interval_s.
DELETE FROM metric_intervals
WHERE list_contains($deps, deployment_id)
  AND interval_s = $interval_s
  AND interval_start >= $lo AND interval_start < $hi;
