#!/usr/bin/env bash
# The test command (README; CI runs it from .ci/run). Installs what the tests need on this
# machine — idempotent and cached — then runs ruff, mypy and pytest.
#   PYTHON=...        interpreter of the environment to test (default: .venv/bin/python, created if absent)
#   UNITCOST_SKIP_APT=1   do not apt-get (non-root machines); tests needing those tools then fail
# Extra arguments go to pytest.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

py=${PYTHON:-.venv/bin/python}
if [ ! -x "$py" ]; then
  python3 -m venv .venv
  py=.venv/bin/python
fi
py=$(cd "$(dirname "$py")" && pwd)/$(basename "$py")
bindir=$(dirname "$py")

step() { printf '\n== %s\n' "$*"; }

step "python packages"
# torch first, pinned to the CPU wheel on disk, so transformers never pulls a multi-GB CUDA build.
"$py" -m pip install -q --disable-pip-version-check torch==2.13.0
"$py" -m pip install -q --disable-pip-version-check -e '.[dev,servers]'

step "system packages"
need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v promtool >/dev/null || need+=(prometheus)
command -v cmake >/dev/null || need+=(cmake)
# The dashboard's browser tests and the review's static charts (kaleido) use Debian's Chromium;
# the review's PDF is read back with pdftotext; WeasyPrint renders with Pango.
command -v chromium >/dev/null || need+=(chromium)
command -v pdftotext >/dev/null || need+=(poppler-utils)
ldconfig -p | grep -q libpango-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ ${#need[@]} -gt 0 ]; then
  if [ "${UNITCOST_SKIP_APT:-0}" = 1 ]; then
    echo "missing (not installed, UNITCOST_SKIP_APT=1): ${need[*]}"
  else
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

step "llama.cpp server (cached build)"
if [ -f scripts/build_llama_server.sh ]; then
  PATH="$bindir:$PATH" bash scripts/build_llama_server.sh
fi

step "ruff"
"$bindir/ruff" check .
"$bindir/ruff" format --check .

step "mypy"
PYTHON="$py" bash scripts/typecheck.sh

step "pytest"
# Real servers are required here: a missing one fails its tests instead of skipping them.
export UNITCOST_REQUIRE_SERVERS=1
set +e
"$bindir/pytest" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
