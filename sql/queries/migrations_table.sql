-- migrations_table: bookkeeping of applied migrations (one row per applied migration).
CREATE TABLE IF NOT EXISTS _migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    checksum    VARCHAR NOT NULL,   -- sha256 of the file as applied
    applied_at  TIMESTAMPTZ NOT NULL
);
