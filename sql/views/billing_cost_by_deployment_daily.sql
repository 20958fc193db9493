-- billing_cost_by_deployment_daily: spend per deployment, UTC day and currency.
-- Grain: one row per (deployment_id, day, currency, provider). Upstream: billing_attributed_lines.
-- 'unmapped' collects every line no rule claims, so the totals equal the bill's totals.
CREATE OR REPLACE VIEW billing_cost_by_deployment_daily AS
SELECT
    deployment_id,
    CAST(timezone('UTC', ChargePeriodStart) AS DATE) AS day,   -- UTC calendar day
    BillingCurrency AS currency,
    provider,                                  -- ServiceProviderName, else ProviderName
    sum(BilledCost) AS billed_cost,            -- cash
    sum(EffectiveCost) AS effective_cost,      -- amortized: the basis of unit costs
    sum(EffectiveCost) FILTER (WHERE PricingCategory = 'Dynamic') AS spot_effective_cost,
    sum(EffectiveCost) FILTER (WHERE PricingCategory = 'Committed') AS committed_effective_cost,
    count(*) AS line_items
FROM billing_attributed_lines
GROUP BY ALL;
