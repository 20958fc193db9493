-- kpi_deployments: what each deployment is (model, GPU, price) for grouping and estimates.
-- Grain: one row per deployments row. Upstream: deployments.
SELECT deployment_id, model, parameter_count, quantization, engine, hardware, gpu_count,
       price_ref, coalesce(labels, MAP {}) AS labels
FROM deployments
ORDER BY deployment_id;
