-- gpu_samples_upsert: write the GPU samples of the registered relation new_gpu_samples (the
-- gpu_samples columns, in order), replacing rows with the same natural key (host, gpu_uuid,
-- ts, source): the table has no index, so the replaced rows are deleted first. Run both
-- statements in one transaction. Upstream: new_gpu_samples (NVML, nvidia-smi or DCGM rows).
DELETE FROM gpu_samples g
USING new_gpu_samples n
WHERE g.host = n.host AND g.gpu_uuid = n.gpu_uuid AND g.ts = n.ts AND g.source = n.source
  AND g.ts BETWEEN (SELECT min(ts) FROM new_gpu_samples) AND (SELECT max(ts) FROM new_gpu_samples);
INSERT INTO gpu_samples BY NAME
SELECT DISTINCT ON (host, gpu_uuid, ts, source) * FROM new_gpu_samples;  -- once per key
