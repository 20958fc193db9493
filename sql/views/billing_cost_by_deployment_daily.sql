-- billing_cost_by_deployment_daily: spend per deployment, UTC day, currency and provider.
-- Grain: one row per (deployment_id, day, currency, provider). Upstream: billing_daily_lines.
-- Only lines that count (each delivery once; exports over Cost Explorer), each spread over the
-- days of its charge period (a monthly fee gives every day of the month its share, exactly).
-- 'unmapped' collects every line no rule claims, so the totals equal the bill's totals.
CREATE OR REPLACE VIEW billing_cost_by_deployment_daily AS
SELECT
    deployment_id,
    day,                                       -- UTC calendar day
    currency,
    provider,                                  -- ServiceProviderName, else ProviderName
    sum(billed_cost) AS billed_cost,           -- cash
    sum(effective_cost) AS effective_cost,     -- amortized: the basis of unit costs
    sum(effective_cost) FILTER (WHERE pricing_category = 'Dynamic') AS spot_effective_cost,
    sum(effective_cost) FILTER (WHERE pricing_category = 'Committed') AS committed_effective_cost,
    sum(line_items) AS line_items              -- line parts on this day (a monthly line counts on each)
FROM billing_daily_lines
GROUP BY deployment_id, day, currency, provider;
