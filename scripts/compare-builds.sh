#!/usr/bin/env bash
# Before/after in one run: checks OLD_REF and NEW_REF out into temporary git worktrees, builds
# benchmarks/Backprop.Simd.Benchmarks in Release in each, then runs the same benchmark arguments against each build
# alternately (old, new, old, new, ... for --rounds N, default 1), so that a drifting machine affects both alike, and
# prints each run's tables (BenchmarkDotNet's *-report-github.md, or the markdown table a --latency / --paired harness
# prints) and, per table, the ratio new / old of the timing columns (Mean; p50 and p99 for --latency; for --paired
# the median throughputs, where new / old above 1 means faster).
#
#   scripts/compare-builds.sh [--rounds N] [--keep DIR] OLD_REF NEW_REF [-- benchmark arguments]
#   scripts/compare-builds.sh dbe5e35 HEAD -- --filter '*LadderBenchmarks*'
#   scripts/compare-builds.sh dbe5e35 HEAD -- --latency
#   scripts/compare-builds.sh --kernels 6e3ed24 HEAD [-- --calls N --shapes m:n:k,...]
#
# Rows are matched by the cells left of the first timing column (method, job, parameters), so only benchmarks whose
# names exist in both refs get a ratio; the others are shown with '-'. --keep DIR keeps logs and artifacts there.
# --kernels instead loads both refs' Backprop.Simd.dll into one process, the kernel-pair harness of this checkout
# (KernelPairHarness: the three matrix products of a training step, the builds alternating call by call, outputs
# compared bit for bit), with tiered compilation off; it prints one table, B = NEW_REF against A = OLD_REF.
set -euo pipefail

rounds=1 keep="" kernels=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --kernels) kernels=1; shift ;;
    --keep) keep=$2; shift 2 ;;
    -*) echo "compare-builds: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $kernels = 0 ] || [ $rounds = 1 ] || { echo "compare-builds: --rounds does not apply to --kernels (use --calls N)" >&2; exit 2; }
