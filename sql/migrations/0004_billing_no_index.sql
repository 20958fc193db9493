-- 0004_billing_no_index: billing_line_items without the PRIMARY KEY index.
-- (source_file, source_row) stays the natural key, kept unique by construction: a file is
-- loaded in one transaction that first deletes every row of that file, and row numbers are
-- 1..n within it (sql/checks/billing_natural_key_unique.sql verifies). The ART index behind the
-- PRIMARY KEY cost memory and time in proportion to the rows of every file ever loaded (10M-row
-- exports), and it forbade numbering CSV rows after a parallel insert (see collectors/billing.py).
-- DuckDB cannot drop a constraint, so the table is rebuilt with the same columns and rows.
CREATE TABLE billing_line_items_0004 (
    source_file                 VARCHAR NOT NULL,  -- path or s3:// URI, or ce:<query hash>
    source_row                  BIGINT NOT NULL,   -- 1-based data row in the source (natural key with source_file)
    source_format               VARCHAR NOT NULL,  -- focus-1.0 ... focus-1.3, cur-legacy, cur-2.0, cost-explorer
    AvailabilityZone            VARCHAR,
    BilledCost                  DECIMAL(38, 10),   -- cash cost, BillingCurrency
    BillingAccountId            VARCHAR,
    BillingAccountName          VARCHAR,
    BillingAccountType          VARCHAR,
    BillingCurrency             VARCHAR,
    BillingPeriodEnd            TIMESTAMPTZ,
    BillingPeriodStart          TIMESTAMPTZ,
    CapacityReservationId       VARCHAR,
    CapacityReservationStatus   VARCHAR,
    ChargeCategory              VARCHAR,           -- Usage, Purchase, Tax, Credit, Adjustment
    ChargeClass                 VARCHAR,
    ChargeDescription           VARCHAR,
    ChargeFrequency             VARCHAR,
    ChargePeriodEnd             TIMESTAMPTZ,       -- exclusive
    ChargePeriodStart           TIMESTAMPTZ,
    CommitmentDiscountCategory  VARCHAR,
    CommitmentDiscountId        VARCHAR,
    CommitmentDiscountName      VARCHAR,
    CommitmentDiscountQuantity  DECIMAL(38, 10),
    CommitmentDiscountStatus    VARCHAR,
    CommitmentDiscountType      VARCHAR,
    CommitmentDiscountUnit      VARCHAR,
    ConsumedQuantity            DECIMAL(38, 10),
    ConsumedUnit                VARCHAR,
    ContractedCost              DECIMAL(38, 10),
    ContractedUnitPrice         DECIMAL(38, 10),
    EffectiveCost               DECIMAL(38, 10),   -- amortized cost: the basis of unit costs
    InvoiceId                   VARCHAR,
    InvoiceIssuerName           VARCHAR,
    ListCost                    DECIMAL(38, 10),
    ListUnitPrice               DECIMAL(38, 10),
    PricingCategory             VARCHAR,           -- Standard, Dynamic (spot), Committed, Other
    PricingCurrency             VARCHAR,
    PricingQuantity             DECIMAL(38, 10),
    PricingUnit                 VARCHAR,
    ProviderName                VARCHAR,           -- FOCUS <= 1.2
    PublisherName               VARCHAR,           -- FOCUS <= 1.2
    ServiceProviderName         VARCHAR,           -- FOCUS 1.3
    HostProviderName            VARCHAR,           -- FOCUS 1.3
    RegionId                    VARCHAR,
    RegionName                  VARCHAR,
    ResourceId                  VARCHAR,
    ResourceName                VARCHAR,
    ResourceType                VARCHAR,
    ServiceCategory             VARCHAR,
    ServiceName                 VARCHAR,
    ServiceSubcategory          VARCHAR,
    SkuId                       VARCHAR,
    SkuMeter                    VARCHAR,
    SkuPriceDetails             VARCHAR,
    SkuPriceId                  VARCHAR,
    SubAccountId                VARCHAR,
    SubAccountName              VARCHAR,
    SubAccountType              VARCHAR,
    Tags                        JSON,
    x_InstanceType              VARCHAR,           -- from CUR product/instanceType or FOCUS SkuPriceDetails
    x_UsageType                 VARCHAR,           -- CUR lineItem/UsageType
    x_Extensions                JSON,              -- every other column of the source, kept verbatim
    collector_run_id            VARCHAR
);

INSERT INTO billing_line_items_0004 SELECT * FROM billing_line_items;
DROP TABLE billing_line_items;
ALTER TABLE billing_line_items_0004 RENAME TO billing_line_items;
