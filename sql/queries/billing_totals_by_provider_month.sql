-- billing_totals_by_provider_month: billed (cash) and effective (amortized) cost per provider
-- and calendar month of ChargePeriodStart (UTC), for one source file; used to reconcile a load
-- with its file. Grain: one row per (provider, month). Parameter: source_file.
SELECT
    coalesce(ServiceProviderName, ProviderName, '') AS provider,
    strftime(ChargePeriodStart AT TIME ZONE 'UTC', '%Y-%m') AS month,
    sum(BilledCost) AS billed_cost,        -- BillingCurrency
    sum(EffectiveCost) AS effective_cost   -- BillingCurrency, amortized
FROM billing_line_items
WHERE source_file = ?
GROUP BY ALL
ORDER BY ALL;
