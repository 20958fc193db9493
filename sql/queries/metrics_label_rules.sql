-- metrics_label_rules: the deployments' metric-label rules (`deployments[].match.metric_labels`,
-- written by `collect deployments`). Grain: one row per (deployment, label). A series belongs
-- to a deployment when it carries all of that deployment's labels. Upstream:
-- deployment_resources.
SELECT deployment_id, match_key, match_value
FROM deployment_resources
WHERE match_kind = 'metric_label'
ORDER BY deployment_id, match_key;
