#!/usr/bin/env bash
# What the library costs on processors without AVX2/FMA and without SIMD: times `backprop train --threads 1` (the
# seed's 30 epochs on the bundled digits) as a whole process, RUNS times each under the default settings,
# DOTNET_EnableAVX2=0 (no AVX2, no FMA: 128-bit vectors, multiply then add) and DOTNET_EnableHWIntrinsic=0 (no SIMD:
# the scalar paths), interleaved so that a drifting machine affects all three alike, and prints the medians and
# their ratios to the default.
#
#   scripts/fallback-ratios.sh [--runs N] [--max-no-fma X] [--max-no-simd Y] [-- extra train options]
#
# With --max-no-fma / --max-no-simd it exits 1 when a median ratio exceeds the bound (CI uses bounds well above the
# targets, so that only a cliff, not a noisy machine, fails it). Build first: dotnet build -c Release.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3 max_no_fma="" max_no_simd=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --max-no-fma) max_no_fma=$2; shift 2 ;;
    --max-no-simd) max_no_simd=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "fallback-ratios: unknown option $1" >&2; exit 2 ;;
  esac
done

cli=src/Backprop.Simd.Cli/bin/Release/net10.0/backprop
[ -x "$cli" ] || { echo "fallback-ratios: $cli not built (dotnet build -c Release)" >&2; exit 2; }

settings=("X_DEFAULT=1" "DOTNET_EnableAVX2=0" "DOTNET_EnableHWIntrinsic=0")
declare -A times
for ((r = 0; r < runs; r++)); do
  for s in "${settings[@]}"; do
    start=$(date +%s.%N)
    env "$s" "$cli" train --threads 1 "$@" >/dev/null
    end=$(date +%s.%N)
    times[$s]+="$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}') "
  done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
base=$(median "${times[X_DEFAULT=1]}")
no_fma=$(median "${times[DOTNET_EnableAVX2=0]}")
no_simd=$(median "${times[DOTNET_EnableHWIntrinsic=0]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
over() { awk -v r="$1" -v m="$2" 'BEGIN {exit !(r > m)}'; }
ratio_fma=$(ratio "$no_fma" "$base")
ratio_simd=$(ratio "$no_simd" "$base")
printf 'backprop train --threads 1, median of %d runs (wall s):\n' "$runs"
printf '  default                     %6.2f s\n' "$base"
printf '  DOTNET_EnableAVX2=0         %6.2f s  (%.2fx)\n' "$no_fma" "$ratio_fma"
printf '  DOTNET_EnableHWIntrinsic=0  %6.2f s  (%.2fx)\n' "$no_simd" "$ratio_simd"

status=0
if [ -n "$max_no_fma" ] && over "$ratio_fma" "$max_no_fma"; then
  echo "fallback-ratios: without AVX2/FMA training took ${ratio_fma}x the default, over the bound ${max_no_fma}x" >&2
  status=1
fi
if [ -n "$max_no_simd" ] && over "$ratio_simd" "$max_no_simd"; then
  echo "fallback-ratios: without SIMD training took ${ratio_simd}x the default, over the bound ${max_no_simd}x" >&2
  status=1
fi
exit $status
