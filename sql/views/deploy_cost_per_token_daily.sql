-- deploy_cost_per_token_daily: what a token cost per deployment and UTC day, billed spend
-- (amortized) over the tokens the deployment's metrics counted.
-- Grain: one row per (deployment_id, day, currency). Upstream: billing_cost_by_deployment_daily,
-- metric_intervals (token sums as in metrics_tokens_daily, inlined because views are created in
-- name order). Unmapped spend appears as deployment 'unmapped' with no tokens.
CREATE OR REPLACE VIEW deploy_cost_per_token_daily AS
SELECT
    coalesce(c.deployment_id, t.deployment_id) AS deployment_id,
    coalesce(c.day, t.day) AS day,
    c.currency,
    c.effective_cost,                          -- amortized cost, currency
    t.input_tokens,
    t.output_tokens,
    c.effective_cost * 1e6 / nullif(t.output_tokens, 0) AS cost_per_1m_output_tokens,
    c.effective_cost * 1e6 / nullif(t.input_tokens + t.output_tokens, 0) AS cost_per_1m_tokens
FROM billing_cost_by_deployment_daily c
FULL OUTER JOIN (
    SELECT deployment_id, CAST(timezone('UTC', interval_start) AS DATE) AS day,
           sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens
    FROM metric_intervals
    GROUP BY ALL
) t
    ON c.deployment_id = t.deployment_id AND c.day = t.day;
