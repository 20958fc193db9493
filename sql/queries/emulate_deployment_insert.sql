-- Purpose: record an emulated endpoint as a deployment (labels carry emulated=true).
-- Grain: one row per emulated endpoint name. Upstream: none (written by emulate offline).
INSERT INTO deployments (
    deployment_id, model, parameter_count, active_parameter_count, quantization, engine,
    hardware, gpu_count, labels, updated_at
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now());
