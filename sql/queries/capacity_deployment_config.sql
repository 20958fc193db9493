-- capacity_deployment_config: the config a deployment runs, to look its capacity up.
-- Grain: one row (or none) per deployment_id. Upstream: deployments.
SELECT model, quantization, engine, hardware, gpu_count
FROM deployments
WHERE deployment_id = $deployment_id;
