#!/usr/bin/env bash
# Checks what a user gets, outside the repository, the way a user gets it:
#   1. packs Backprop.Simd, Backprop.Simd.Onnx and the backprop tool into a temporary local feed and checks their
#      contents (licence, readme, symbols; no reference implementation);
#   2. creates a fresh console app, adds Backprop.Simd from that feed, makes the README's library example its
#      Program.cs (taken from README.md, which must match the package readme's copy) and runs it;
#   3. installs the tool into a temporary tool path and trains from another directory, with a plot;
#   4. publishes the CLI with Native AOT for linux-x64 (no warning allowed) and runs every command of the binary.
# The feed, the console app, the tool and the AOT output go to a temporary directory, with its own NuGet packages
# folder so that no stale copy of these packages is picked up (packing and publishing build in the repository's
# bin/ and obj/ as usual); the packages the examples depend on restore from the configured NuGet sources.
#
#   scripts/check-package.sh            # all four steps
#   scripts/check-package.sh --no-aot   # steps 1-3 (Native AOT needs clang and zlib1g-dev)
#
# Needs unzip; Native AOT needs clang and zlib1g-dev (.ci/run installs all three when missing).
# Exits non-zero on the first failure. Prints "package check passed" at the end.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
aot=1
[ "${1:-}" = "--no-aot" ] && aot=0

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
work="$(mktemp -d "${TMPDIR:-/tmp}/backprop-package-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
feed="$work/feed"
export NUGET_PACKAGES="$work/nuget-packages"

say() { echo; echo "--- $*"; }
die() { echo "check-package: $*" >&2; exit 1; }

# The version is set once, in Directory.Build.props.
version="$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' "$repo/Directory.Build.props")"
[ -n "$version" ] || die "no <VersionPrefix> in Directory.Build.props"

command -v unzip >/dev/null || die "needs unzip (apt-get install unzip)"

say "1. dotnet pack -c Release -o $feed (version $version)"
dotnet pack "$repo/Backprop.Simd.sln" -c Release -o "$feed" >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; die "dotnet pack failed"; }
expected="Backprop.Simd.$version.nupkg Backprop.Simd.$version.snupkg Backprop.Simd.Onnx.$version.nupkg Backprop.Simd.Onnx.$version.snupkg backprop.$version.nupkg backprop.$version.snupkg"
actual="$(cd "$feed" && ls | sort | tr '\n' ' ' | sed 's/ $//')"
[ "$actual" = "$(echo "$expected" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" ] ||
  die "the feed holds '$actual', expected exactly '$expected' (nothing else may be packable)"
# (Listings are read into variables first: `unzip -l | grep -q` can fail under pipefail when grep exits early.)
for id in Backprop.Simd Backprop.Simd.Onnx backprop; do
  nupkg="$feed/$id.$version.nupkg"
  nuspec="$(unzip -p "$nupkg" "$id.nuspec")"
  files="$(unzip -l "$nupkg")"
  symbols="$(unzip -l "$feed/$id.$version.snupkg")"
  grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || die "$id: no MIT licence expression"
  grep -q '<readme>README.md</readme>' <<<"$nuspec" || die "$id: no package readme"
  grep -q ' README.md$' <<<"$files" || die "$id: README.md missing from the package"
  grep -q '\.pdb$' <<<"$symbols" || die "$id: no PDB in the symbol package"
  printf '%-20s %10s bytes\n' "$id" "$(stat -c %s "$nupkg")"
done
grep -q 'lib/net10.0/Backprop.Simd.xml' <<<"$(unzip -l "$feed/Backprop.Simd.$version.nupkg")" || die "Backprop.Simd: no XML documentation"
grep -q '<packageType name="DotnetTool"' <<<"$(unzip -p "$feed/backprop.$version.nupkg" backprop.nuspec)" || die "backprop is not a .NET tool package"

