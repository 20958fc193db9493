-- demo_same_bytes_elsewhere: is a file with these bytes already recorded outside the demo's
-- billing folder? (The billing ledger counts equal bytes once, under the latest delivery: the
-- demo must not move the user's own copy into its folder.) Parameters: $hash, $prefix.
-- Upstream: billing_files.
SELECT count(*) > 0
FROM billing_files
WHERE content_hash = $hash AND NOT starts_with(source_file, $prefix);
