#!/usr/bin/env bash
# One short run on a machine with an NVIDIA GPU and no network (the `device` machine of this
# workplace): the NVML collector and the nvidia-smi fallback on the real GPU under a matmul load,
# a recorded nvidia-smi capture for the parser tests, and the decode-kernel check of the
# emulator's physics. Wheels for what that machine lacks travel in .whl/ (see the closing note
# of the collectors issue). Everything it measures is written under $OUT.
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-$(mktemp -d)}
repo=$(pwd)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site
# Out of the checkout: its bare unitcost/ folder would shadow the installed package.
cd /tmp || exit 1
uc=(python3 -m unitcost --db "$OUT/gpu.duckdb")

echo "== GPU"
nvidia-smi --query-gpu=index,name,uuid,driver_version,memory.total --format=csv
fields=$(python3 -c "from unitcost.collectors.gpu import SMI_FIELDS; print(','.join(SMI_FIELDS))")
nvidia-smi --query-gpu="$fields" --format=csv,nounits > "$OUT/nvidia-smi-query-idle.csv"
nvidia-smi -q > "$OUT/nvidia-smi-q.txt"

"${uc[@]}" db init || exit 1

echo "== NVML collector, 20 samples at 1 s, matmul load for the first ~15 s"
python3 - <<'PY' &
import time, torch
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
end = time.time() + 15
while time.time() < end:
    for _ in range(20):
        a = (a @ a).clamp_(-1, 1)
    torch.cuda.synchronize()
PY
load=$!
sleep 2
nvidia-smi --query-gpu="$fields" --format=csv,nounits > "$OUT/nvidia-smi-query-load.csv"
timeout 90 "${uc[@]}" collect gpu --backend nvml --every 1s --count 20
wait "$load"
echo "== nvidia-smi fallback, 3 samples"
timeout 60 "${uc[@]}" collect gpu --backend nvidia-smi --every 1s --count 3

python3 - "$OUT/gpu.duckdb" <<'PY'
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET TimeZone = 'UTC'")
q = """
SELECT source, gpu_model, count(*) AS n,
       round(min(util_gpu), 2) AS util_min, round(max(util_gpu), 2) AS util_max,
       round(max(mem_used_bytes) / 2^30, 1) AS mem_used_gib,
       round(max(mem_total_bytes) / 2^30, 1) AS mem_total_gib,
       round(min(power_w), 1) AS power_min_w, round(max(power_w), 1) AS power_max_w,
       round((max(energy_mj) - min(energy_mj)) / 1000, 1) AS energy_j,
       max(sm_clock_mhz) AS sm_mhz_max, max(temperature_c) AS temp_c,
       count(sm_active) AS gpm_n, round(max(sm_active), 3) AS sm_active_max,
       round(max(tensor_active), 3) AS tensor_max, round(max(dram_active), 3) AS dram_max
FROM gpu_samples GROUP BY ALL ORDER BY source"""
cur = con.execute(q)
cols = [d[0] for d in cur.description]
for row in cur.fetchall():
    print(dict(zip(cols, row)))
for row in con.execute("SELECT collector, status, rows_written, error FROM collector_runs").fetchall():
    print(row)
PY

echo "== decode kernels vs emulator"
python3 "$repo/tests/perf/emulate/gpu_decode_kernels.py" --gpu h200 | tee "$OUT/decode_kernels.txt"
echo "== done"
