-- kpi_cost_atoms: the cost parts of [start, end) for unitcost.analytics.kpi.
-- Grain: one row per (deployment_id, day, currency, provider, cost_basis). Upstream:
-- kpi_cost_daily. Parameters: $start, $end (UTC days, end exclusive).
SELECT deployment_id, day, currency, provider, cost_basis, billed_cost, effective_cost,
       spot_effective_cost, committed_effective_cost, gpu_hours_estimated,
       estimate_price_ref, estimate_caveat, estimate_gap
FROM kpi_cost_daily
WHERE day >= $start AND day < $end;
