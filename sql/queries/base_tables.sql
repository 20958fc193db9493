-- base_tables: names of unitcost's own tables (one row per table), for `db status`.
SELECT table_name
FROM duckdb_tables()
WHERE schema_name = 'main' AND database_name = current_database()
ORDER BY table_name;
