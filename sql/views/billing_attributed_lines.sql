-- billing_attributed_lines: the deployment each billing line item belongs to.
-- Grain: one row per billing_line_items row (none dropped). Upstream: billing_line_items,
-- deployment_resources. Rules by precedence: resource_id (exact ResourceId), tag (Tags key =
-- value), k8s_namespace (tag k8s_namespace, kubernetes_namespace, aws:eks:namespace or
-- namespace), instance_type (x_InstanceType); ties go to the first deployment_id.
-- A line no rule claims has deployment_id 'unmapped' and matched_by NULL.
CREATE OR REPLACE VIEW billing_attributed_lines AS
WITH matches AS (
    SELECT b.source_file, b.source_row, r.deployment_id, r.match_kind,
           CASE r.match_kind WHEN 'resource_id' THEN 1 WHEN 'tag' THEN 2
                WHEN 'k8s_namespace' THEN 3 ELSE 4 END AS precedence
    FROM billing_line_items b
    JOIN deployment_resources r ON
        (r.match_kind = 'resource_id' AND b.ResourceId = r.match_value)
        OR (r.match_kind = 'instance_type' AND b.x_InstanceType = r.match_value)
        OR (r.match_kind = 'tag'
            AND json_extract_string(b.Tags, '$."' || r.match_key || '"') = r.match_value)
        OR (r.match_kind = 'k8s_namespace' AND r.match_value IN (
            json_extract_string(b.Tags, '$.k8s_namespace'),
            json_extract_string(b.Tags, '$.kubernetes_namespace'),
            json_extract_string(b.Tags, '$."aws:eks:namespace"'),
            json_extract_string(b.Tags, '$.namespace')))
),
best AS (
    SELECT * FROM matches
    QUALIFY row_number() OVER (PARTITION BY source_file, source_row
                               ORDER BY precedence, deployment_id) = 1
)
SELECT
    b.source_file,
    b.source_row,
    coalesce(best.deployment_id, 'unmapped') AS deployment_id,
    best.match_kind AS matched_by,            -- NULL when unmapped
    b.ChargePeriodStart,
    b.ChargePeriodEnd,
    b.BillingCurrency,
    b.BilledCost,                              -- cash, BillingCurrency
    b.EffectiveCost,                           -- amortized, BillingCurrency
    b.PricingCategory,
    b.ChargeCategory,
    coalesce(b.ServiceProviderName, b.ProviderName) AS provider
FROM billing_line_items b
LEFT JOIN best USING (source_file, source_row);
