#!/usr/bin/env bash
# The long fuzzing run of the IDX, model JSON and ONNX readers (docs/fuzzing.md): each target for SECONDS
# (default 600), from SEED (default: a new one, printed), failing inputs saved under $BACKPROP_FUZZ_OUT
# (default ./fuzz-findings). Exits non-zero if any input failed.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export BACKPROP_FUZZ_SECONDS="${1:-600}"
if [ -n "${2:-}" ]; then export BACKPROP_FUZZ_SEED="$2"; fi
export BACKPROP_FUZZ_OUT="${BACKPROP_FUZZ_OUT:-$PWD/fuzz-findings}"
build_log=$(mktemp)
dotnet build tests/Backprop.Simd.Tests -c Release >"$build_log" 2>&1 || { cat "$build_log"; echo "fuzz.sh: the build failed" >&2; exit 1; }
rm -f "$build_log"
tests/Backprop.Simd.Tests/bin/Release/net10.0/Backprop.Simd.Tests \
  -class Backprop.Simd.Tests.Fuzzing.ReaderFuzzTests -showLiveOutput -noColor
