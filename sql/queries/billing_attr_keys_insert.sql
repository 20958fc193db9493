-- billing_attr_keys_insert: add the attribution keys (resource, instance type, tags) of one
-- file's lines that are not known yet, numbered after the largest id. Grain: one row per new key.
-- Upstream: billing_line_items. Parameter: source_file.
INSERT INTO billing_attr_keys (attr_id, resource_id, instance_type, tags)
SELECT
    (SELECT coalesce(max(attr_id), 0) FROM billing_attr_keys)
        + row_number() OVER (ORDER BY n.resource_id, n.instance_type, n.tags),
    n.resource_id, n.instance_type, CAST(n.tags AS JSON)
FROM (
    SELECT DISTINCT ResourceId AS resource_id, x_InstanceType AS instance_type,
           CAST(Tags AS VARCHAR) AS tags
    FROM billing_line_items
    WHERE source_file = ?
) AS n
ANTI JOIN billing_attr_keys k
  ON k.resource_id IS NOT DISTINCT FROM n.resource_id
 AND k.instance_type IS NOT DISTINCT FROM n.instance_type
 AND CAST(k.tags AS VARCHAR) IS NOT DISTINCT FROM n.tags;
