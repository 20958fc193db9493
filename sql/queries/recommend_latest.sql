-- recommend_latest: the newest stored answer for each scenario, for the dashboard and review.
-- Grain: one row per scenario. Upstream: recommendations (migration 0007).
SELECT run_id, run_at, scenario, result
FROM recommendations
QUALIFY row_number() OVER (PARTITION BY scenario ORDER BY run_at DESC, run_id DESC) = 1
ORDER BY scenario;
