-- demo_cleanup: forget everything a previous `unitcost demo` wrote, and nothing else, so a
-- second run replaces the demo data cleanly. Demo data is recognised by name: deployments,
-- scenarios and emulated GPU hosts start with `demo-` (`emulated-demo-`), bench runs carry the
-- label demo=true. Billing files are forgotten by unitcost.demo.cleanup (through the billing
-- ledger); collector runs and watermarks of the demo's own sources there too.
-- Upstream: every table below. Run in one transaction.
CREATE OR REPLACE TEMP TABLE demo_runs AS
SELECT run_id, group_id FROM bench_runs WHERE labels['demo'] = 'true';
DELETE FROM bench_requests WHERE run_id IN (SELECT run_id FROM demo_runs);
DELETE FROM bench_capacity WHERE group_id IN (SELECT group_id FROM demo_runs);
DELETE FROM metric_points WHERE run_id IN (SELECT run_id FROM demo_runs);
DELETE FROM bench_runs WHERE run_id IN (SELECT run_id FROM demo_runs);
DROP TABLE demo_runs;
DELETE FROM metric_points
WHERE series_id IN (SELECT series_id FROM metric_series WHERE starts_with(deployment_id, 'demo-'));
DELETE FROM metric_series WHERE starts_with(deployment_id, 'demo-');
DELETE FROM metric_intervals WHERE starts_with(deployment_id, 'demo-');
DELETE FROM metric_daily WHERE starts_with(deployment_id, 'demo-');
DELETE FROM metric_failures_daily WHERE starts_with(deployment_id, 'demo-');
DELETE FROM metric_hist_daily WHERE starts_with(deployment_id, 'demo-');
DELETE FROM metric_kv_hourly WHERE starts_with(deployment_id, 'demo-');
DELETE FROM gpu_samples WHERE starts_with(host, 'emulated-demo-');
DELETE FROM gpu_hourly WHERE starts_with(host, 'emulated-demo-');
DELETE FROM gpu_daily WHERE starts_with(host, 'emulated-demo-');
DELETE FROM recommendations WHERE starts_with(scenario, 'demo-');
DELETE FROM deployment_resources WHERE starts_with(deployment_id, 'demo-');
DELETE FROM deployments WHERE starts_with(deployment_id, 'demo-');
