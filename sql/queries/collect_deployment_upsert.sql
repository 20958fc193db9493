-- collect_deployment_upsert: one deployment from the config (natural key deployment_id).
-- The config owns what it names; labels are set by other writers (emulate: emulated=true, the
-- demo: demo=true) and are kept when the config is synced again.
-- Parameters: id, model, parameter_count, quantization, engine, hardware, gpu_count, price_ref.
INSERT INTO deployments (deployment_id, model, parameter_count, quantization, engine,
                         hardware, gpu_count, price_ref, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())
ON CONFLICT (deployment_id) DO UPDATE SET
    model = excluded.model,
    parameter_count = excluded.parameter_count,
    quantization = excluded.quantization,
    engine = excluded.engine,
    hardware = excluded.hardware,
    gpu_count = excluded.gpu_count,
    price_ref = excluded.price_ref,
    updated_at = excluded.updated_at;
