#!/usr/bin/env bash
# Regenerates the gogoproto Go code for proto/parley/** offline: tools from
# the Go module proxy (proto-tools.sh), third-party protos vendored in
# third_party/proto. Generated files land beside the module types.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/proto-tools.sh
export PATH="$PWD/build/tools:$PATH"
[ -d third_party/proto ] || scripts/proto-vendor.sh
buf lint
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for dir in $(find proto/parley -name '*.proto' -exec dirname {} \; | sort -u); do
  buf generate --template proto/buf.gen.gogo.yaml --output "$tmp" --path "$dir"
done
cp -r "$tmp"/github.com/parleynet/parley/* ./
echo "generated: $(cd "$tmp" && find . -name '*.go' | wc -l) files"
