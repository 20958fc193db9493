-- kpi_cost_atoms: the cost parts of [start, end) for unitcost.analytics.kpi (the columns its
-- sums use; kpi_cost_daily has the rest: spot and committed parts, the estimates' price refs).
-- Grain: one row per (deployment_id, day, currency, provider, cost_basis). Upstream:
-- kpi_cost_daily. Parameters: $start, $end (UTC days, end exclusive).
SELECT deployment_id, day, currency, provider, cost_basis, billed_cost, effective_cost,
       estimate_gap
FROM kpi_cost_daily
WHERE day >= $start AND day < $end;
