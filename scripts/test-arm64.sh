#!/usr/bin/env bash
# Runs the kernel and training tests on linux-arm64 (AdvSimd, 128-bit vectors) under qemu user-mode emulation:
# publishes tests/Backprop.Simd.Tests self-contained for linux-arm64 into a temporary directory, runs the test
# executable with qemu-aarch64-static, prints the runner's summary and exits with the runner's exit code.
#
# Usage:
#   scripts/test-arm64.sh                     # the Backprop.Simd.Tests.Kernels and .Training namespaces
#   scripts/test-arm64.sh --filter-class X    # any test-platform options instead of the default filter
#
# Needs: the .NET SDK (global.json) and, on Debian 12, apt-get as root (or sudo). Installs what is missing:
# qemu-user-static and, through dpkg multiarch (adds the arm64 architecture), libc6, libstdc++6 and libssl3 for arm64.
# Takes about 2 minutes on 2 idle cores (publish ~25 s, tests ~75 s), 3-4 minutes when the cores are busy.
# Not the ONNX tests: ONNX Runtime's native library crashes (SIGSEGV) under qemu-user.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# 1. The emulator, plus the arm64 shared libraries the self-contained app still loads from the system: the dynamic
#    loader and libc, libstdc++ (runtime, ONNX Runtime), libssl (System.Security.Cryptography; without it the
#    process aborts at start-up with "No usable version of libssl was found").
missing=()
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
for package in libc6:arm64 libstdc++6:arm64 libssl3:arm64; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "==> installing ${missing[*]}"
  sudo=""; [[ $EUID -ne 0 ]] && sudo=sudo
  dpkg --print-foreign-architectures | grep -qx arm64 || $sudo dpkg --add-architecture arm64
  $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Publish into a temporary directory (build intermediates too, via --artifacts-path), removed on exit.
#    UseMicrosoftTestingPlatformRunner makes the xunit.v3 executable run Microsoft.Testing.Platform (the --filter-*
#    options and the summary block); without it a directly started test exe runs xunit's own console runner.
work="$(mktemp -d "${TMPDIR:-/tmp}/backprop-arm64.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "==> dotnet publish tests/Backprop.Simd.Tests -r linux-arm64 --self-contained"
publish_start=$SECONDS
dotnet publish tests/Backprop.Simd.Tests/Backprop.Simd.Tests.csproj -c Release -r linux-arm64 --self-contained \
  -p:UseMicrosoftTestingPlatformRunner=true --artifacts-path "$work/artifacts" -o "$work/publish" -nologo
echo "==> published in $((SECONDS - publish_start)) s"

# 3. Run the tests under the emulator. DOTNET_EnableWriteXorExecute=0 turns off the runtime's W^X double mapping of
#    JIT code: under qemu-user it crashes the run ("Illegal instruction"). --timeout stops a hung run.
#    One test is left out: it counts allocations process-wide, and under emulation each round is so slow that the
#    test host's own allocations land in most rounds (it failed 2 runs of 5 that way; every other test passed in all).
filters=(--filter-namespace Backprop.Simd.Tests.Kernels --filter-namespace Backprop.Simd.Tests.Training
  --filter-not-method '*Threaded_epochs_allocate_nothing_on_any_thread')
(($#)) && filters=("$@")
echo "==> qemu-aarch64-static Backprop.Simd.Tests ${filters[*]}"
test_start=$SECONDS
status=0
DOTNET_EnableWriteXorExecute=0 qemu-aarch64-static "$work/publish/Backprop.Simd.Tests" "${filters[@]}" \
  --results-directory "$work/results" --timeout 30m || status=$?
echo "==> linux-arm64 tests $( ((status == 0)) && echo passed || echo "FAILED (exit code $status)") in $((SECONDS - test_start)) s"
exit "$status"