say "2. a fresh console app with Backprop.Simd from the feed, running the README's library example"
# The example is the first csharp block under "## Use it as a library"; the package readme shows the same code.
extract() { awk -v section="$2" '
  $0 == section { inside = 1; next }
  inside && /^## / { exit }
  inside && !code && /^```csharp$/ { code = 1; next }
  code && /^```$/ { exit }
  code { print }' "$1"; }
example="$(extract "$repo/README.md" "## Use it as a library")"
[ -n "$example" ] || die "no csharp block under '## Use it as a library' in README.md"
package_example="$(extract "$repo/src/Backprop.Simd/README.md" "## Train a digit classifier")"
[ "$example" = "$package_example" ] ||
  die "README.md's library example and src/Backprop.Simd/README.md's differ; keep them identical"
app="$work/app"
mkdir -p "$app"
cat >"$app/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="backprop-check" value="$feed" />
  </packageSources>
</configuration>
EOF
(
  cd "$app"
  dotnet new console --framework net10.0 >"$work/new.log" 2>&1 || { cat "$work/new.log"; exit 1; }
  dotnet add package Backprop.Simd --version "$version" >"$work/add.log" 2>&1 || { cat "$work/add.log"; exit 1; }
  printf '%s\n' "$example" >Program.cs
  dotnet run -c Release >"$work/app.out" 2>"$work/app.err" || { cat "$work/app.out" "$work/app.err"; exit 1; }
) || die "the fresh console app failed"
cat "$work/app.out"
[ "$(grep -cE '^Epoch [0-9]+: [0-9]+ / 1996$' "$work/app.out")" -eq 30 ] || die "the example did not print 30 epoch lines"
grep -qE '^Test image 0: predicted [0-9], label [0-9]$' "$work/app.out" || die "the example did not print its prediction"
# The README quotes the first and the last epoch line it printed. The first is the same with 128-, 256- and 512-bit
# vectors and must match; later ones may differ in the last digits on another vector width or without FMA (README).
quoted="$(grep -oE '"Epoch [0-9]+: [0-9]+ / 1996"' <<<"$example" | tr -d '"')"
first="$(head -n 1 <<<"$quoted")"
[ -n "$first" ] || die "the README's library example quotes no 'Epoch N: C / 1996' output"
grep -qxF "$first" "$work/app.out" || die "the README's library example says '$first', but it printed '$(head -n 1 "$work/app.out")'"
tail -n +2 <<<"$quoted" | while IFS= read -r line; do
  grep -qxF "$line" "$work/app.out" || echo "note: the README quotes '$line'; this machine printed otherwise (vector width or FMA differ)"
done

say "3. dotnet tool install backprop --tool-path, then train from another directory"
dotnet tool install backprop --tool-path "$work/tools" --add-source "$feed" --version "$version" >"$work/tool.log" 2>&1 ||
  { cat "$work/tool.log"; die "dotnet tool install failed"; }
mkdir -p "$work/elsewhere"
(cd "$work/elsewhere" && "$work/tools/backprop" train --epochs 2 --monitor --plot run.png) >"$work/tool.out" 2>&1 ||
  { cat "$work/tool.out"; die "the installed tool failed to train"; }
cat "$work/tool.out"
grep -qE '^Epoch 1: [0-9]+ / 1996' "$work/tool.out" || die "the installed tool printed no 'Epoch 1' line"
[ -s "$work/elsewhere/run.png" ] || die "the installed tool wrote no plot"

if [ "$aot" -eq 1 ]; then
  say "4. dotnet publish src/Backprop.Simd.Cli -c Release -r linux-x64 -p:PublishAot=true"
  command -v clang >/dev/null || die "Native AOT needs clang (apt-get install clang zlib1g-dev), or pass --no-aot"
  start=$(date +%s)
  dotnet publish "$repo/src/Backprop.Simd.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$work/aot" >"$work/aot.log" 2>&1 ||
    { cat "$work/aot.log"; die "Native AOT publish failed"; }
  if grep -iE '(^|[^a-z])warning ' "$work/aot.log"; then
    die "Native AOT publish printed warnings (above)"
  fi
  # Portable: the AOT compiler got no --instruction-set (not native, not x86-64-v3; see docs/packaging.md).
  rsp="$repo/src/Backprop.Simd.Cli/obj/Release/net10.0/linux-x64/native/backprop.ilc.rsp"
  [ -f "$rsp" ] || die "no ILC response file at $rsp"
  if grep -E '^--instruction-set' "$rsp"; then
    die "the Native AOT binary targets a specific instruction set (above); the shipped binary must be portable"
  fi
  echo "published in $(( $(date +%s) - start )) s: $(stat -c %s "$work/aot/backprop") bytes"
  bin="$work/aot/backprop"
  (
    cd "$work/elsewhere"
    "$bin" train --epochs 1 --monitor --save model.json --plot aot.png
    "$bin" info --model model.json
    "$bin" evaluate --model model.json
    "$bin" predict --model model.json --index 0
    "$bin" export --model model.json --onnx model.onnx
    "$bin" import --onnx model.onnx --save imported.json
    "$bin" predict --model imported.json --index 0
  ) >"$work/aot.out" 2>&1 || { cat "$work/aot.out"; die "the Native AOT binary failed"; }
  cat "$work/aot.out"
  [ -s "$work/elsewhere/aot.png" ] || die "the Native AOT binary wrote no plot"
  grep -qE '^Epoch 0: [0-9]+ / 1996' "$work/aot.out" || die "the Native AOT binary printed no 'Epoch 0' line"
fi

echo
echo "package check passed"
