-- billing_line_days: each billing line spread over the UTC days its charge period touches, in
-- proportion to time, exactly. Grain: one row per (source_file, source_row, day).
-- Upstream: billing_lines.
-- Rule: a line of cost C over [start, end) gives day d the share
--   floor_to_1e-10(C * upto(d_end) / T) - floor_to_1e-10(C * upto(d_start) / T)
-- where T = end - start and upto(t) is the time from start to min(max(t, start), end), all in
-- microseconds (the cost in units of 1e-10, integer arithmetic). A line within one day is
-- its own share. The shares telescope: they add up to C to the last stored digit (1e-10), and
-- each is within 1e-10 of the exact proportional share. A partial first or last day gets its
-- share of the time; a zero-length line, or one without an end, falls whole on its start day.
-- (Integer division truncates toward zero; the sum is exact whatever the sign of C.)
CREATE OR REPLACE VIEW billing_line_days AS
WITH spans AS NOT MATERIALIZED (
    SELECT
        source_file, source_row, provider, billing_account_id, billing_period,
        BillingCurrency AS currency, ResourceId AS resource_id, x_InstanceType AS instance_type,
        Tags AS tags, PricingCategory AS pricing_category, ChargeCategory AS charge_category,
        ChargePeriodStart, ChargePeriodEnd, BilledCost, EffectiveCost,
        epoch_us(ChargePeriodStart) AS s_us,
        CASE WHEN ChargePeriodEnd > ChargePeriodStart THEN epoch_us(ChargePeriodEnd) END AS e_us,
        CAST(make_timestamp(epoch_us(ChargePeriodStart)) AS DATE) AS first_day,
        CAST(make_timestamp(epoch_us(ChargePeriodEnd) - 1) AS DATE) AS last_day
    FROM billing_lines
),
parts AS (  -- a line within one day is its own share (nearly every line: no list, no unnest)
    SELECT *, true AS whole, first_day AS day
    FROM spans
    WHERE e_us IS NULL OR last_day = first_day
    UNION ALL
    SELECT *, false AS whole,
        unnest(CAST(range(first_day, last_day + 1, INTERVAL 1 DAY) AS DATE[])) AS day
    FROM spans
    WHERE e_us IS NOT NULL AND last_day <> first_day
),
shares AS (
    SELECT *,
        e_us - s_us AS span_us,
        least(e_us, epoch_us(CAST(day AS TIMESTAMP)) + 86400000000) - s_us AS upto_end,
        greatest(s_us, epoch_us(CAST(day AS TIMESTAMP))) - s_us AS upto_start
    FROM parts
)
SELECT
    source_file, source_row, day,                 -- day: UTC calendar day
    provider, billing_account_id, billing_period, currency, resource_id, instance_type, tags,
    pricing_category, charge_category, ChargePeriodStart, ChargePeriodEnd,
    CASE WHEN whole THEN BilledCost ELSE CAST(CAST(
            CAST(BilledCost * 10000000000 AS HUGEINT) * upto_end // span_us
            - CAST(BilledCost * 10000000000 AS HUGEINT) * upto_start // span_us
         AS DECIMAL(38, 0)) * CAST('0.0000000001' AS DECIMAL(11, 10)) AS DECIMAL(38, 10))
    END AS billed_cost,                           -- this day's share, BillingCurrency
    CASE WHEN whole THEN EffectiveCost ELSE CAST(CAST(
            CAST(EffectiveCost * 10000000000 AS HUGEINT) * upto_end // span_us
            - CAST(EffectiveCost * 10000000000 AS HUGEINT) * upto_start // span_us
         AS DECIMAL(38, 0)) * CAST('0.0000000001' AS DECIMAL(11, 10)) AS DECIMAL(38, 10))
    END AS effective_cost                         -- this day's share, BillingCurrency, amortized
FROM shares;
