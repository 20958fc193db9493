-- 0002_bench_summary: what a finished bench run derived, stored beside its raw records.
-- summary: the versioned JSON of `unitcost bench show --format json` at the end of the run
--   (metrics from unitcost.bench.metrics; cost figures from the price catalog at that time).
-- group_id: runs made together by one sweep, capacity search or suite share it.
ALTER TABLE bench_runs ADD COLUMN summary JSON;
ALTER TABLE bench_runs ADD COLUMN group_id VARCHAR;
