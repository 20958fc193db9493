-- billing_azure_overlap: another Azure EA export, of the other kind (actual vs amortized, or
-- an export of unknown kind), already holding usage of the same billing account and days as the
-- file just inserted. Both kinds list the same usage rows, so keeping both would count that
-- usage twice. Grain: one row per other file (at most 5). Parameter: source_file of the new file.
-- Upstream: billing_line_items.
WITH new AS (
    SELECT DISTINCT source_format, BillingAccountId,
           CAST(timezone('UTC', ChargePeriodStart) AS DATE) AS day
    FROM billing_line_items
    WHERE source_file = $1
)
SELECT o.source_file, any_value(o.source_format) AS source_format, count(*) AS rows
FROM billing_line_items AS o
JOIN new
  ON o.BillingAccountId IS NOT DISTINCT FROM new.BillingAccountId
 AND CAST(timezone('UTC', o.ChargePeriodStart) AS DATE) = new.day
WHERE o.source_file <> $1
  AND o.source_format IN ('azure-ea-actual', 'azure-ea-amortized', 'azure-ea')
  AND o.source_format <> new.source_format
GROUP BY o.source_file
ORDER BY o.source_file
LIMIT 5;