declare -A refs=([old]=$1 [new]=$2)
shift 2
[ "${1:-}" = "--" ] && shift
args=("$@")

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d /tmp/compare-builds.XXXXXX)
out=${keep:-$work/out}
mkdir -p "$out"
cleanup() {
  for side in old new; do git -C "$repo" worktree remove --force "$work/$side" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

project=benchmarks/Backprop.Simd.Benchmarks
built=$project
[ $kernels = 0 ] || built=src/Backprop.Simd  # --kernels needs only each ref's library
for side in old new; do
  git -C "$repo" worktree add --detach -q "$work/$side" "${refs[$side]}"
  echo "== $side: ${refs[$side]} = $(git -C "$work/$side" log -1 --format='%h %s' | cut -c1-90)"
  dotnet build -c Release "$work/$side/$built" -v quiet >"$out/build-$side.log" 2>&1 \
    || { tail -20 "$out/build-$side.log" >&2; exit 1; }
done

if [ $kernels = 1 ]; then
  # One process, both builds' libraries; the harness from this checkout, so that refs older than it compare too.
  dotnet build -c Release "$repo/$project" -v quiet >"$out/build-harness.log" 2>&1 \
    || { tail -20 "$out/build-harness.log" >&2; exit 1; }
  library=src/Backprop.Simd/bin/Release/net10.0/Backprop.Simd.dll
  echo "== uptime: $(uptime)"
  DOTNET_TieredCompilation=0 dotnet "$repo/$project/bin/Release/net10.0/Backprop.Simd.Benchmarks.dll" \
    --kernel-pairs "$work/old/$library" "$work/new/$library" "${args[@]}"  # its exit code, under set -e
  exit 0
fi

# The harnesses print their table on standard output; BenchmarkDotNet writes its reports under --artifacts.
harness=0
for a in "${args[@]}"; do [[ $a == --latency || $a == --paired ]] && harness=1; done
columns="Mean"  # the timing columns whose ratio is printed, ';'-separated
for a in "${args[@]}"; do
  [[ $a == --latency ]] && columns="p50;p99"
  [[ $a == --paired ]] && columns="A, median samples/s;B, median samples/s"  # throughputs: new/old > 1 is faster
done

echo "== uptime: $(uptime)"
for ((r = 1; r <= rounds; r++)); do
  for side in old new; do
    run=$out/$side-$r
    mkdir -p "$run"
    extra=()
    [ $harness = 1 ] || extra=(--artifacts "$run")
    echo "== round $r, $side: ${args[*]}   ($(date +%T))"
    (cd "$work/$side" && dotnet "$project/bin/Release/net10.0/Backprop.Simd.Benchmarks.dll" "${args[@]}" "${extra[@]}") >"$run/stdout.log" 2>&1 \
      || echo "   (exit code $?; see $run/stdout.log)"
    if [ $harness = 1 ]; then
      grep '^|' "$run/stdout.log" >"$run/harness-report-github.md" || true
    fi
  done
done
echo "== uptime: $(uptime)"

# Ratio table of one old and one new markdown table: rows keyed by the cells left of the first timing column.
ratios() {
  awk -F'|' -v cols="$columns" '
    function trim(s) { gsub(/\*\*/, "", s); gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
    function ns(s,   n, u) {  # "1,234.5 μs" -> 1234500; empty when not a number
      s = trim(s); gsub(/,/, "", s)
      if (s !~ /^[0-9.]+/) return ""
      n = s + 0; u = s; sub(/^[0-9.]+ */, "", u)
      return u == "ns" ? n : (u == "us" || u == "μs") ? n * 1e3 : u == "ms" ? n * 1e6 : u == "s" ? n * 1e9 : n
    }
    FNR == 1 { side = (FILENAME == ARGV[1]) ? "old" : "new"; header = 0 }
    /^\|/ && !header {
      header = 1; nc = split(cols, want, ";"); first = 0
      for (i = 2; i < NF; i++) { h = trim($i); for (j = 1; j <= nc; j++) if (h == want[j]) { at[side, j] = i; if (!first) first = i } }
      firsts[side] = first
      if (keyhdr == "") for (i = 2; i < first; i++) keyhdr = keyhdr trim($i) " | "
      next
    }
    /^\|[-: |]+$/ { next }
    /^\|/ && header && firsts[side] {
      key = ""; for (i = 2; i < firsts[side]; i++) key = key trim($i) " | "
      if (!(key in seen)) { seen[key] = 1; order[++n] = key }
      for (j = 1; j <= nc; j++) { raw[side, key, j] = trim($(at[side, j])); val[side, key, j] = ns($(at[side, j])) }
    }
    END {
      if (!n) exit
      line = "| " keyhdr; sep = "|"; for (i = split(keyhdr, tmp, "\\|") - 1; i > 0; i--) sep = sep "---|"
      for (j = 1; j <= nc; j++) { line = line " old " want[j] " | new " want[j] " | new/old |"; sep = sep "---:|---:|---:|" }
      print line; print sep
      for (k = 1; k <= n; k++) {
        key = order[k]; line = "| " substr(key, 1, length(key) - 3) " |"
        for (j = 1; j <= nc; j++) {
          o = val["old", key, j]; w = val["new", key, j]
          r = (o != "" && w != "" && o > 0) ? sprintf("%.3f", w / o) : "-"
          line = line " " (raw["old", key, j] == "" ? "-" : raw["old", key, j]) " | " (raw["new", key, j] == "" ? "-" : raw["new", key, j]) " | " r " |"
        }
        print line
      }
    }' "$1" "$2"
}

for ((r = 1; r <= rounds; r++)); do
  # Reports paired in name order (the same --filter selects the same classes in both refs).
  mapfile -t olds < <(find "$out/old-$r" -name '*-report-github.md' | sort)
  mapfile -t news < <(find "$out/new-$r" -name '*-report-github.md' | sort)
  [ ${#olds[@]} -gt 0 ] || [ ${#news[@]} -gt 0 ] || { echo "round $r: no tables (see $out/*-$r/stdout.log)"; tail -5 "$out/old-$r/stdout.log" "$out/new-$r/stdout.log"; continue; }
  for ((i = 0; i < ${#olds[@]} || i < ${#news[@]}; i++)); do
    o=${olds[$i]:-/dev/null} w=${news[$i]:-/dev/null}
    echo; echo "### round $r: $(basename "$o") -- old (${refs[old]})"; echo; grep '^|' "$o" || true
    echo; echo "### round $r: $(basename "$w") -- new (${refs[new]})"; echo; grep '^|' "$w" || true
    echo; echo "### round $r: new / old ($columns)"; echo; ratios "$o" "$w"
  done
done
