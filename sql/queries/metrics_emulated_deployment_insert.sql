-- metrics_emulated_deployment_insert: the deployment an emulated endpoint stands for, from the
-- emulator's info gauge (`unitcost_emulated{unitcost_deployment, model, ...}`), when no
-- deployment of that id exists yet (a configured one is never overwritten). So a week
-- backfilled into Prometheus and pulled back lands under the deployment `emulate offline` made.
-- Grain: one row per new emulated deployment. Upstream: emulated_info (registered by
-- collectors.metric_store: deployment_id, model, parameter_count, active_parameter_count,
-- quantization, engine, hardware, gpu_count), deployments.
INSERT INTO deployments (deployment_id, model, parameter_count, active_parameter_count,
                         quantization, engine, hardware, gpu_count, labels, updated_at)
SELECT deployment_id, model, parameter_count, active_parameter_count, quantization, engine,
       hardware, gpu_count, MAP {'emulated': 'true', 'endpoint': deployment_id}, now()
FROM emulated_info
WHERE deployment_id NOT IN (SELECT deployment_id FROM deployments);
