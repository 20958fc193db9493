-- kpi_cost_atoms_label: the cost parts of [start, end) split by the value of one billing tag,
-- for `unitcost kpi --by label:KEY` (unitcost.analytics.kpi); kpi_cost_atoms' columns.
-- Grain: one row per (deployment_id, day, currency, provider, cost_basis, label_value).
-- Upstream: billing_daily_lines (the same counted lines, spread over their days, that
-- billing_cost_by_deployment_daily sums: split finer, they add up to the same bill),
-- kpi_cost_daily (the estimated parts: no billing line, so no tag: label_value NULL).
-- Parameters: $start, $end (UTC days, end exclusive), $key (the tag's name, any text: it is
-- looked up in the tags as a map key, never spliced into a JSON path).
-- label_value: the line's value of tag $key (NULL when the line has no such tag).
SELECT deployment_id, day, currency, provider, 'billed' AS cost_basis,
       sum(billed_cost) AS billed_cost,
       sum(effective_cost) AS effective_cost,
       CAST(NULL AS VARCHAR) AS estimate_gap,
       from_json(tags, '"MAP(VARCHAR, VARCHAR)"')[$key] AS label_value
FROM billing_daily_lines
WHERE day >= $start AND day < $end
GROUP BY ALL
UNION ALL
SELECT deployment_id, day, currency, provider, cost_basis, billed_cost, effective_cost,
       estimate_gap, CAST(NULL AS VARCHAR) AS label_value
FROM kpi_cost_daily
WHERE cost_basis = 'estimated' AND day >= $start AND day < $end;
