-- gpu_samples_natural_key_unique: (host, gpu_uuid, ts, source) identifies a GPU sample;
-- writers replace rows by deleting them first (the table has no index since 0005).
-- Must return zero rows. Upstream: gpu_samples.
SELECT host, gpu_uuid, ts, source, count(*) AS copies
FROM gpu_samples
GROUP BY host, gpu_uuid, ts, source
HAVING count(*) > 1;
