-- 0006_billing_counted_once: every billing figure counted once and on the right days.
--
-- billing_files gains what a file is (content hash), which delivery it belongs to and when that
-- was delivered, and, when it does not count, what replaced it and why. billing_file_periods
-- records each file's share of a (provider, billing account, billing period): the unit in which
-- a later delivery replaces an earlier one. billing_daily is the daily rollup the billing views
-- read (lines spread over the UTC days of their charge period), kept in step with each load in
-- the same transaction; billing_attr_keys holds each distinct (resource, instance type, tags)
-- once, so deployment rules are applied to thousands of keys instead of millions of lines.
-- Lines of deliveries that no longer count are deleted from billing_line_items and billing_daily;
-- their totals stay in billing_file_periods.

ALTER TABLE billing_files ALTER COLUMN source_format DROP NOT NULL;  -- NULL: never read (set aside by its manifest)
ALTER TABLE billing_files ADD COLUMN content_hash VARCHAR;   -- sha256 of the file's bytes; NULL: not read
ALTER TABLE billing_files ADD COLUMN delivery_id VARCHAR;    -- files of one delivery (parts) share it
ALTER TABLE billing_files ADD COLUMN delivered_at TIMESTAMPTZ;  -- manifest / run time, else the file's modification time
ALTER TABLE billing_files ADD COLUMN superseded_by VARCHAR;  -- NULL while any of it counts; else the file or manifest that replaces it
ALTER TABLE billing_files ADD COLUMN reason VARCHAR;         -- why it does not count

-- Purpose: each file's lines per (provider, billing account, billing period): what a later
-- delivery of the same account and period replaces. Grain: one row per (source_file, provider,
-- billing_account_id, billing_period, part_key). Upstream: billing_line_items at load time.
CREATE TABLE billing_file_periods (
    source_file         VARCHAR NOT NULL,
    provider            VARCHAR NOT NULL,  -- coalesce(ServiceProviderName, ProviderName, '')
    billing_account_id  VARCHAR NOT NULL,  -- '' when the lines carry none
    billing_period      DATE NOT NULL,     -- BillingPeriodStart (UTC date), else the month of ChargePeriodStart
    part_key            VARCHAR NOT NULL,  -- incremental reports (Oracle): the file name; '' otherwise
    delivery_id         VARCHAR NOT NULL,
    charge_start        TIMESTAMPTZ,       -- earliest ChargePeriodStart
    charge_end          TIMESTAMPTZ,       -- latest ChargePeriodEnd (exclusive; start + 1 us for zero-length lines)
    line_items          BIGINT NOT NULL,
    billed_cost         DECIMAL(38, 10),   -- as loaded, BillingCurrency (kept when superseded)
    effective_cost      DECIMAL(38, 10),
    superseded_by       VARCHAR,           -- NULL: counts
    reason              VARCHAR,
    PRIMARY KEY (source_file, provider, billing_account_id, billing_period, part_key)
);

-- Purpose: each distinct attribution key of billing lines once. Grain: one row per
-- (resource_id, instance_type, tags). Upstream: billing_line_items at load time.
CREATE TABLE billing_attr_keys (
    attr_id        BIGINT PRIMARY KEY,
    resource_id    VARCHAR,
    instance_type  VARCHAR,
    tags           JSON
);

-- Purpose: what the billing views read. Grain: one row per (source_file, slice, UTC day,
-- currency, attribution key, pricing and charge category); each line contributes its exact
-- share of every day its charge period touches (sql/views/billing_line_days.sql). No index:
-- rows are replaced per file or slice, in the transaction that loads or supersedes it.
CREATE TABLE billing_daily (
    source_file         VARCHAR NOT NULL,
    provider            VARCHAR NOT NULL,
    billing_account_id  VARCHAR NOT NULL,
    billing_period      DATE NOT NULL,
    day                 DATE,              -- UTC day; NULL for lines without ChargePeriodStart
    currency            VARCHAR,
    attr_id             BIGINT NOT NULL,
    pricing_category    VARCHAR,
    charge_category     VARCHAR,
    billed_cost         DECIMAL(38, 10),   -- sum of the lines' shares of this day, BillingCurrency
    effective_cost      DECIMAL(38, 10),
    line_items          BIGINT NOT NULL    -- line parts summed here
);

-- ---------------------------------------------------------------- carry existing data
-- Cost Explorer rows were never recorded as files: record each stored period as one.
INSERT INTO billing_files (source_file, source_format, fingerprint, rows_loaded, extra_columns,
                           loaded_at, collector_run_id)
SELECT source_file, 'cost-explorer', 'migrated', count(*), [], now(), any_value(collector_run_id)
FROM billing_line_items
WHERE source_file NOT IN (SELECT source_file FROM billing_files)
GROUP BY source_file;

-- Each file loaded before this migration is its own delivery, delivered when it was loaded
-- (a Cost Explorer period: when its pull started).
UPDATE billing_files SET delivery_id = 'file:' || source_file, delivered_at = loaded_at;
UPDATE billing_files AS f SET delivered_at = r.started_at
FROM (SELECT source_file, any_value(collector_run_id) AS run_id FROM billing_line_items
      WHERE source_format = 'cost-explorer' GROUP BY source_file) AS c
JOIN collector_runs r ON r.collector_run_id = c.run_id
WHERE f.source_file = c.source_file;

