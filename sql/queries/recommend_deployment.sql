-- recommend_deployment: a stored deployment's config, for a scenario that names it.
-- Grain: one row (or none) per deployment_id. Upstream: deployments.
SELECT deployment_id, model, parameter_count, quantization, engine, hardware, gpu_count,
       price_ref
FROM deployments
WHERE deployment_id = $deployment_id;
