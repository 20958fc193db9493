-- rollup_gpu_hours: recompute gpu_hourly for the GPUs (host, gpu_uuid, source) and UTC hours
-- of the registered relation new_gpu_samples, from gpu_samples. Run by
-- unitcost.collectors.rollups in the transaction that wrote those samples. These SELECTs are
-- the definitions of the hourly figures (gpu_utilization_hourly only reads the table):
--   util_gpu, sm_active, tensor_active, power_w   the mean of the hour's samples
--   mem_used_bytes_max                            the largest of the hour's samples
--   energy_j  the increase of the GPU's cumulative energy counter (mJ -> J) credited to the hour
--             of the later sample, as for any counter: e1 - e0, or e1 when e1 < e0 (the counter
--             restarted); pairs more than a day apart are not paired. NULL without a counter.
CREATE OR REPLACE TEMP TABLE rollup_gpus AS
SELECT host, gpu_uuid, source,
       date_trunc('hour', min(ts)) AS lo,                       -- first hour touched
       date_trunc('hour', max(ts)) + INTERVAL 1 HOUR AS hi      -- first hour after
FROM new_gpu_samples
GROUP BY ALL;
DELETE FROM gpu_hourly t USING rollup_gpus g
WHERE t.host = g.host AND t.gpu_uuid = g.gpu_uuid AND t.source = g.source
  AND t.hour >= timezone('UTC', g.lo) AND t.hour < timezone('UTC', g.hi);
INSERT INTO gpu_hourly (host, gpu_uuid, source, hour, gpu_model, util_gpu, sm_active,
                        tensor_active, mem_used_bytes_max, power_w, energy_j, samples, pod,
                        namespace)                 -- counted: set by rollup_gpu_days
SELECT
    host, gpu_uuid, source, date_trunc('hour', timezone('UTC', ts)),
    any_value(gpu_model), avg(util_gpu), avg(sm_active), avg(tensor_active),
    max(mem_used_bytes), avg(power_w),
    sum(CASE WHEN energy_mj IS NULL OR prev_mj IS NULL OR ts - prev_ts > INTERVAL 1 DAY THEN NULL
             WHEN energy_mj >= prev_mj THEN energy_mj - prev_mj ELSE energy_mj END) / 1000.0,
    count(*), any_value(pod), any_value(namespace)
FROM (
    SELECT s.*, g.lo,
           lag(s.energy_mj IGNORE NULLS) OVER w AS prev_mj,
           lag(CASE WHEN s.energy_mj IS NOT NULL THEN s.ts END IGNORE NULLS) OVER w AS prev_ts
    FROM gpu_samples s
    JOIN rollup_gpus g
      ON s.host = g.host AND s.gpu_uuid = g.gpu_uuid AND s.source = g.source
     AND s.ts >= g.lo - INTERVAL 1 DAY AND s.ts < g.hi
    WINDOW w AS (PARTITION BY s.host, s.gpu_uuid, s.source ORDER BY s.ts)
)
WHERE ts >= lo
GROUP BY 1, 2, 3, 4;
DROP TABLE rollup_gpus;
