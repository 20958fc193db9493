-- billing_counted_once: money counted twice. Pairs of different deliveries that both count for
-- the same (provider, billing account, billing period, part) while one is Cost Explorer and the
-- other an export, or their charge periods overlap. Must return zero rows.
-- Grain: one row per pair. Upstream: billing_delivery_periods.
SELECT a.provider, a.billing_account_id, a.billing_period, a.part_key,
       a.example_file AS one_file, b.example_file AS other_file
FROM billing_delivery_periods a
JOIN billing_delivery_periods b USING (provider, billing_account_id, billing_period, part_key)
WHERE a.delivery_id < b.delivery_id
  AND (a.is_cost_explorer <> b.is_cost_explorer
       OR (a.charge_start < b.charge_end AND b.charge_start < a.charge_end));
