-- metrics_samples_upsert: raw samples from the registered relation `new_samples` (natural key
-- source, metric, series_key, ts: a sample collected twice is stored once).
INSERT OR REPLACE INTO metric_samples (source, metric, series_key, labels, ts, value, run_id)
SELECT source, metric, series_key, map(label_keys, label_values), ts, value, run_id
FROM new_samples;
