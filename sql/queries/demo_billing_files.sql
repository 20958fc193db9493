-- demo_billing_files: the billing files `unitcost demo` loaded: everything recorded under its
-- billing folder. Grain: one row per billing_files row. Parameter: $prefix (the folder, with a
-- trailing slash). Upstream: billing_files.
SELECT source_file FROM billing_files WHERE starts_with(source_file, $prefix) ORDER BY 1;
