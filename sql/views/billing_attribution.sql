-- billing_attribution: the deployment each attribution key belongs to.
-- Grain: one row per billing_attr_keys row. Upstream: billing_attr_keys, deployment_resources.
-- Rules by precedence: resource_id (exact ResourceId), tag (Tags key = value), k8s_namespace
-- (tag k8s_namespace, kubernetes_namespace, aws:eks:namespace or namespace), instance_type
-- (x_InstanceType); ties go to the first deployment_id. A key no rule claims is 'unmapped',
-- matched_by NULL. Applied to the distinct keys (thousands), not to every line (millions).
CREATE OR REPLACE VIEW billing_attribution AS
WITH matches AS (
    SELECT k.attr_id, r.deployment_id, r.match_kind,
           CASE r.match_kind WHEN 'resource_id' THEN 1 WHEN 'tag' THEN 2
                WHEN 'k8s_namespace' THEN 3 ELSE 4 END AS precedence
    FROM billing_attr_keys k
    JOIN deployment_resources r ON
        (r.match_kind = 'resource_id' AND k.resource_id = r.match_value)
        OR (r.match_kind = 'instance_type' AND k.instance_type = r.match_value)
        OR (r.match_kind = 'tag'
            AND json_extract_string(k.tags, '$."' || r.match_key || '"') = r.match_value)
        OR (r.match_kind = 'k8s_namespace' AND r.match_value IN (
            json_extract_string(k.tags, '$.k8s_namespace'),
            json_extract_string(k.tags, '$.kubernetes_namespace'),
            json_extract_string(k.tags, '$."aws:eks:namespace"'),
            json_extract_string(k.tags, '$.namespace')))
),
best AS (
    SELECT * FROM matches
    QUALIFY row_number() OVER (PARTITION BY attr_id ORDER BY precedence, deployment_id) = 1
)
SELECT
    k.attr_id,
    coalesce(best.deployment_id, 'unmapped') AS deployment_id,
    best.match_kind AS matched_by              -- NULL when unmapped
FROM billing_attr_keys k
LEFT JOIN best USING (attr_id);
