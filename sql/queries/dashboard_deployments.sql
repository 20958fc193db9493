-- dashboard_deployments: the deployments the sidebar filters offer, with what they run.
-- Grain: one row per deployment. Upstream: deployments (from config or `emulate offline`).
SELECT deployment_id, model, hardware, quantization, engine, gpu_count, price_ref
FROM deployments
ORDER BY deployment_id;
