#!/usr/bin/env bash
# Copies the third-party .proto files Parley's protos import from the Go
# module cache into third_party/proto, so generation never needs buf's
# remote registry. Versions follow go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."
go mod download github.com/cosmos/cosmos-sdk github.com/cosmos/cosmos-proto github.com/cosmos/gogoproto github.com/grpc-ecosystem/grpc-gateway
mod() { go list -m -f '{{.Dir}}' "$1"; }
sdk=$(mod github.com/cosmos/cosmos-sdk)
cproto=$(mod github.com/cosmos/cosmos-proto)
gogo=$(mod github.com/cosmos/gogoproto)
gw=$(mod github.com/grpc-ecosystem/grpc-gateway)
out=third_party/proto
rm -rf "$out"
copy() { mkdir -p "$out/$(dirname "$2")"; install -m 0644 "$1" "$out/$2"; }
copy "$sdk/proto/cosmos/msg/v1/msg.proto" cosmos/msg/v1/msg.proto
copy "$sdk/proto/cosmos/base/query/v1beta1/pagination.proto" cosmos/base/query/v1beta1/pagination.proto
copy "$sdk/proto/amino/amino.proto" amino/amino.proto
copy "$cproto/proto/cosmos_proto/cosmos.proto" cosmos_proto/cosmos.proto
copy "$gogo/gogoproto/gogo.proto" gogoproto/gogo.proto
copy "$gw/third_party/googleapis/google/api/annotations.proto" google/api/annotations.proto
copy "$gw/third_party/googleapis/google/api/http.proto" google/api/http.proto
echo "vendored $(find "$out" -name '*.proto' | wc -l) proto files into $out"
