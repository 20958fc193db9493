-- gpu_owners: the deployment each GPU belongs to, by the deployments' match rules: its host or
-- Kubernetes pod equal to a `resource_id` rule, its namespace equal to a `k8s_namespace` rule, or
-- for emulated telemetry the deployment it was emulated for (host `emulated-<deployment_id>`).
-- Precedence: resource id (host, then pod), namespace, emulated; ties go to the first id.
-- A GPU no rule claims has deployment_id 'gpu-host:<host>' (its own row, never dropped).
-- Grain: one row per (host, gpu_uuid). Upstream: gpu_daily (gpu_samples' daily rollup),
-- deployment_resources, deployments.
CREATE OR REPLACE VIEW gpu_owners AS
WITH gpus AS (
    SELECT host, gpu_uuid, any_value(pod) AS pod, any_value(namespace) AS namespace
    FROM gpu_daily                             -- the daily rollup: one row per GPU-day
    GROUP BY host, gpu_uuid
),
claims AS (
    SELECT g.host, g.gpu_uuid, r.deployment_id,
           CASE WHEN r.match_kind = 'resource_id' AND r.match_value = g.host THEN 1
                WHEN r.match_kind = 'resource_id' THEN 2 ELSE 3 END AS precedence
    FROM gpus g
    JOIN deployment_resources r
      ON (r.match_kind = 'resource_id' AND r.match_value IN (g.host, g.pod))
      OR (r.match_kind = 'k8s_namespace' AND r.match_value = g.namespace)
    UNION ALL
    SELECT g.host, g.gpu_uuid, d.deployment_id, 4
    FROM gpus g
    JOIN deployments d
      ON d.labels['emulated'] = 'true' AND g.host = 'emulated-' || d.deployment_id
)
SELECT
    g.host,
    g.gpu_uuid,
    coalesce(c.deployment_id, 'gpu-host:' || g.host) AS deployment_id,
    c.deployment_id IS NOT NULL AS matched
FROM gpus g
LEFT JOIN (
    SELECT * FROM claims
    QUALIFY row_number() OVER (PARTITION BY host, gpu_uuid ORDER BY precedence, deployment_id) = 1
) c USING (host, gpu_uuid);
