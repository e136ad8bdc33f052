#!/usr/bin/env bash
# Installs the protobuf tools into build/tools from the Go module proxy,
# at pinned versions. Idempotent: a tool already built is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOBIN="$PWD/build/tools"
mkdir -p "$GOBIN"
need() { [ -x "$GOBIN/$1" ] || { echo "installing $1 ($2)"; go install "$2"; }; }
need buf github.com/bufbuild/buf/cmd/buf@v1.75.0
need protoc-gen-gocosmos github.com/cosmos/gogoproto/protoc-gen-gocosmos@v1.7.2
need protoc-gen-grpc-gateway github.com/grpc-ecosystem/grpc-gateway/protoc-gen-grpc-gateway@v1.16.0
