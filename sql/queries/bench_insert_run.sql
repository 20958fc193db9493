-- bench_insert_run: the bench_runs row of a new run, written before any load starts.
-- Upstream: unitcost.bench.runrow (ours) and unitcost.bench.importers (peers' results).
INSERT INTO bench_runs (
    run_id, name, source, status, started_at, anchor_ns, endpoint_url, api, model,
    parameter_count, quantization, engine, hardware, gpu_count, deployment_id, price_ref,
    emulated, load_profile, workload, slo, labels, tool_version, schema_version,
    python_version, platform, notes, group_id, slo_attainment, whole_instance, percentiles,
    client_pid, client_host, client_start_ticks
) VALUES (
    $run_id, $name, $source, $status, $started_at, $anchor_ns, $endpoint_url, $api, $model,
    $parameter_count, $quantization, $engine, $hardware, $gpu_count, $deployment_id, $price_ref,
    $emulated, CAST($load_profile AS JSON), CAST($workload AS JSON), CAST($slo AS JSON),
    map($label_keys::VARCHAR[], $label_values::VARCHAR[]), $tool_version, $schema_version,
    $python_version, $platform, $notes, $group_id, $slo_attainment, $whole_instance,
    $percentiles::DOUBLE[], $client_pid, $client_host, $client_start_ticks
);
