-- metrics_intervals_upsert: one normalized interval row (natural key deployment_id,
-- interval_start, interval_s). Parameters in intervals.to_record order.
INSERT OR REPLACE INTO metric_intervals (
    deployment_id, interval_start, interval_s, engine, input_tokens, output_tokens,
    requests_ok, requests_failed, failed_by_reason, ttft_p50_s, ttft_p90_s, ttft_p99_s,
    itl_p50_s, itl_p90_s, itl_p99_s, kv_cache_usage, requests_running, requests_waiting,
    gpu_util, gpu_mem_used_bytes, power_w, energy_j, source
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, map(CAST(? AS VARCHAR[]), CAST(? AS DOUBLE[])), ?, ?, ?, ?, ?,
          ?, ?, ?, ?, ?, ?, ?, ?, ?);
