-- 0001_data_model: the data model for every part of unitcost.
-- Later issues extend these tables with new migrations; they do not reinvent them.
-- Conventions: timestamps are TIMESTAMPTZ in UTC; money is DECIMAL (never DOUBLE);
-- durations measured by the client are raw perf_counter_ns integers; labels are MAP(VARCHAR, VARCHAR).

-- ---------------------------------------------------------------- deployments
-- Purpose: what model, engine, quantization and hardware serve where. One row per deployment.
CREATE TABLE deployments (
    deployment_id          VARCHAR PRIMARY KEY,
    model                  VARCHAR NOT NULL,
    parameter_count        BIGINT,               -- total parameters
    active_parameter_count BIGINT,               -- parameters used per token (MoE); NULL = dense
    quantization           VARCHAR NOT NULL DEFAULT 'unknown',
    engine                 VARCHAR NOT NULL DEFAULT 'unknown',
    hardware               VARCHAR NOT NULL DEFAULT 'unknown',  -- GPU model, e.g. H100
    gpu_count              INTEGER NOT NULL DEFAULT 1,
    price_ref              VARCHAR,              -- provider/region/instance_type in price_catalog
    labels                 MAP(VARCHAR, VARCHAR),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Purpose: how billing resources and metric series map to deployments.
-- Grain: one row per matching rule. match_key is the tag key or metric label name ('' otherwise).
CREATE TABLE deployment_resources (
    deployment_id VARCHAR NOT NULL,
    match_kind    VARCHAR NOT NULL CHECK (match_kind IN
                    ('resource_id', 'instance_type', 'tag', 'k8s_namespace', 'metric_label')),
    match_key     VARCHAR NOT NULL DEFAULT '',
    match_value   VARCHAR NOT NULL,
    PRIMARY KEY (deployment_id, match_kind, match_key, match_value)
);

-- ---------------------------------------------------------------- price catalog
-- Purpose: GPU instance prices. One row per (provider, region, instance_type, price_model, origin).
-- origin: 'shipped' (the dated table in the package), 'import' (prices import), 'config'.
-- The view price_catalog_effective picks config > import > shipped per instance.
CREATE TABLE price_catalog (
    provider                VARCHAR NOT NULL,
    region                  VARCHAR NOT NULL,
    instance_type           VARCHAR NOT NULL,
    price_model             VARCHAR NOT NULL,   -- on_demand, capacity_block, on_demand_vm_only, spot_only
    origin                  VARCHAR NOT NULL CHECK (origin IN ('shipped', 'import', 'config')),
    gpu_model               VARCHAR NOT NULL,
    gpu_count               INTEGER NOT NULL CHECK (gpu_count > 0),
    gpu_mem_gb              DOUBLE,             -- per GPU, GB
    on_demand_usd_per_hour  DECIMAL(18, 6),     -- whole instance, USD/hour
    spot_usd_per_hour_low   DECIMAL(18, 6),     -- whole instance, USD/hour, lowest seen
    spot_usd_per_hour_high  DECIMAL(18, 6),     -- whole instance, USD/hour, highest seen
    source                  VARCHAR NOT NULL,
    as_of                   VARCHAR NOT NULL,   -- as the source states it (a date or a period)
    verified                VARCHAR NOT NULL CHECK (verified IN ('true', 'false', 'partial')),
    caveat                  VARCHAR,            -- e.g. predates the June 2025 AWS P4/P5 price cut
    source_file             VARCHAR,
    source_row              INTEGER,
    PRIMARY KEY (provider, region, instance_type, price_model, origin)
);

-- ---------------------------------------------------------------- benchmarks
-- Purpose: one row per benchmark run (ours, or imported from vLLM/guidellm/AIPerf results).
CREATE TABLE bench_runs (
    run_id            VARCHAR PRIMARY KEY,
    name              VARCHAR,
    source            VARCHAR NOT NULL DEFAULT 'unitcost', -- unitcost, vllm, guidellm, aiperf
    status            VARCHAR NOT NULL CHECK (status IN
                        ('running', 'completed', 'interrupted', 'failed', 'imported')),
    started_at        TIMESTAMPTZ NOT NULL,  -- wall-clock anchor
    anchor_ns         BIGINT,                -- perf_counter_ns() taken at started_at
    ended_at          TIMESTAMPTZ,
    endpoint_url      VARCHAR,
    api               VARCHAR,               -- chat, completions
    model             VARCHAR,
    parameter_count   BIGINT,
    quantization      VARCHAR,
    engine            VARCHAR,
    hardware          VARCHAR,
    gpu_count         INTEGER,
    deployment_id     VARCHAR,
    price_ref         VARCHAR,
    emulated          BOOLEAN NOT NULL DEFAULT false, -- target was `unitcost emulate`
    load_profile      JSON,                  -- e.g. {"kind": "concurrency", "concurrency": 8}
    workload          JSON,                  -- token shapes, dataset, seed
    slo               JSON,                  -- {"ttft": 500, "tpot": 50} in ms
    labels            MAP(VARCHAR, VARCHAR),
    tool_version      VARCHAR NOT NULL,
    schema_version    INTEGER NOT NULL,
    python_version    VARCHAR,
    platform          VARCHAR,
    notes             VARCHAR
);

-- Purpose: one row per request of a run. Raw client timestamps only; every metric is derived
-- in one place (sql/views). All *_ns are time.perf_counter_ns() values of the run's process.
CREATE TABLE bench_requests (
    run_id          VARCHAR NOT NULL,
    request_id      INTEGER NOT NULL,
    phase           VARCHAR NOT NULL DEFAULT 'measure' CHECK (phase IN ('warmup', 'measure', 'cooldown')),
    scheduled_ns    BIGINT,            -- when the load profile wanted it sent
    dequeued_ns     BIGINT,            -- when it got a concurrency slot (client queue ends)
    sent_ns         BIGINT,            -- request written to the connection
    first_chunk_ns  BIGINT,            -- first chunk with non-empty content (never role-only)
    last_chunk_ns   BIGINT,            -- last chunk with content
    end_ns          BIGINT,            -- stream closed
    chunk_gaps_ns   BIGINT[],          -- gaps between consecutive content chunks
    content_chunks  INTEGER,
    prompt_tokens   INTEGER,
    output_tokens   INTEGER,
    token_source    VARCHAR,           -- usage, tokenize_endpoint, local_tokenizer, imported
    http_status     INTEGER,
    status          VARCHAR NOT NULL CHECK (status IN ('ok', 'error', 'cancelled', 'timeout')),
    error_class     VARCHAR,
    error_message   VARCHAR,
    finish_reason   VARCHAR,
    PRIMARY KEY (run_id, request_id)
);

-- ---------------------------------------------------------------- metrics
-- Purpose: raw metric samples from Prometheus range queries or direct /metrics scrapes.
-- Grain: one row per (source, metric, series, timestamp). series_key is the canonical
-- sorted label string, so the same series always has the same key.
CREATE TABLE metric_samples (
    source      VARCHAR NOT NULL,       -- Prometheus URL or scraped URL
    metric      VARCHAR NOT NULL,
    series_key  VARCHAR NOT NULL,
    labels      MAP(VARCHAR, VARCHAR),
    ts          TIMESTAMPTZ NOT NULL,
    value       DOUBLE NOT NULL,
    run_id      VARCHAR,                -- set when scraped during a benchmark run
    PRIMARY KEY (source, metric, series_key, ts)
);

-- Purpose: normalized per-interval figures for each deployment, engine-independent.
-- Grain: one row per (deployment_id, interval_start, interval_s).
CREATE TABLE metric_intervals (
    deployment_id        VARCHAR NOT NULL,
    interval_start       TIMESTAMPTZ NOT NULL,
    interval_s           INTEGER NOT NULL,
    engine               VARCHAR,
    input_tokens         DOUBLE,   -- counter increase over the interval
    output_tokens        DOUBLE,
    requests_ok          DOUBLE,
    requests_failed      DOUBLE,
    failed_by_reason     MAP(VARCHAR, DOUBLE),
    ttft_p50_s           DOUBLE,   -- from histograms
    ttft_p90_s           DOUBLE,
    ttft_p99_s           DOUBLE,
    itl_p50_s            DOUBLE,
    itl_p90_s            DOUBLE,
    itl_p99_s            DOUBLE,
    kv_cache_usage       DOUBLE,   -- 0-1 fraction, mean over interval
    requests_running     DOUBLE,   -- mean
    requests_waiting     DOUBLE,   -- mean
    gpu_util             DOUBLE,   -- 0-1 fraction, mean over the deployment's GPUs
    gpu_mem_used_bytes   DOUBLE,
    power_w              DOUBLE,   -- mean, summed over GPUs
    energy_j             DOUBLE,   -- energy used in the interval, summed over GPUs
    source               VARCHAR NOT NULL,
    PRIMARY KEY (deployment_id, interval_start, interval_s)
);

-- ---------------------------------------------------------------- GPUs
-- Purpose: direct GPU samples (NVML, nvidia-smi) and DCGM samples normalized to one shape.
CREATE TABLE gpu_samples (
    host              VARCHAR NOT NULL,
    gpu_uuid          VARCHAR NOT NULL,
    ts                TIMESTAMPTZ NOT NULL,
    source            VARCHAR NOT NULL,   -- nvml, nvidia-smi, dcgm
    gpu_index         INTEGER,
    gpu_model         VARCHAR,
    util_gpu          DOUBLE,   -- 0-1 fraction of time a kernel ran
    util_mem          DOUBLE,   -- 0-1 fraction of time memory was read or written
    mem_used_bytes    BIGINT,
    mem_total_bytes   BIGINT,
    power_w           DOUBLE,
    energy_mj         DOUBLE,   -- cumulative counter since driver load, millijoules
    sm_clock_mhz      DOUBLE,
    mem_clock_mhz     DOUBLE,
    temperature_c     DOUBLE,
    sm_active         DOUBLE,   -- 0-1, GPM / DCGM profiling, where supported
    tensor_active     DOUBLE,   -- 0-1
    dram_active       DOUBLE,   -- 0-1
    pod               VARCHAR,
    namespace         VARCHAR,
    PRIMARY KEY (host, gpu_uuid, ts, source)
);

-- ---------------------------------------------------------------- billing
-- Purpose: cloud billing line items in FOCUS shape (1.0-1.3 columns), from FOCUS exports,
-- AWS CUR (legacy and 2.0, mapped) and Cost Explorer. Grain: one row per source line item;
-- (source_file, source_row) is the lineage and the natural key.
CREATE TABLE billing_line_items (
    source_file                 VARCHAR NOT NULL,  -- path or s3:// URI, or ce:<query hash>
    source_row                  BIGINT NOT NULL,   -- 1-based data row in the source
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
    collector_run_id            VARCHAR,
    PRIMARY KEY (source_file, source_row)
);

-- ---------------------------------------------------------------- collector bookkeeping
-- Purpose: one row per collector invocation, for progress, audit and resumption.
CREATE TABLE collector_runs (
    collector_run_id  VARCHAR PRIMARY KEY,
    collector         VARCHAR NOT NULL,   -- prometheus, scrape, gpu, billing
    source            VARCHAR NOT NULL,
    started_at        TIMESTAMPTZ NOT NULL,
    ended_at          TIMESTAMPTZ,
    status            VARCHAR NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'interrupted')),
    rows_written      BIGINT NOT NULL DEFAULT 0,
    window_start      TIMESTAMPTZ,
    window_end        TIMESTAMPTZ,
    error             VARCHAR
);

-- Purpose: how far each source has been collected, so the next run resumes there.
CREATE TABLE watermarks (
    collector   VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    watermark   TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (collector, source)
);
