-- demo_label_deployments: mark the demo's deployments as demo data (and emulated: their
-- telemetry is simulated), keeping labels other writers set. Upstream: deployments.
UPDATE deployments
SET labels = map_concat(coalesce(labels, MAP {}), MAP {'demo': 'true', 'emulated': 'true'})
WHERE starts_with(deployment_id, 'demo-');
