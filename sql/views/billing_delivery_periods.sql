-- billing_delivery_periods: what each delivery counts for, per (provider, billing account,
-- billing period, part). Grain: one row per (delivery_id, provider, billing_account_id,
-- billing_period, part_key) that still counts. Upstream: billing_file_periods, billing_files.
-- Parts of one delivery (files of a CUR assembly, an export version, an Azure run) are one row.
CREATE OR REPLACE VIEW billing_delivery_periods AS
SELECT
    p.provider, p.billing_account_id, p.billing_period, p.part_key, p.delivery_id,
    min(p.charge_start) AS charge_start,        -- earliest charge
    max(p.charge_end) AS charge_end,            -- latest charge end (exclusive)
    max(f.delivered_at) AS delivered_at,
    bool_or(f.source_format = 'cost-explorer') AS is_cost_explorer,
    min(p.source_file) AS example_file,         -- one of its files, to name it
    count(*) AS files,
    sum(p.line_items) AS line_items,
    sum(p.billed_cost) AS billed_cost,
    sum(p.effective_cost) AS effective_cost
FROM billing_file_periods p
JOIN billing_files f USING (source_file)
WHERE p.superseded_by IS NULL
GROUP BY p.provider, p.billing_account_id, p.billing_period, p.part_key, p.delivery_id;
