-- billing_lines: every stored billing line with the keys that decide whether it counts.
-- Grain: one row per billing_line_items row. Upstream: billing_line_items.
-- A later delivery replaces an earlier one per (provider, billing_account_id, billing_period):
-- the one place these keys are computed (the loader's slices and supersessions read them here).
-- Time-zone independent: dates come from epoch microseconds (UTC, whatever the session's
-- TimeZone, and without a time zone lookup per row).
CREATE OR REPLACE VIEW billing_lines AS
SELECT
    *,
    coalesce(ServiceProviderName, ProviderName, '') AS provider,
    coalesce(BillingAccountId, '') AS billing_account_id,
    -- first day of the billing period: BillingPeriodStart, else the month of the charge
    -- (1970-01-01 for a line with neither: refused by the loader since 0006, kept if older)
    CAST(coalesce(make_timestamp(epoch_us(BillingPeriodStart)),
                  date_trunc('month', make_timestamp(epoch_us(ChargePeriodStart))),
                  TIMESTAMP '1970-01-01') AS DATE) AS billing_period
FROM billing_line_items;
