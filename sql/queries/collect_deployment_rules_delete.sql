-- collect_deployment_rules_delete: drop one deployment's matching rules before the config's are written.
-- Parameter: deployment_id.
DELETE FROM deployment_resources WHERE deployment_id = ?;