-- Slices, attribution keys and the daily rollup of the existing lines (the rules of
-- sql/views/billing_lines.sql and billing_line_days.sql as they were when this migration
-- was written).
CREATE TEMP TABLE migrated_lines AS
SELECT
    source_file, source_row, ResourceId, x_InstanceType, CAST(Tags AS VARCHAR) AS tags,
    coalesce(ServiceProviderName, ProviderName, '') AS provider,
    coalesce(BillingAccountId, '') AS billing_account_id,
    CAST(coalesce(make_timestamp(epoch_us(BillingPeriodStart)),
                  date_trunc('month', make_timestamp(epoch_us(ChargePeriodStart))),
                  TIMESTAMP '1970-01-01') AS DATE) AS billing_period,  -- neither: 1970-01-01
    ChargePeriodStart, ChargePeriodEnd, BillingCurrency, PricingCategory, ChargeCategory,
    BilledCost, EffectiveCost
FROM billing_line_items;

INSERT INTO billing_file_periods
SELECT source_file, provider, billing_account_id, billing_period,
       CASE WHEN provider = 'Oracle' THEN regexp_extract(source_file, '[^/]*$') ELSE '' END,
       'file:' || source_file,
       min(ChargePeriodStart),
       max(CASE WHEN ChargePeriodEnd > ChargePeriodStart THEN ChargePeriodEnd
                ELSE ChargePeriodStart + INTERVAL 1 MICROSECOND END),
       count(*), sum(BilledCost), sum(EffectiveCost), NULL, NULL
FROM migrated_lines
GROUP BY ALL;

-- Cost Explorer periods were keyed by query shape, so two groupings of one period both
-- counted: of the periods with the same charge span, the latest pull counts.
CREATE TEMP TABLE migrated_ce_losers AS
WITH ce AS (
    SELECT p.source_file, p.charge_start, p.charge_end, f.delivered_at
    FROM billing_file_periods p JOIN billing_files f USING (source_file)
    WHERE f.source_format = 'cost-explorer'
)
SELECT source_file, winner FROM (
    SELECT source_file,
           first_value(source_file) OVER (PARTITION BY charge_start, charge_end
                                          ORDER BY delivered_at DESC, source_file DESC) AS winner
    FROM ce
)
WHERE source_file <> winner;

UPDATE billing_file_periods AS p
SET superseded_by = l.winner,
    reason = 'replaced by a later Cost Explorer pull of the same period (migration 0006)'
FROM migrated_ce_losers l WHERE p.source_file = l.source_file;
UPDATE billing_files AS f
SET superseded_by = l.winner,
    reason = 'replaced by a later Cost Explorer pull of the same period (migration 0006)'
FROM migrated_ce_losers l WHERE f.source_file = l.source_file;
DELETE FROM billing_line_items WHERE source_file IN (SELECT source_file FROM migrated_ce_losers);
DELETE FROM migrated_lines WHERE source_file IN (SELECT source_file FROM migrated_ce_losers);
DROP TABLE migrated_ce_losers;

INSERT INTO billing_attr_keys
SELECT row_number() OVER (ORDER BY ResourceId, x_InstanceType, tags), ResourceId, x_InstanceType,
       CAST(tags AS JSON)
FROM (SELECT DISTINCT ResourceId, x_InstanceType, tags FROM migrated_lines);

INSERT INTO billing_daily
WITH spans AS (
    SELECT *,
           epoch_us(ChargePeriodStart) AS s_us,
           CASE WHEN ChargePeriodEnd > ChargePeriodStart THEN epoch_us(ChargePeriodEnd) END AS e_us,
           CAST(make_timestamp(epoch_us(ChargePeriodStart)) AS DATE) AS first_day,
           CAST(make_timestamp(epoch_us(ChargePeriodEnd) - 1) AS DATE) AS last_day
    FROM migrated_lines
),
parts AS (
    SELECT *, true AS whole, first_day AS day FROM spans
    WHERE e_us IS NULL OR last_day = first_day
    UNION ALL
    SELECT *, false AS whole,
           unnest(CAST(range(first_day, last_day + 1, INTERVAL 1 DAY) AS DATE[])) AS day
    FROM spans
    WHERE e_us IS NOT NULL AND last_day <> first_day
),
shares AS (
    SELECT *,
           e_us - s_us AS span_us,
           least(e_us, epoch_us(CAST(day AS TIMESTAMP)) + 86400000000) - s_us AS upto_end,
           greatest(s_us, epoch_us(CAST(day AS TIMESTAMP))) - s_us AS upto_start
    FROM parts
)
SELECT s.source_file, s.provider, s.billing_account_id, s.billing_period, s.day, s.BillingCurrency,
       k.attr_id, s.PricingCategory, s.ChargeCategory,
       sum(CASE WHEN s.whole THEN s.BilledCost ELSE CAST(CAST(
               CAST(s.BilledCost * 10000000000 AS HUGEINT) * s.upto_end // s.span_us
               - CAST(s.BilledCost * 10000000000 AS HUGEINT) * s.upto_start // s.span_us
           AS DECIMAL(38, 0)) * CAST('0.0000000001' AS DECIMAL(11, 10)) AS DECIMAL(38, 10)) END),
       sum(CASE WHEN s.whole THEN s.EffectiveCost ELSE CAST(CAST(
               CAST(s.EffectiveCost * 10000000000 AS HUGEINT) * s.upto_end // s.span_us
               - CAST(s.EffectiveCost * 10000000000 AS HUGEINT) * s.upto_start // s.span_us
           AS DECIMAL(38, 0)) * CAST('0.0000000001' AS DECIMAL(11, 10)) AS DECIMAL(38, 10)) END),
       count(*)
FROM shares s
JOIN billing_attr_keys k
  ON k.resource_id IS NOT DISTINCT FROM s.ResourceId
 AND k.instance_type IS NOT DISTINCT FROM s.x_InstanceType
 AND CAST(k.tags AS VARCHAR) IS NOT DISTINCT FROM s.tags
GROUP BY ALL;

DROP TABLE migrated_lines;
