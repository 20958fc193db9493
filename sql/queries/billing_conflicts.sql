-- billing_conflicts: pairs of different deliveries that both count for the same (provider,
-- billing account, billing period, part) and cannot both stand: one is Cost Explorer and the
-- other an export, or their charge periods overlap. Only keys touched by the given deliveries.
-- Grain: one row per pair (a: the smaller delivery id). Upstream: billing_delivery_periods.
-- Parameter: list of delivery ids.
WITH touched AS (
    SELECT DISTINCT provider, billing_account_id, billing_period, part_key
    FROM billing_delivery_periods
    WHERE list_contains($1, delivery_id)
)
SELECT a.provider, a.billing_account_id, a.billing_period, a.part_key,
       a.delivery_id, a.charge_start, a.charge_end, a.delivered_at, a.is_cost_explorer,
       a.example_file,
       b.delivery_id, b.charge_start, b.charge_end, b.delivered_at, b.is_cost_explorer,
       b.example_file
FROM billing_delivery_periods a
JOIN billing_delivery_periods b USING (provider, billing_account_id, billing_period, part_key)
SEMI JOIN touched USING (provider, billing_account_id, billing_period, part_key)
WHERE a.delivery_id < b.delivery_id
  AND (a.is_cost_explorer <> b.is_cost_explorer
       OR (a.charge_start < b.charge_end AND b.charge_start < a.charge_end))
ORDER BY a.billing_period, a.provider, a.billing_account_id, a.part_key, a.delivery_id,
         b.delivery_id;
