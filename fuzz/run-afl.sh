#!/usr/bin/env bash
# Coverage-guided fuzzing of one reader with SharpFuzz and afl++ (docs/fuzzing.md). Needs afl++ (Debian: apt-get
# install afl++) and the SharpFuzz instrumenter (dotnet tool install --global SharpFuzz.CommandLine).
#   fuzz/run-afl.sh TARGET [SECONDS]      TARGET: idx-images, idx-labels, model-json or onnx; default 600 s
# Findings go to fuzz/findings/TARGET (crashes/ holds inputs that raised anything but InvalidDataException).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: fuzz/run-afl.sh idx-images|idx-labels|model-json|onnx [SECONDS]}"
seconds="${2:-600}"
out=fuzz/bin
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rm -rf "$out"
dotnet publish fuzz/Backprop.Simd.Fuzz -c Release -o "$out" >/dev/null

# Seeds first: instrumented code runs only under afl-fuzz (it writes to afl's shared coverage map).
seeds=fuzz/findings/seeds
dotnet "$out/Backprop.Simd.Fuzz.dll" --seeds data/mnist-10k "$seeds"
mkdir -p "fuzz/findings/$target"

for dll in Backprop.Simd.dll Backprop.Simd.Onnx.dll; do
  sharpfuzz "$out/$dll" # instruments the readers' assemblies in place (the harness and the runtime stay as they are)
done

# dotnet is not an afl-instrumented binary (the instrumentation is in the assemblies): skip that check.
AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
  AFL_AUTORESUME=1 afl-fuzz -i "$seeds/$target" -o "fuzz/findings/$target" -V "$seconds" -t 10000 -m none \
  -- dotnet "$out/Backprop.Simd.Fuzz.dll" "$target"

crashes=$(find "fuzz/findings/$target" -path '*crashes/id:*' | wc -l)
echo "afl++ on $target: $crashes crashing inputs (fuzz/findings/$target/default/crashes)"
[ "$crashes" -eq 0 ]
