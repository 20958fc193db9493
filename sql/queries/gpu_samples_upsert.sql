-- gpu_samples_upsert: one GPU sample (natural key host, gpu_uuid, ts, source).
-- Parameters in collectors.gpu.GpuSample field order (= gpu_samples column order).
INSERT OR REPLACE INTO gpu_samples (
    host, gpu_uuid, ts, source, gpu_index, gpu_model, util_gpu, util_mem, mem_used_bytes,
    mem_total_bytes, power_w, energy_mj, sm_clock_mhz, mem_clock_mhz, temperature_c,
    sm_active, tensor_active, dram_active, pod, namespace
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
