-- 0007_recommendations: what `unitcost recommend` answered, kept with when it answered it.
-- Purpose: the dashboard's /tiers page and the quarterly review read the latest answer per
-- scenario without re-solving. Grain: one row per (recommend invocation, scenario).
-- Upstream: unitcost.analytics.recommend (the JSON of `recommend --format json`).
CREATE TABLE recommendations (
    run_id                 VARCHAR NOT NULL,      -- one per `recommend` invocation
    run_at                 TIMESTAMPTZ NOT NULL,  -- when it was solved (UTC)
    scenario               VARCHAR NOT NULL,
    status                 VARCHAR NOT NULL CHECK (status IN ('optimal', 'infeasible')),
    usd_per_hour           DECIMAL(18, 6),        -- the chosen fleet, USD/hour (NULL: infeasible)
    current_usd_per_hour   DECIMAL(18, 6),        -- the scenario's deployment today, USD/hour
    savings_usd_per_month  DECIMAL(18, 2),        -- (current - chosen) x 730 hours
    result                 JSON NOT NULL,         -- the scenario's object of the JSON output
    PRIMARY KEY (run_id, scenario)
);
