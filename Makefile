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

export SAM_CLI_TELEMETRY := 0

# The one way the functions are built. `sam build` (template.yaml: BuildMethod makefile)
# runs `make build-<LogicalId>` with ARTIFACTS_DIR set; `make build` runs `sam build`.
# A static linux/arm64 binary (template.yaml: Architectures [arm64]) without the
# legacy RPC path (lambda.norpc); -s -w drop the symbol table and DWARF. The local
# emulator builds through the same targets with LAMBDA_GOARCH set to the host's.
# The processor is a profile-guided build: the go command builds a main package with
# the default.pgo beside it (functions/processor/default.pgo, made by `make pgo`), here,
# in the demo, in `streamlake local` and in `make bench` alike.
LAMBDA_GOOS := linux
LAMBDA_GOARCH := arm64
LAMBDA_GOBUILD = test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it; run make build)"; exit 1; }; \
	CGO_ENABLED=0 GOOS=$(LAMBDA_GOOS) GOARCH=$(LAMBDA_GOARCH) GOFLAGS= \
	$(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap
# A bound on each bootstrap's size checked after sam build: the README's target for a
# stripped binary (Performance: 15 MB). The unstripped RPC build was 23.6 MB.
LAMBDA_MAX_BYTES ?= 15000000

# Integration tests fail, not skip, when moto server is missing under `make test`.
TEST_ENV := STREAMLAKE_REQUIRE_MOTO=1 MOTO_SERVER=$(MOTO_SERVER)
# What go-test needs besides .venv: the emulator's virtualenv.
GO_TEST_DEPS := $(VENV_EMULATOR)/.installed

