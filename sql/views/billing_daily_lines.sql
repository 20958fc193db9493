-- billing_daily_lines: counted spend per UTC day with its tags kept, for allocation by label.
-- Grain: one row per stored daily part (billing_daily): source file, day, provider, billing
-- account, currency, attribution key (resource, instance type, tags), pricing and charge
-- category. Lines are spread over the days of their charge period (billing_line_days).
-- Upstream: billing_daily, billing_attr_keys, billing_attribution.
CREATE OR REPLACE VIEW billing_daily_lines AS
SELECT
    a.deployment_id,
    d.day,                                     -- UTC calendar day
    d.currency,
    d.provider,
    d.billing_account_id,
    d.pricing_category,                        -- Standard, Dynamic (spot), Committed, Other
    d.charge_category,                         -- Usage, Purchase, Tax, Credit, Adjustment
    k.tags,                                    -- JSON object of the lines' tags (NULL: none)
    d.billed_cost,                             -- cash, currency: the lines' shares of this day
    d.effective_cost,                          -- amortized, currency: the basis of unit costs
    d.line_items,                              -- line parts summed into this row
    k.resource_id,
    k.instance_type,
    a.matched_by,                              -- rule that attributed it; NULL when unmapped
    d.billing_period,
    d.source_file
FROM billing_daily d
JOIN billing_attr_keys k USING (attr_id)
JOIN billing_attribution a USING (attr_id);
