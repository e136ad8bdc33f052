#!/usr/bin/env bash
# Lint: gofmt, go vet, buf lint, and golangci-lint (with .golangci.yml)
# when it is installed. Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '\.pb\.go$' | grep -v '\.pb\.gw\.go$') || true)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
scripts/proto-tools.sh >/dev/null
build/tools/buf lint
if command -v golangci-lint >/dev/null; then
  golangci-lint run ./...
else
  echo "golangci-lint not installed: ran gofmt, go vet and buf lint only"
fi
echo "lint: clean"