FUNCTION ?= ProcessorFunction
EVENT ?= events/kinesis-sensor-batch.json

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-z][a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- tools
# One virtualenv per pinned requirements file:
# $(call venv-rule,DIR,REQUIREMENTS,WHAT,SIZE) makes DIR/.installed, saying what
# it installs and showing pip's progress (the first `make demo` or `make test`
# waits for it).
define venv-rule
$(1)/.installed: $(2)
	@echo "==> creating $(1): $(3) ($(2), about $(4))"
	$$(PYTHON) -m venv $(1)
	$(1)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(1)/bin/pip install --disable-pip-version-check -r $(2) \
	  | grep --line-buffered -E '^(Collecting|Installing|Successfully installed)' | sed -u 's/^/    /'
	touch $$@
endef
$(eval $(call venv-rule,$(VENV),tools/requirements.txt,the SAM CLI and cfn-lint,400 MB))
$(eval $(call venv-rule,$(VENV_CHECKOV),tools/requirements-checkov.txt,checkov,290 MB))
$(eval $(call venv-rule,$(VENV_EMULATOR),tools/requirements-emulator.txt,moto server for the local pipeline,140 MB))

.PHONY: venv-emulator
venv-emulator: $(VENV_EMULATOR)/.installed ## Create the emulator's virtualenv only (moto server; what `make demo` needs).

.PHONY: venv
venv: $(VENV)/.installed $(VENV_CHECKOV)/.installed $(VENV_EMULATOR)/.installed ## Create the pinned Python virtualenvs (SAM CLI, cfn-lint, checkov; moto).

.PHONY: deps
deps: ## Download Go modules.
	$(GO) mod download

# ---------------------------------------------------------------- quality gates
.PHONY: test
test: venv deps lint sam-build go-test sar-check iam-check checkov govulncheck ## Run every check CI runs: lint, sam validate/build (binaries checked), Go tests with moto, SAR check, IAM check, checkov, govulncheck.
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
	@if ! out=$$($(GO) mod tidy -diff 2>&1); then echo "$$out"; \
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

# What sam build produced, checked: arm64 ELF, static, stripped, built with the
# flags above and go.mod's toolchain, under the size bound; the processor with its profile.
.PHONY: sam-build
sam-build: build ## sam build, then check each bootstrap (arm64, static, stripped, lambda.norpc, trimpath, toolchain, size, profile).
	$(GO) run ./tools/bootstrapcheck -max-bytes $(LAMBDA_MAX_BYTES) -pgo .aws-sam/build/ProcessorFunction/bootstrap
	$(GO) run ./tools/bootstrapcheck -max-bytes $(LAMBDA_MAX_BYTES) .aws-sam/build/AggregatorFunction/bootstrap

# ---------------------------------------------------------------- build, run, deploy
.PHONY: build
build: $(VENV)/.installed ## sam build: one static arm64 bootstrap per function, through build-<LogicalId> below.
	$(SAM) build

# Called by sam build (and sam sync) with ARTIFACTS_DIR set; see LAMBDA_GOBUILD.
.PHONY: build-ProcessorFunction build-AggregatorFunction
build-ProcessorFunction:
	$(LAMBDA_GOBUILD) ./functions/processor
build-AggregatorFunction:
	$(LAMBDA_GOBUILD) ./functions/aggregator

# The demo: 10,000 records through 3 shards with every fault injected. Batches of 250
# give about 60 invocations, enough for every fault kind to show (crashes, timeouts,
# bisects, partial failures), and about 60 objects for the aggregator, whose emulated
# DynamoDB transactions cost tens of milliseconds of CPU per action: smaller batches
# multiply that work and the demo's time. SHAPE=recipe sends the classic recipe
# generator's records instead. MaximumRetryAttempts=10 (the template's default is 3):
# the injected faults fall on whichever invocations run, and near the end one shard's
# retries can draw four in a row, so that a batch is discarded and, after a bisect,
# leaves the duplicates README.md describes (1 run in 7 with 3, 2026-12-07); the demo
# shows faults recovered from, and a run with MaximumRetryAttempts=0 shows discards.
SHAPE ?= sensor
DEMO_FLAGS ?= --count 10000 --parameter-overrides "ShardCount=3 BatchSize=250 MaximumBatchingWindowInSeconds=1 MaximumRetryAttempts=10" \
	--s3-failure-rate 0.05 --crash-rate 0.05 --timeout-rate 0.05 --poison-rate 0.005 --shape $(SHAPE)

# The CLI binary the demo runs. It is built with the flags lambdahost.Build gives the
# functions (CGO off, -trimpath, the lambda.norpc tag), together with them, so that the
# packages they share are compiled once (twice for the processor, whose profile-guided
# build compiles its own) and `streamlake local` finds the functions' builds in the Go
# cache.
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

# The aggregator's sample notification names the object the processor writes for
# the sample Kinesis batch: invoke runs that batch first (--seed) so that it exists.
SEED ?= $(if $(filter events/sqs-s3-notification.json,$(EVENT)),events/kinesis-sensor-batch.json)
.PHONY: invoke
invoke: $(VENV_EMULATOR)/.installed ## Invoke a function locally without Docker: make invoke FUNCTION=ProcessorFunction EVENT=events/x.json [SEED=events/kinesis-x.json]
	MOTO_SERVER=$(MOTO_SERVER) $(CLI) invoke --function $(FUNCTION) --event $(EVENT) $(addprefix --seed ,$(SEED))

.PHONY: events
events: ## Regenerate the sample Kinesis events in events/ (deterministic; the commands are in cmd/streamlake/testdata/produce/events.txt, the KPL sample is built by a test).
	$(GO) build -o .local/bin/streamlake ./cmd/streamlake
	while read -r line; do [ -n "$$line" ] && .local/bin/streamlake $$line; done < cmd/streamlake/testdata/produce/events.txt
	$(GO) test ./cmd/streamlake -run '^TestKPLSampleEventUpToDate$$' -update-kpl

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

# checkov and govulncheck run in make test. govulncheck runs offline, against a Go
# vulnerability database built from a pinned version of the golang.org/x/vulndb module
# (its data/osv advisories, indexed by its own cmd/indexdb) and cached in
# .local/vulndb/<version>: the first run builds it (about 2 minutes), later runs reuse
# it. Raise VULNDB_VERSION to take newer advisories (`go list -m -versions` does not
# list pseudo-versions: take the newest commit's from the Go module proxy). Both tools
# run as `go run pkg@version`, pinned here and verified against the Go checksum
# database, so their dependencies stay out of go.mod. VULNDB=https://vuln.go.dev
# checks against the live database instead.
GOVULNCHECK_VERSION := v1.9.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB_DIR := .local/vulndb/$(VULNDB_VERSION)
VULNDB ?= file://$(CURDIR)/$(VULNDB_DIR)
.PHONY: security checkov govulncheck
security: checkov govulncheck ## checkov on template.yaml and govulncheck on the Go code.
checkov: $(VENV_CHECKOV)/.installed ## checkov on template.yaml (remaining findings are suppressed in the template with reasons).
	$(CHECKOV) -f template.yaml --framework cloudformation --skip-download --compact --quiet
govulncheck: $(if $(filter file://$(CURDIR)/$(VULNDB_DIR),$(VULNDB)),$(VULNDB_DIR)/index/db.json) ## govulncheck (pinned) on every package, offline, with the toolchain builds use; fails on any finding.
	$(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) -db $(VULNDB) ./...
$(VULNDB_DIR)/index/db.json:
	$(GO) mod download golang.org/x/vulndb@$(VULNDB_VERSION)
	rm -rf $(VULNDB_DIR).tmp
	$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) \
	  -vulns "$$($(GO) env GOMODCACHE)/golang.org/x/vulndb@$(VULNDB_VERSION)/data/osv" -out $(VULNDB_DIR).tmp
	rm -rf $(VULNDB_DIR) && mv $(VULNDB_DIR).tmp $(VULNDB_DIR)

.PHONY: bench
bench: $(VENV)/.installed $(VENV_EMULATOR)/.installed ## Benchmarks (processor, filter, aggregator parser, cold start, binary size, peak RSS, Python recipe); the last line is JSON.
	MOTO_SERVER=$(MOTO_SERVER) $(GO) run ./bench/collect -python $(CURDIR)/$(VENV)/bin/python

# The processor's profile for its profile-guided build: a CPU profile of the function's
# handler on 1,000-record sensor batches with gzip (the figures `make bench` reads its
# targets at), taken from a build without a profile. Regenerate it after changing the hot
# path; a stale profile costs speed, never correctness (functions/processor/pgo_test.go
# fails when the profile no longer names the handler's hot functions). The aggregator
# has none: its parser measured no faster with one.
PGO_PROFILE := functions/processor/default.pgo
.PHONY: pgo
pgo: ## Regenerate functions/processor/default.pgo, the processor's profile-guided build, from its handler benchmark.
	@mkdir -p .local
	$(GO) test -run '^$$' -bench '^BenchmarkLambdaHandler$$/^gzip$$/^1000$$' -benchtime 10s -pgo=off \
	  -o .local/ingest.test -cpuprofile $(CURDIR)/$(PGO_PROFILE) ./internal/ingest

BENCH_LOCAL_COUNTS ?= 10000,100000
.PHONY: bench-local
bench-local: ## Local pipeline end to end with faults at 10,000 and 100,000 records (records/s, objects/s, emulator CPU share and peak RSS); one JSON line.
	@$(MAKE) -j2 $(VENV_EMULATOR)/.installed demo-build
	MOTO_SERVER=$(MOTO_SERVER) $(GO) run ./bench/local -bin $(STREAMLAKE_BIN) -counts $(BENCH_LOCAL_COUNTS)

# ---------------------------------------------------------------- Serverless Application Repository
PACKAGE_BUCKET ?=
PACKAGED := .aws-sam/packaged.yaml

# No emulator enforces IAM: check that each function's role grants exactly what its
# code calls (found in the code) and what Lambda needs for it (tools/iamcheck).
.PHONY: iam-check
iam-check: ## Check each function's role against the AWS calls its code makes: all granted, nothing more.
	$(GO) run ./tools/iamcheck -template template.yaml
	$(GO) run ./tools/iamcheck -template template.yaml -parameter-overrides StreamConsumer=efo

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

# CONFIG_ENV picks the samconfig.toml environment (default, ci, dev, prod); SAM reads
# its stack name and region from there. In the default environment the first deploy
# is guided: the stack does not exist, or has no outputs yet (sam list stack-outputs
# says which), as when a first deploy's change set was not executed (the stack stays
# in REVIEW_IN_PROGRESS, which sam deploy creates anew) or failed (ROLLBACK_COMPLETE,
# which sam deploy reports). The other environments have every answer in
# samconfig.toml and never ask, so that a pipeline's first deploy does not wait for a
# keyboard. Any other error (no credentials, no permission) stops here.
CONFIG_ENV ?= default
.PHONY: deploy
deploy: build ## Deploy with sam: make deploy [CONFIG_ENV=ci] (guided the first time in the default environment, when the stack does not exist yet).
	@if out=$$($(SAM) list stack-outputs --config-env $(CONFIG_ENV) 2>&1); then \
	  $(SAM) deploy --config-env $(CONFIG_ENV); \
	elif [[ "$$out" != *"does not exist on Cloudformation"* && "$$out" != *"Outputs do not exist for the input stack"* ]]; then \
	  echo "$$out" >&2; exit 1; \
	elif [[ "$(CONFIG_ENV)" == default ]]; then \
	  $(SAM) deploy --guided --config-env $(CONFIG_ENV); \
	else $(SAM) deploy --config-env $(CONFIG_ENV); fi

.PHONY: delete
delete: $(VENV)/.installed ## Delete the deployed stack (the output bucket and the summaries table are retained: README "Deleting the stack").
	$(SAM) delete --config-env $(CONFIG_ENV)

.PHONY: clean
clean: ## Stop a local run's emulators, then remove build outputs and local pipeline state (not the virtualenvs).
	@# Without .local, `streamlake local --stop` could no longer find the emulators.
	@if [ -f .local/run.json ]; then $(CLI) local --stop || echo "make clean: the emulators could not be stopped (above): stop them by their process IDs"; fi
	rm -rf .aws-sam build .local
