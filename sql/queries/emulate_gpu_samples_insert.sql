-- Purpose: bulk-insert offline emulated DCGM-style GPU samples from the frame emulate_rows.
-- Grain: one row per (host, gpu_uuid, ts, source). Upstream: emulate_rows, a pandas frame.
-- util_gpu is a 0-1 fraction, power_w watts, energy_mj a cumulative millijoule counter.
INSERT OR REPLACE INTO gpu_samples (
    host, gpu_uuid, ts, source, gpu_index, gpu_model, util_gpu, mem_used_bytes,
    mem_total_bytes, power_w, energy_mj
)
SELECT host, gpu_uuid, ts, source, gpu_index, gpu_model, util_gpu, mem_used_bytes,
       mem_total_bytes, power_w, energy_mj
FROM emulate_rows;
