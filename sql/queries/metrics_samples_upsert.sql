-- metrics_samples_upsert: raw samples from the registered relations `new_samples` (metric,
-- series_key, ts, value) and `new_series` (labels once per series). Natural key source, metric,
-- series_key, ts: a sample collected twice is stored once. Parameters: source, run_id.
INSERT OR REPLACE INTO metric_samples (source, metric, series_key, labels, ts, value, run_id)
SELECT $1, s.metric, s.series_key, map(r.label_keys, r.label_values), s.ts, s.value, $2
FROM new_samples s
JOIN new_series r USING (metric, series_key);
