#!/usr/bin/env bash
# Build llama-cpp-python once, portably, into a wheel folder keyed by version AND build flags.
#
# Why: a default (native) build targets the build machine's CPU; on CPUs that advertise AMX its
# AMX kernels fault at the first decode (SIGILL on `tilezero`). pip caches built wheels by
# version only, so a natively built wheel could be reused silently: we never let pip build or
# cache it; we build it here with explicit flags and install from this folder only.
#
# Usage: scripts/llama-wheel.sh PYTHON VERSION   -> prints the wheel folder on stdout
set -euo pipefail
PYTHON=${1:?python}
VERSION=${2:?version}
# AVX2/FMA/F16C: any x86-64 CPU of the last decade. No -march=native, no AMX, no AVX-512.
# LLAVA_BUILD=OFF: Aisle never loads multimodal models (mtmd is imported lazily by the bindings).
FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF"
KEY=$(printf '%s' "$VERSION $FLAGS" | sha256sum | cut -c1-12)
ROOT=${AISLE_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aisle/wheels}
DIR="$ROOT/llama-cpp-python-$VERSION-$KEY"
if compgen -G "$DIR/llama_cpp_python-$VERSION-*.whl" >/dev/null; then
  echo "$DIR"
  exit 0
fi
mkdir -p "$ROOT"
TMP=$(mktemp -d "$ROOT/.build-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
LOG="$ROOT/llama-cpp-python-$VERSION-$KEY.log"
echo "building llama-cpp-python $VERSION (portable AVX2, once; log: $LOG)" >&2
# --no-cache-dir: never take, nor leave, a wheel in pip's version-keyed cache.
if ! CMAKE_ARGS="$FLAGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" FORCE_CMAKE=1 \
    "$PYTHON" -m pip wheel --quiet --no-deps --no-cache-dir --no-binary llama-cpp-python \
    --wheel-dir "$TMP" "llama-cpp-python==$VERSION" >"$LOG" 2>&1; then
  tail -n 30 "$LOG" >&2
  echo "llama-cpp-python build failed; full log: $LOG" >&2
  exit 1
fi
printf '%s\n' "$FLAGS" >"$TMP/FLAGS"
# The folder appears complete or not at all.
mv "$TMP" "$DIR"
trap - EXIT
echo "$DIR"
