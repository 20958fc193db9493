-- recommend_insert: store one scenario's answer of a `recommend` invocation.
-- Grain: one row per (run_id, scenario). Upstream: unitcost.analytics.recommend.
INSERT INTO recommendations (run_id, run_at, scenario, status, usd_per_hour,
                             current_usd_per_hour, savings_usd_per_month, result)
VALUES ($run_id, $run_at, $scenario, $status, $usd_per_hour, $current_usd_per_hour,
        $savings_usd_per_month, $result);
