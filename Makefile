# streamlake: developer entry points. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
VENV_CHECKOV := .venv-checkov
# The emulator alone (moto server for Kinesis, S3, SQS, DynamoDB): what `make demo`
# and the integration tests need, without the SAM CLI and checkov.
VENV_EMULATOR := .venv-emulator
MOTO_SERVER := $(CURDIR)/$(VENV_EMULATOR)/bin/moto_server
SAM := $(VENV)/bin/sam
CFN_LINT := $(VENV)/bin/cfn-lint
CHECKOV := $(VENV_CHECKOV)/bin/checkov
GO ?= go
# The Go release with the standard library's security fixes (go.mod's toolchain line);
# fetched through the Go module proxy on first use. Everything that runs `go` goes through make.
export GOTOOLCHAIN := go1.27.3
CLI := $(GO) run ./cmd/streamlake

# sam build runs `go build` with this environment (see template.yaml BuildMethod go1.x):
# a static binary without the legacy RPC path; -s drops the symbol table and DWARF.
export SAM_CLI_TELEMETRY := 0
LAMBDA_GOENV := CGO_ENABLED=0 GOFLAGS=-tags=lambda.norpc\ -ldflags=-s

# Integration tests fail, not skip, when moto server is missing under `make test`.
TEST_ENV := STREAMLAKE_REQUIRE_MOTO=1 MOTO_SERVER=$(MOTO_SERVER)
# What go-test needs besides .venv: the emulator's virtualenv.
GO_TEST_DEPS := $(VENV_EMULATOR)/.installed

