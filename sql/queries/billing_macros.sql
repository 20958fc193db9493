-- billing_macros: strict converters for billing text (temporary, per connection).
-- uc_try_ts: ISO 8601 with or without zone (naive = UTC), or US dates as FOCUS samples and
-- Azure exports write them (M/D/YYYY, M/D/YY); NULL when the text is none of these.
CREATE OR REPLACE TEMP MACRO uc_try_ts(x) AS CASE
    WHEN NOT contains(x, '/') THEN coalesce(
        try_cast(trim(x) AS TIMESTAMPTZ),
        CAST(try_strptime(trim(x), '%Y-%m-%dT%H:%MZ') AS TIMESTAMPTZ))
    WHEN regexp_matches(trim(x), '^\d{1,2}/\d{1,2}/\d{2}(\D|$)') THEN CAST(try_strptime(
        trim(x), ['%m/%d/%y %H:%M:%S', '%m/%d/%y %H:%M', '%m/%d/%y']) AS TIMESTAMPTZ)
    ELSE CAST(try_strptime(
        trim(x), ['%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y']) AS TIMESTAMPTZ)
    END;
-- uc_fast_ts: ISO 8601 text as it is (no trim), the shape nearly every export writes; NULL for
-- anything else, which then takes uc_try_ts's slower general path. US dates (with `/`) never
-- take it: the cast would read `4/1/25` as the year 4.
CREATE OR REPLACE TEMP MACRO uc_fast_ts(x) AS CASE
    WHEN NOT contains(x, '/') THEN try_cast(x AS TIMESTAMPTZ) END;
-- uc_ts: as uc_try_ts, but a value that is not a time aborts the statement (no silent NULLs).
-- The general path runs only for the rows the fast one left NULL (coalesce is lazy per row).
CREATE OR REPLACE TEMP MACRO uc_ts(x) AS coalesce(uc_fast_ts(x), CASE
    WHEN x IS NULL OR trim(x) = '' THEN NULL
    ELSE coalesce(uc_try_ts(x), error('not a timestamp: ' || x)) END);
-- uc_try_money: money text by unitcost's one rule (unitcost/money.py says why): optional spaces,
-- sign, digits with an optional '.' and decimals, optional exponent. DuckDB's cast reads exactly
-- that, plus digit underscores (`1_000`) and a '.' after an exponent (`5E5.`), which the rule
-- refuses (tests/unit/core/test_money.py compares the two on random text). Plain numbers, nearly
-- every value, take the cast alone. NULL when the text is not money (`$1.00`, `1,000.00` and
-- `12,50` included).
CREATE OR REPLACE TEMP MACRO uc_try_money(x) AS CASE
    WHEN contains(x, '_') THEN NULL
    WHEN (contains(x, 'e') OR contains(x, 'E'))
         AND NOT regexp_full_match(x, '\s*[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+\s*') THEN NULL
    ELSE try_cast(x AS DECIMAL(38, 10)) END;
-- uc_money: as uc_try_money, but text that is not money aborts the statement (the loader then
-- names the first bad row and column); blank text is NULL.
CREATE OR REPLACE TEMP MACRO uc_money(x) AS coalesce(uc_try_money(x), CASE
    WHEN x IS NULL OR trim(x) = '' THEN NULL
    ELSE error('not a decimal number: ' || x) END);
-- uc_az_tags_text: Azure EA exports write Tags as JSON members without the braces
-- (`"env": "prod","org": "trey"`); newer exports add the braces. Text of a JSON object.
CREATE OR REPLACE TEMP MACRO uc_az_tags_text(x) AS CASE
    WHEN starts_with(trim(x), '{') THEN trim(x) ELSE '{' || trim(x) || '}' END;
-- uc_az_tags: as JSON; empty is NULL, text that is no JSON object aborts the statement.
CREATE OR REPLACE TEMP MACRO uc_az_tags(x) AS CASE
    WHEN x IS NULL OR trim(x) = '' THEN NULL
    WHEN json_valid(uc_az_tags_text(x)) THEN CAST(uc_az_tags_text(x) AS JSON)
    ELSE CAST(error('not Azure tags: ' || x) AS JSON) END;
