-- dashboard_cost_by_pricing: a period's allocated cost per deployment and currency, split by
-- how it was bought: on-demand (and other billed lines), spot, committed, and estimated.
-- Grain: one row per (deployment_id, currency). Upstream: kpi_cost_daily (the same daily cost
-- `unitcost kpi` sums, so the four parts add up to its effective_cost for --basis allocation),
-- deployments (model and hardware, for the sidebar filters). Parameters: $start, $end (UTC
-- days, end exclusive).
-- on_demand_cost = billed effective cost - spot - committed (FOCUS PricingCategory Standard or
-- none); spot_cost = PricingCategory Dynamic; committed_cost = Committed; estimated_cost =
-- GPU-hours x catalog price for days without billing lines. Money in the row's currency.
SELECT
    c.deployment_id,
    coalesce(d.model, '') AS model,
    coalesce(d.hardware, '') AS hardware,
    c.currency,
    sum(c.effective_cost) FILTER (WHERE c.cost_basis = 'billed')
        - coalesce(sum(c.spot_effective_cost) FILTER (WHERE c.cost_basis = 'billed'), 0)
        - coalesce(sum(c.committed_effective_cost) FILTER (WHERE c.cost_basis = 'billed'), 0)
        AS on_demand_cost,
    coalesce(sum(c.spot_effective_cost), 0) AS spot_cost,
    coalesce(sum(c.committed_effective_cost), 0) AS committed_cost,
    coalesce(sum(c.effective_cost) FILTER (WHERE c.cost_basis = 'estimated'), 0)
        AS estimated_cost,
    sum(c.effective_cost) AS effective_cost
FROM kpi_cost_daily c
LEFT JOIN deployments d USING (deployment_id)
WHERE c.day >= $start AND c.day < $end AND c.effective_cost IS NOT NULL
GROUP BY ALL
ORDER BY c.deployment_id, c.currency;