FUNCTION ?= ProcessorFunction
EVENT ?= events/kinesis-sensor-batch.json

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-z][a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- tools
$(VENV)/.installed: tools/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	touch $@

$(VENV_CHECKOV)/.installed: tools/requirements-checkov.txt
	$(PYTHON) -m venv $(VENV_CHECKOV)
	$(VENV_CHECKOV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV_CHECKOV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-checkov.txt
	touch $@

$(VENV_EMULATOR)/.installed: tools/requirements-emulator.txt
	@echo "==> creating $(VENV_EMULATOR): moto server for the local pipeline (tools/requirements-emulator.txt, about 140 MB)"
	$(PYTHON) -m venv $(VENV_EMULATOR)
	$(VENV_EMULATOR)/bin/pip install --disable-pip-version-check -r tools/requirements-emulator.txt \
	  | grep --line-buffered -E '^(Collecting|Installing|Successfully installed)' | sed -u 's/^/    /'
	touch $@

.PHONY: venv-emulator
venv-emulator: $(VENV_EMULATOR)/.installed ## Create the emulator's virtualenv only (moto server; what `make demo` needs).

.PHONY: venv
venv: $(VENV)/.installed $(VENV_CHECKOV)/.installed $(VENV_EMULATOR)/.installed ## Create the pinned Python virtualenvs (SAM CLI, cfn-lint, checkov; moto).

.PHONY: deps
deps: ## Download Go modules.
	$(GO) mod download

# ---------------------------------------------------------------- quality gates
.PHONY: test
test: venv deps lint sam-build go-test sar-check checkov ## Run every check CI runs: lint, sam validate/build, Go tests with moto, SAR check, checkov.
	@echo "make test: all checks passed"

.PHONY: lint
lint: fmt-check vet staticcheck tidy-check template-lint ## gofmt, vet, staticcheck, go mod tidy drift, cfn-lint, sam validate --lint.

.PHONY: fmt-check
fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.venv*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi; echo "gofmt: ok"

.PHONY: vet
vet:
	$(GO) vet ./...

.PHONY: staticcheck
staticcheck:
	$(GO) tool staticcheck ./...

.PHONY: tidy-check
tidy-check:
	@cp go.mod /tmp/streamlake-go.mod.bak; cp go.sum /tmp/streamlake-go.sum.bak; \
	$(GO) mod tidy; \
	if ! cmp -s go.mod /tmp/streamlake-go.mod.bak || ! cmp -s go.sum /tmp/streamlake-go.sum.bak; then \
	  cp /tmp/streamlake-go.mod.bak go.mod; cp /tmp/streamlake-go.sum.bak go.sum; \
	  echo "go mod tidy would change go.mod/go.sum: run it and commit"; exit 1; fi; echo "go mod tidy: ok"

.PHONY: template-lint
template-lint: $(VENV)/.installed
	$(CFN_LINT) template.yaml
	$(SAM) validate --lint

.PHONY: go-test
go-test: $(VENV)/.installed $(GO_TEST_DEPS) ## Go tests with the race detector, moto-backed integration tests included.
	@mkdir -p .local
	$(GO) build -o .local/bin/testsummary ./tools/testsummary
	$(TEST_ENV) $(GO) test -race -count=1 -timeout 30m -json ./... | tee .local/go-test.json | .local/bin/testsummary

.PHONY: sam-build
sam-build: build
	@for fn in ProcessorFunction AggregatorFunction; do \
	  file .aws-sam/build/$$fn/bootstrap | grep -q 'ELF 64-bit LSB executable, ARM aarch64.*statically linked' \
	  || { echo "sam build did not produce a static arm64 bootstrap for $$fn"; exit 1; }; \
	  echo "sam build: $$fn: static arm64 bootstrap ok"; done

# ---------------------------------------------------------------- build, run, deploy
.PHONY: build
build: $(VENV)/.installed ## sam build (Go, arm64, static bootstrap per function).
	$(LAMBDA_GOENV) $(SAM) build

# The demo: a few thousand records through 3 shards with every fault injected.
DEMO_FLAGS ?= --count 10000 --parameter-overrides "ShardCount=3 BatchSize=100 MaximumBatchingWindowInSeconds=1" \
	--s3-failure-rate 0.05 --crash-rate 0.03 --timeout-rate 0.02 --poison-rate 0.005

# The CLI binary the demo runs. It is built with the flags lambdahost.Build gives the
# functions (CGO off, -trimpath, the lambda.norpc tag), together with them, so that the
# packages they share are compiled once and `streamlake local` finds the functions'
# builds in the Go cache.
STREAMLAKE_BIN := .local/bin/streamlake
DEMO_GOENV := CGO_ENABLED=0
DEMO_GOFLAGS := -trimpath -tags lambda.norpc -ldflags='-s -w'

.PHONY: demo-build
demo-build:
	@echo "==> building the streamlake CLI and the functions (Go modules are downloaded on first use)"
	@mkdir -p .local/bin
	$(DEMO_GOENV) $(GO) build $(DEMO_GOFLAGS) -o .local/bin/ ./cmd/streamlake ./functions/processor ./functions/aggregator

.PHONY: demo
demo: ## Run the whole pipeline locally (moto, real functions, ESM emulation) and print the accounting.
	@$(MAKE) -j2 $(VENV_EMULATOR)/.installed demo-build
	MOTO_SERVER=$(MOTO_SERVER) $(STREAMLAKE_BIN) local $(DEMO_FLAGS)

.PHONY: invoke
invoke: $(VENV_EMULATOR)/.installed ## Invoke a function locally without Docker: make invoke FUNCTION=ProcessorFunction EVENT=events/x.json
	MOTO_SERVER=$(MOTO_SERVER) $(CLI) invoke --function $(FUNCTION) --event $(EVENT)

.PHONY: events
events: ## Regenerate the sample Kinesis events in events/ (deterministic; the commands are in cmd/streamlake/testdata/produce/events.txt).
	$(GO) build -o .local/bin/streamlake ./cmd/streamlake
	while read -r line; do [ -n "$$line" ] && .local/bin/streamlake $$line; done < cmd/streamlake/testdata/produce/events.txt

FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 10s
.PHONY: fuzz
fuzz: ## Run every fuzz target FUZZTIME long (default 30s each): make fuzz FUZZTIME=10m
	@for pkg in $$($(GO) list ./...); do \
	  for fn in $$($(GO) test -list '^Fuzz' "$$pkg" | grep '^Fuzz' || true); do \
	    echo "fuzz: $$pkg $$fn ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) "$$pkg"; \
	  done; \
	done

# checkov runs in make test. govulncheck needs the Go vulnerability database
# (vuln.go.dev, or a copy: VULNDB=file:///path) and is not part of make test.
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB ?= https://vuln.go.dev
.PHONY: security checkov govulncheck
security: checkov govulncheck ## checkov on template.yaml and govulncheck on the Go code.
checkov: $(VENV_CHECKOV)/.installed ## checkov on template.yaml (remaining findings are suppressed in the template with reasons).
	$(CHECKOV) -f template.yaml --framework cloudformation --skip-download --compact --quiet
govulncheck:
	$(GO) run $(GOVULNCHECK) -db $(VULNDB) ./...

.PHONY: bench
bench: $(VENV)/.installed $(VENV_EMULATOR)/.installed ## Benchmarks (processor, filter, aggregator parser, cold start, binary size, peak RSS, Python recipe); the last line is JSON.
	MOTO_SERVER=$(MOTO_SERVER) $(GO) run ./bench/collect -python $(CURDIR)/$(VENV)/bin/python

BENCH_LOCAL_COUNTS ?= 10000,100000
.PHONY: bench-local
bench-local: ## Local pipeline end to end with faults at 10,000 and 100,000 records (records/s, objects/s, emulator CPU share and peak RSS); one JSON line.
	@$(MAKE) -j2 $(VENV_EMULATOR)/.installed demo-build
	MOTO_SERVER=$(MOTO_SERVER) $(GO) run ./bench/local -bin $(STREAMLAKE_BIN) -counts $(BENCH_LOCAL_COUNTS)

# ---------------------------------------------------------------- Serverless Application Repository
PACKAGE_BUCKET ?=
PACKAGED := .aws-sam/packaged.yaml

.PHONY: sar-check
sar-check: ## Check template.yaml against the Serverless Application Repository's rules; list the capabilities it needs.
	$(GO) run ./tools/sarcheck template.yaml

.PHONY: package
package: sar-check build ## Upload code, README and LICENSE for SAR: make package PACKAGE_BUCKET=my-bucket
	@test -n "$(PACKAGE_BUCKET)" || { echo "set PACKAGE_BUCKET to a bucket SAR can read (README: Releasing)"; exit 1; }
	$(SAM) package --s3-bucket $(PACKAGE_BUCKET) --output-template-file $(PACKAGED)
	$(GO) run ./tools/sarcheck -packaged $(PACKAGED)

.PHONY: publish
publish: $(VENV)/.installed ## Publish the packaged template to SAR (after make package); fails if the version exists.
	@test -f $(PACKAGED) || { echo "$(PACKAGED) is missing: run make package PACKAGE_BUCKET=..."; exit 1; }
	$(GO) run ./tools/sarcheck -packaged $(PACKAGED)
	$(SAM) publish --template $(PACKAGED) --fail-on-same-version

.PHONY: deploy
deploy: build ## Deploy with sam (guided the first time, when the stack does not exist yet).
	@stack=$$(sed -n 's/^stack_name *= *"\(.*\)"/\1/p' samconfig.toml | head -1); \
	if $(SAM) list stack-outputs --stack-name "$$stack" >/dev/null 2>&1; then \
	  $(SAM) deploy; else $(SAM) deploy --guided; fi

.PHONY: delete
delete: $(VENV)/.installed ## Delete the deployed stack (the output bucket is retained).
	$(SAM) delete

.PHONY: clean
clean: ## Remove build outputs and local pipeline state (not the virtualenvs).
	rm -rf .aws-sam build .local
