-- bench_run_get: one bench_runs row by id or unique id prefix. Upstream: bench_runs.
SELECT run_id, name, source, status, CAST(started_at AS VARCHAR) AS started_at,
       CAST(ended_at AS VARCHAR) AS ended_at, anchor_ns, endpoint_url, api, model,
       parameter_count, quantization, engine, hardware, gpu_count, deployment_id, price_ref,
       emulated, CAST(load_profile AS VARCHAR) AS load_profile,
       CAST(workload AS VARCHAR) AS workload, CAST(slo AS VARCHAR) AS slo,
       CAST(to_json(labels) AS VARCHAR) AS labels, tool_version, schema_version, python_version,
       platform, notes, CAST(summary AS VARCHAR) AS summary, group_id, slo_attainment,
       whole_instance, percentiles, loop_lag_ns, client_pid, client_host, client_start_ticks,
       epoch_ms(started_at) AS started_ms                -- ms since the epoch (ages, end time)
FROM bench_runs
WHERE run_id LIKE $prefix || '%'
ORDER BY started_at;
