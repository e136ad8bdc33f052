# Parley — make targets. `make demo` runs the main job, `make test` the tests.
SHELL := /usr/bin/env bash
GO ?= go
BUILD_DIR ?= build
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/cosmos/cosmos-sdk/version.Name=parley \
	-X github.com/cosmos/cosmos-sdk/version.AppName=parleyd \
	-X github.com/cosmos/cosmos-sdk/version.Version=$(VERSION)

.PHONY: all build test lint proto-gen proto-lint localnet localnet-stop localnet-4 localnet-4-stop demo bench clean

all: build

build:
	@mkdir -p $(BUILD_DIR)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BUILD_DIR)/parleyd ./cmd/parleyd
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BUILD_DIR)/parley ./cmd/parley

# The whole test suite: unit, keeper, fuzz seeds, in-process chain, and the
# binaries against a real localnet process.
test:
	scripts/test.sh

lint:
	scripts/lint.sh

proto-gen:
	scripts/proto-gen.sh

proto-lint:
	scripts/proto-tools.sh && build/tools/buf lint

# The main job: a chain, three participants, a removal and rekey, a summary.
demo: build
	scripts/demo.sh

# Benchmarks (not part of make test): every figure of docs/PERFORMANCE.md,
# printed as a table with its reference from the same run.
bench:
	scripts/bench.sh

localnet: build
	scripts/localnet.sh start

localnet-stop:
	scripts/localnet.sh stop

# Four validators as processes on loopback (networks/local/README.md).
localnet-4: build
	networks/local/localnet-4.sh start

localnet-4-stop:
	networks/local/localnet-4.sh stop

clean:
	rm -rf $(BUILD_DIR)
