-- bench_capacity_upsert: store (or restate) one SLO capacity decision. Natural key: (group_id,
-- target, scenario); deciding again for the same group replaces the row.
-- Upstream: unitcost.bench.capacity (a `--capacity` search or a suite scenario).
INSERT OR REPLACE INTO bench_capacity (
    group_id, kind, target, scenario, slo, slo_attainment, met, capacity_run_id, load_kind,
    capacity_offered_rate, capacity_concurrency, capacity_request_rate, capacity_goodput,
    capacity_output_tokens_per_s, usd_per_1m_output_tokens, model, hardware, quantization,
    engine, gpu_count, parameter_count, price_ref, emulated, endpoint_url, api, input_tokens,
    output_tokens, run_ids, decided_at
) VALUES (
    $group_id, $kind, $target, $scenario, CAST($slo AS JSON), $slo_attainment, $met,
    $capacity_run_id, $load_kind, $capacity_offered_rate, $capacity_concurrency,
    $capacity_request_rate, $capacity_goodput, $capacity_output_tokens_per_s,
    $usd_per_1m_output_tokens, $model, $hardware, $quantization, $engine, $gpu_count,
    $parameter_count, $price_ref, $emulated, $endpoint_url, $api, $input_tokens,
    $output_tokens, $run_ids::VARCHAR[], $decided_at
);
