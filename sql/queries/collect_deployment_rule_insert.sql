-- collect_deployment_rule_insert: one matching rule (natural key: all four columns).
-- Parameters: deployment_id, match_kind, match_key, match_value.
INSERT OR IGNORE INTO deployment_resources (deployment_id, match_kind, match_key, match_value)
VALUES (?, ?, ?, ?);
