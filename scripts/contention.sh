#!/usr/bin/env bash
# Two threads against one, on a quiet machine and beside a competing busy loop: times `backprop train` on
# Fashion-MNIST as a whole process with --threads 1 and --threads 2, quiet and with one `while :; do :; done` process
# keeping a core busy, interleaved (quiet 1, quiet 2, busy 1, busy 2, then again for --runs N, default 3) so that a
# drifting machine affects all four alike, and prints each run, the medians and the ratios of the medians:
# quiet 1 / quiet 2 (the two-thread speedup) and busy 2 / busy 1 (how much longer two threads take beside the loop).
#
#   scripts/contention.sh [--runs N] [--cli PATH] [--data DIR] [-- extra train options, e.g. --epochs 10]
#
# Build first (dotnet build -c Release); --cli times another build of the CLI (e.g. a copy of main's). Run it alone
# on the machine (under `flock -x` where machines are shared): the quiet runs need the machine quiet.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3 cli=src/Backprop.Simd.Cli/bin/Release/net10.0/backprop data=/usr/share/datasets/fashion-mnist
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --cli) cli=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "contention: unknown option $1" >&2; exit 2 ;;
  esac
done

[ -x "$cli" ] || { echo "contention: $cli not built (dotnet build -c Release)" >&2; exit 2; }
[ -d "$data" ] || { echo "contention: no data directory $data" >&2; exit 2; }

busy=""
stop_busy() { if [ -n "$busy" ]; then kill "$busy" 2>/dev/null || true; wait "$busy" 2>/dev/null || true; busy=""; fi; }
trap stop_busy EXIT

# Wall seconds of one training run.
run() {
  local start end
  start=$(date +%s.%N)
  "$cli" train --data "$data" --validation 10000 --threads "$1" "${@:2}" >/dev/null
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}'
}

declare -A times
echo "uptime: $(uptime)"
for ((r = 1; r <= runs; r++)); do
  line="run $r:"
  for t in 1 2; do
    s=$(run "$t" "$@"); times[quiet$t]+="$s "; line+=" quiet/$t ${s}s"
  done

  timeout 600 sh -c 'while :; do :; done' &
  busy=$!
  sleep 0.2
  for t in 1 2; do
    s=$(run "$t" "$@"); times[busy$t]+="$s "; line+=" busy/$t ${s}s"
  done
  stop_busy
  echo "$line"
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
q1=$(median "${times[quiet1]}") q2=$(median "${times[quiet2]}") b1=$(median "${times[busy1]}") b2=$(median "${times[busy2]}")
echo "medians (s): quiet/1 $q1  quiet/2 $q2  busy/1 $b1  busy/2 $b2"
awk -v q1="$q1" -v q2="$q2" -v b1="$b1" -v b2="$b2" 'BEGIN {
  printf "quiet: two threads are %.2fx as fast as one (quiet/1 / quiet/2)\n", q1 / q2
  printf "busy:  two threads take %.2fx the wall time of one (busy/2 / busy/1)\n", b2 / b1
}'
