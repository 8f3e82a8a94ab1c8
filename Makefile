# gplens: `make demo` then `make test`. See README.md.
SHELL := /bin/bash
GO ?= go
# duckdb-go's Arrow interface (used by the Flight SQL server) is behind this tag.
export GOFLAGS := -tags=duckdb_arrow
export CGO_ENABLED := 1
BIN := bin/gplens
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck
DEMO_WS ?= demo

.PHONY: build install demo test lint vet tidy staticcheck bench bench-go bench-england bench-qof clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/gplens

# Into $(go env GOBIN) (or GOPATH/bin), with the tag: see README "Install".
install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/gplens

demo: build
	./$(BIN) --workspace $(DEMO_WS) demo

test: tidy vet staticcheck
	$(GO) test -count=1 -timeout 20m ./...
	# the race detector (and its pointer checks) on our own concurrency and pointer reads; tests that run
	# Go functions on several DuckDB threads are left out: duckdb-go writes a function's bind context
	# unguarded from each thread (scalar_udf.go, setCtx), which it reports too
	$(GO) test -race -count=1 -timeout 10m -run TestRowPathMatchesVectorised ./metrics/
	$(GO) test -race -count=1 -timeout 10m -skip TestSQLSurface ./disclosure/

lint: tidy vet staticcheck

# go.mod and go.sum must be what `go mod tidy` makes of them (direct
# requirements listed as such, nothing stale). -diff changes nothing and
# exits 1 with the diff; it reads modules from the module cache or proxy.
tidy:
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy and commit the result"; exit 1; }

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

bench: bench-go bench-england

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 60m ./... | tee bench-go.txt

bench-england: build
	./scripts/bench-england.sh | tee bench-england.txt

# The real QOF prevalence analysis, gplens sql vs pandas (also step 5 of bench-england).
bench-qof: build
	./scripts/bench-qof.sh | tee bench-qof.txt

clean:
	rm -rf bin $(DEMO_WS) bench-*.txt
