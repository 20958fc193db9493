#!/usr/bin/env bash
# GPU check for the NVML collector, for a machine with an NVIDIA GPU (written for an H200).
# Takes under 2 minutes: installs unitcost into a throwaway venv, samples every GPU once a second
# for ~20 s with NVML (a matmul load runs meanwhile when torch is importable, so utilization and
# GPM activity move), then 3 samples through the nvidia-smi fallback, and prints what was stored.
#
#   bash scripts/gpu_check.sh            # pip resolves dependencies normally
#   WHEELHOUSE=/path bash scripts/gpu_check.sh   # offline: install from a folder of wheels
#   PYTHON=/opt/py/bin/python bash scripts/gpu_check.sh  # use a Python that already has the deps
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== unitcost GPU check in $work"
nvidia-smi --query-gpu=index,name,uuid,driver_version,memory.total --format=csv || true

"$py" -m venv --system-site-packages "$work/venv"
pip=("$work/venv/bin/pip" install -q)
if [[ -n "${WHEELHOUSE:-}" ]]; then pip+=(--no-index --find-links "$WHEELHOUSE"); fi
if ! "${pip[@]}" "$repo" 2>"$work/pip.log"; then
  echo "pip could not resolve dependencies (offline?); installing unitcost alone:"
  tail -3 "$work/pip.log"
  "$work/venv/bin/pip" install -q --no-deps --no-build-isolation "$repo"
fi
uc="$work/venv/bin/unitcost"
vpy="$work/venv/bin/python"
db="$work/gpu.duckdb"
"$uc" --db "$db" db init >/dev/null

# Load so that utilization, power and GPM activity are not all idle (skipped without torch).
"$vpy" - <<'PY' &
import time
try:
    import torch
except ImportError:
    raise SystemExit(0)
if not torch.cuda.is_available():
    raise SystemExit(0)
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
end = time.time() + 18
while time.time() < end:
    for _ in range(20):
        a = (a @ a).clamp_(-1, 1)
    torch.cuda.synchronize()
PY
load_pid=$!

echo "== NVML, 20 samples at 1 s"
timeout 90 "$uc" --db "$db" collect gpu --backend nvml --every 1s --count 20
wait "$load_pid" || true
echo "== nvidia-smi fallback, 3 samples"
timeout 60 "$uc" --db "$db" collect gpu --backend nvidia-smi --every 1s --count 3 || true

"$vpy" - "$db" <<'PY'
import sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET TimeZone = 'UTC'")
print("== per GPU and source")
q = """
SELECT source, gpu_index, gpu_model, count(*) AS n,
       round(min(util_gpu), 2) AS util_min, round(max(util_gpu), 2) AS util_max,
       round(max(mem_used_bytes) / 2^30, 1) AS mem_used_gib, round(max(mem_total_bytes) / 2^30, 1) AS mem_total_gib,
       round(avg(power_w), 1) AS power_w, round((max(energy_mj) - min(energy_mj)) / 1000, 1) AS energy_j,
       max(sm_clock_mhz) AS sm_mhz, max(temperature_c) AS temp_c,
       count(sm_active) AS gpm_n, round(max(sm_active), 3) AS sm_active_max,
       round(max(tensor_active), 3) AS tensor_max, round(max(dram_active), 3) AS dram_max
FROM gpu_samples GROUP BY ALL ORDER BY source, gpu_index"""
cur = con.execute(q)
cols = [d[0] for d in cur.description]
for row in cur.fetchall():
    print(dict(zip(cols, row)))
print("== first 3 NVML rows")
for row in con.execute("SELECT * FROM gpu_samples WHERE source = 'nvml' ORDER BY ts, gpu_index LIMIT 3").fetchall():
    print(row)
print("== collector runs")
for row in con.execute("SELECT collector, source, status, rows_written, error FROM collector_runs ORDER BY started_at").fetchall():
    print(row)
print("== view gpu_utilization_hourly")
for row in con.execute("SELECT * FROM gpu_utilization_hourly ORDER BY source, gpu_uuid").fetchall():
    print(row)
PY
echo "== done"
