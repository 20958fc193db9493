-- billing_insert_ce: one Cost Explorer result row as a FOCUS-shaped line item.
-- Grain: one row per (billing account, period, group). source_file = ce:<account>:<start>..<end>
-- (one per period: the latest pull of a period replaces the earlier, whatever its grouping).
-- BilledCost = UnblendedCost, EffectiveCost = AmortizedCost (both in BillingCurrency).
INSERT INTO billing_line_items (
    source_file, source_row, source_format, ChargePeriodStart, ChargePeriodEnd,
    BillingPeriodStart, BilledCost, EffectiveCost, BillingCurrency, ConsumedQuantity,
    ConsumedUnit, ProviderName, ServiceName, x_InstanceType, x_UsageType, RegionId,
    SubAccountId, PricingCategory, Tags, x_Extensions, collector_run_id, BillingAccountId
) VALUES (?, ?, 'cost-explorer', ?, ?, date_trunc('month', CAST(? AS TIMESTAMPTZ)), ?, ?, ?, ?,
          ?, 'AWS', ?, ?, ?, ?, ?, ?, CAST(? AS JSON), CAST(? AS JSON), ?, ?);
