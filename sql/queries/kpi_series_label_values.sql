-- kpi_series_label_values: the values a metric label takes on each deployment's series, for
-- `unitcost kpi --by label:KEY` (a deployment's own key when no billing tag says it).
-- Grain: one row per (deployment_id, label_value). Upstream: metric_series.
-- Parameter: $key (the label's name).
SELECT DISTINCT deployment_id, labels[$key] AS label_value
FROM metric_series
WHERE deployment_id IS NOT NULL AND labels[$key] IS NOT NULL
ORDER BY ALL;
