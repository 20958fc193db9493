-- metrics_dcgm_gpu_samples: DCGM exporter series (pulled from Prometheus or scraped) as
-- gpu_samples rows, in gpu_samples' units, so DCGM-watched GPUs and GPUs sampled through NVML
-- land in one table. Grain: one row per (host, gpu_uuid, ts) seen in a DCGM series; a field
-- DCGM reports as unsupported (1e18 and above) is NULL. Upstream: new_points (registered by
-- collectors.metric_store: series_id, ts, value of the samples just written), metric_series.
-- The rows go to the relation's caller (gpu_samples_replace writes them).
SELECT
    coalesce(nullif(s.labels['host'], ''), s.labels['instance'], '') AS host,
    s.labels['gpu_uuid'] AS gpu_uuid,
    p.ts,
    'dcgm' AS source,
    TRY_CAST(any_value(s.labels['gpu_index']) AS INTEGER) AS gpu_index,
    any_value(s.labels['gpu_model']) AS gpu_model,
    max(p.value) FILTER (WHERE s.metric = 'DCGM_FI_DEV_GPU_UTIL' AND p.value < 1e18) * 0.01
        AS util_gpu,                                     -- percent -> 0-1
    max(p.value) FILTER (WHERE s.metric = 'DCGM_FI_DEV_MEM_COPY_UTIL' AND p.value < 1e18) * 0.01
        AS util_mem,
    CAST(trunc(max(p.value) FILTER (WHERE s.metric = 'DCGM_FI_DEV_FB_USED' AND p.value < 1e18)
               * 1048576) AS BIGINT) AS mem_used_bytes,  -- MiB -> bytes
    CAST(trunc(max(p.value) FILTER (WHERE s.metric = 'DCGM_FI_DEV_FB_TOTAL' AND p.value < 1e18)
               * 1048576) AS BIGINT) AS mem_total_bytes,
    max(p.value) FILTER (WHERE s.metric = 'DCGM_FI_DEV_POWER_USAGE' AND p.value < 1e18)
        AS power_w,
    max(p.value) FILTER (WHERE s.metric = 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION'
                         AND p.value < 1e18) AS energy_mj,  -- cumulative mJ
    max(p.value) FILTER (WHERE s.metric = 'DCGM_FI_DEV_SM_CLOCK' AND p.value < 1e18)
        AS sm_clock_mhz,
    max(p.value) FILTER (WHERE s.metric = 'DCGM_FI_DEV_MEM_CLOCK' AND p.value < 1e18)
        AS mem_clock_mhz,
    max(p.value) FILTER (WHERE s.metric = 'DCGM_FI_DEV_GPU_TEMP' AND p.value < 1e18)
        AS temperature_c,
    max(p.value) FILTER (WHERE s.metric = 'DCGM_FI_PROF_SM_ACTIVE' AND p.value < 1e18)
        AS sm_active,                                    -- already 0-1
    max(p.value) FILTER (WHERE s.metric = 'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE' AND p.value < 1e18)
        AS tensor_active,
    max(p.value) FILTER (WHERE s.metric = 'DCGM_FI_PROF_DRAM_ACTIVE' AND p.value < 1e18)
        AS dram_active,
    any_value(nullif(s.labels['pod'], '')) AS pod,
    any_value(nullif(s.labels['namespace'], '')) AS namespace
FROM new_points p
JOIN metric_series s USING (series_id)
WHERE s.metric IN (
        'DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_MEM_COPY_UTIL', 'DCGM_FI_DEV_FB_USED',
        'DCGM_FI_DEV_FB_TOTAL', 'DCGM_FI_DEV_POWER_USAGE', 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION',
        'DCGM_FI_DEV_SM_CLOCK', 'DCGM_FI_DEV_MEM_CLOCK', 'DCGM_FI_DEV_GPU_TEMP',
        'DCGM_FI_PROF_SM_ACTIVE', 'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', 'DCGM_FI_PROF_DRAM_ACTIVE')
  AND coalesce(s.labels['gpu_uuid'], '') <> ''
GROUP BY 1, 2, 3
