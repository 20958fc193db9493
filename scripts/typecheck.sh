#!/usr/bin/env bash
# mypy over the installed layout. The top-level folders (bench/, collectors/, dashboard/) are
# subpackages of `unitcost` only once installed, so mypy checks a throwaway install and the
# error paths are mapped back to the repository's files.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" -m pip install -q --no-deps --target "$tmp/site" "$repo" >/dev/null 2>&1 \
  || "$py" -m pip install --no-deps --target "$tmp/site" "$repo"
cd "$tmp/site"
set +e
"$py" -m mypy --config-file "$repo/pyproject.toml" -p unitcost 2>&1 \
  | sed -e "s#^unitcost/bench/#bench/#" -e "s#^unitcost/collectors/#collectors/#" \
        -e "s#^unitcost/dashboard/#dashboard/#" -e "s#^unitcost/sql/#sql/#"
exit "${PIPESTATUS[0]}"
