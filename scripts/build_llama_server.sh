#!/usr/bin/env bash
# Build llama.cpp's `llama-server` from the llama-cpp-python sdist on PyPI, cached.
#
# Why: the integration tests load-test a REAL OpenAI-compatible server, and the
# only package source we can reach is PyPI. llama-cpp-python's sdist vendors the
# whole llama.cpp tree, so we build just the `llama-server` target from it
# (~7 min on 2 cores) and cache the binary together with the HF->GGUF converter
# (convert_hf_to_gguf.py, conversion/, gguf-py/) that tests/support/tinymodel.py
# uses. The converter must come from the same llama.cpp revision as the binary,
# or the GGUF it writes may not load.
#
# Idempotent: if ${CACHE}/bin/llama-server exists and runs `--version`, exit 0.
# The last line printed is always the binary's path.
#
# Env:
#   UNITCOST_CACHE   cache root (default: $HOME/.cache/unitcost)
#   UNITCOST_JOBS    parallel build jobs (default: nproc)
#   PYTHON           python used for `pip download` / `pip install` (default: python3)
set -euo pipefail

LLAMA_CPP_PY_VERSION="0.3.36"
CACHE_ROOT="${UNITCOST_CACHE:-$HOME/.cache/unitcost}"
DEST="${CACHE_ROOT}/llama.cpp-${LLAMA_CPP_PY_VERSION}"
BIN="${DEST}/bin/llama-server"
PY="${PYTHON:-python3}"
JOBS="${UNITCOST_JOBS:-$(nproc 2>/dev/null || echo 2)}"

log() { printf '[build_llama_server] %s\n' "$*" >&2; }

converter_complete() {
  [[ -f "${DEST}/convert_hf_to_gguf.py" && -d "${DEST}/gguf-py/gguf" ]]
}

if [[ -x "${BIN}" ]] && "${BIN}" --version >/dev/null 2>&1 && converter_complete; then
  log "cached: ${BIN}"
  echo "${BIN}"
  exit 0
fi

# Build tools: cmake (>=3.14) and ninja. Prefer the system ones; fall back to
# pip-installed ones in a private prefix so we never touch a project venv.
TOOLS_DIR="${CACHE_ROOT}/build-tools"
is_elf() { [[ -f "$1" && -x "$1" ]] && head -c4 "$1" | grep -q ELF; }
ensure_build_tools() {
  local tool cand found
  if command -v ninja >/dev/null 2>&1 && command -v cmake >/dev/null 2>&1; then
    return 0
  fi
  log "cmake/ninja missing: pip-installing them into ${TOOLS_DIR}"
  "${PY}" -m pip install --quiet --upgrade --target "${TOOLS_DIR}/lib" ninja cmake
  mkdir -p "${TOOLS_DIR}/bin"
  for tool in ninja cmake; do
    command -v "${tool}" >/dev/null 2>&1 && continue
    # The wheels ship the real binary either as <pkg>/data/bin/<tool> (cmake,
    # whose bin/<tool> is a Python wrapper) or as bin/<tool> (ninja).
    found=""
    for cand in "${TOOLS_DIR}/lib/${tool}/data/bin/${tool}" "${TOOLS_DIR}/lib/bin/${tool}"; do
      if is_elf "${cand}"; then found="${cand}"; break; fi
    done
    [[ -n "${found}" ]] || { log "no ${tool} binary found after pip install"; exit 1; }
    ln -sf "${found}" "${TOOLS_DIR}/bin/${tool}"
  done
  export PATH="${TOOLS_DIR}/bin:${PATH}"
}
ensure_build_tools

WORK="$(mktemp -d "${TMPDIR:-/tmp}/unitcost-llama-build.XXXXXX")"
cleanup() { rm -rf "${WORK}"; }
trap cleanup EXIT

log "downloading llama-cpp-python==${LLAMA_CPP_PY_VERSION} sdist"
"${PY}" -m pip download --quiet --no-deps --no-binary :all: \
  "llama-cpp-python==${LLAMA_CPP_PY_VERSION}" -d "${WORK}/dl"
SDIST="$(find "${WORK}/dl" -maxdepth 1 -type f -name '*.tar.gz' | head -n1)"
[[ -n "${SDIST}" ]] || { log "sdist not found in ${WORK}/dl"; exit 1; }
tar -xzf "${SDIST}" -C "${WORK}"
SRC="$(find "${WORK}" -maxdepth 3 -type d -path '*/vendor/llama.cpp' | head -n1)"
[[ -n "${SRC}" && -f "${SRC}/CMakeLists.txt" ]] || { log "vendor/llama.cpp not found in sdist"; exit 1; }

log "configuring ${SRC}"
cmake -S "${SRC}" -B "${WORK}/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_SERVER=ON \
  -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_BUILD_UI=OFF \
  -DLLAMA_OPENSSL=OFF \
  -DBUILD_SHARED_LIBS=OFF >&2

log "building llama-server with -j${JOBS} (several minutes)"
cmake --build "${WORK}/build" --target llama-server -j"${JOBS}" >&2

BUILT="$(find "${WORK}/build" -type f -name llama-server -perm -u+x | head -n1)"
[[ -n "${BUILT}" ]] || { log "llama-server binary not produced"; exit 1; }

# Install into a staging dir, then swap it in, so an interrupted run never
# leaves a half-populated cache that looks complete.
STAGE="${DEST}.tmp.$$"
rm -rf "${STAGE}"
mkdir -p "${STAGE}/bin"
cp "${BUILT}" "${STAGE}/bin/llama-server"
cp "${SRC}/convert_hf_to_gguf.py" "${STAGE}/"
if [[ -d "${SRC}/conversion" ]]; then cp -r "${SRC}/conversion" "${STAGE}/"; fi
cp -r "${SRC}/gguf-py" "${STAGE}/"
# Extra helpers the converter may import, when present in this revision.
for f in convert_hf_to_gguf_update.py convert_lora_to_gguf.py; do
  if [[ -f "${SRC}/${f}" ]]; then cp "${SRC}/${f}" "${STAGE}/"; fi
done
if [[ -d "${SRC}/requirements" ]]; then cp -r "${SRC}/requirements" "${STAGE}/"; fi
if [[ -f "${SRC}/LICENSE" ]]; then cp "${SRC}/LICENSE" "${STAGE}/"; fi
echo "llama-cpp-python ${LLAMA_CPP_PY_VERSION}" > "${STAGE}/SOURCE"

"${STAGE}/bin/llama-server" --version >/dev/null 2>&1 || { log "built binary does not run --version"; exit 1; }

rm -rf "${DEST}"
mv "${STAGE}" "${DEST}"
log "installed into ${DEST}"
echo "${BIN}"
