-- collect_deployment_upsert: one deployment from the config (natural key deployment_id).
-- Parameters: id, model, parameter_count, quantization, engine, hardware, gpu_count, price_ref.
INSERT OR REPLACE INTO deployments (deployment_id, model, parameter_count, quantization, engine,
                                    hardware, gpu_count, price_ref, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, now());
