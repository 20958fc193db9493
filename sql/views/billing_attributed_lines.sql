-- billing_attributed_lines: the deployment each counted billing line belongs to.
-- Grain: one row per billing_line_items row (every stored line counts: lines of deliveries that
-- were replaced are deleted when they are, see collectors/billing_ledger.py).
-- Upstream: billing_lines, billing_attr_keys, billing_attribution (rules and precedence there).
-- A line no rule claims has deployment_id 'unmapped' and matched_by NULL.
CREATE OR REPLACE VIEW billing_attributed_lines AS
SELECT
    b.source_file,
    b.source_row,
    coalesce(a.deployment_id, 'unmapped') AS deployment_id,
    a.matched_by,                              -- NULL when unmapped
    b.ChargePeriodStart,
    b.ChargePeriodEnd,
    b.BillingCurrency,
    b.BilledCost,                              -- cash, BillingCurrency
    b.EffectiveCost,                           -- amortized, BillingCurrency
    b.PricingCategory,
    b.ChargeCategory,
    b.provider,                                -- ServiceProviderName (FOCUS 1.3), else ProviderName
    b.billing_account_id,
    b.billing_period
FROM billing_lines b
LEFT JOIN billing_attr_keys k
  ON k.resource_id IS NOT DISTINCT FROM b.ResourceId
 AND k.instance_type IS NOT DISTINCT FROM b.x_InstanceType
 AND CAST(k.tags AS VARCHAR) IS NOT DISTINCT FROM CAST(b.Tags AS VARCHAR)
LEFT JOIN billing_attribution a USING (attr_id);
