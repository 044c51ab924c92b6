# mission-control: build, demo and test. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := build

GO      ?= go
PKG     := github.com/datastax/mission-control
# One build configuration for every go command (vet, staticcheck, tests, the binaries), so that
# lint, unit and build share one build cache instead of compiling the dependency graph once each.
export CGO_ENABLED := 0
export GOFLAGS     := -trimpath
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Base64 bodies of the release public keys' PEM files (each from its own `mclicense keygen`): one
# verifies licenses, the other air-gap bundles (internal/releasekey says why two). Empty: the
# binary trusts the development key in internal/releasekey/development.pub, and says so.
LICENSE_PUBLIC_KEY ?=
BUNDLE_PUBLIC_KEY  ?=

LDFLAGS := -s -w -X $(PKG)/internal/version.Version=$(VERSION) -X $(PKG)/internal/version.Commit=$(COMMIT)
ifneq ($(LICENSE_PUBLIC_KEY),)
LDFLAGS += -X $(PKG)/internal/releasekey.trustedPublicKey=$(LICENSE_PUBLIC_KEY)
endif
ifneq ($(BUNDLE_PUBLIC_KEY),)
LDFLAGS += -X $(PKG)/internal/releasekey.trustedBundlePublicKey=$(BUNDLE_PUBLIC_KEY)
endif

# The runtime payload: built from pinned sources (RUNTIME_SOURCE=source) or, in production, from
# the k0s release (RUNTIME_SOURCE=release); components are cached in RUNTIME_CACHE by version.
RUNTIME_SOURCE ?= source
RUNTIME_CACHE  ?= $(HOME)/.cache/mission-control/runtime
PAYLOAD_DIR    := $(CURDIR)/runtime/payload

# The air-gap bundle: signed with BUNDLE_SIGNING_KEY (the development key by default; a release
# passes the release key). RUNTIME_SOURCE=release pulls bundle/images.txt by digest into
# BUNDLE_IMAGES_DIR; here, with no registry, BUNDLE_IMAGES_DIR must hold the OCI image tarballs.
BUNDLE             ?= bin/mission-control-$(VERSION).airgap
BUNDLE_SIGNING_KEY ?= examples/development-license.key
BUNDLE_IMAGES_DIR  ?=

TOOLS               := $(CURDIR)/.tools
STATICCHECK_VERSION := v0.8.0
STATICCHECK         := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)
# controller-gen's version is pinned by hack/tools/go.mod.
CONTROLLER_GEN      := $(TOOLS)/controller-gen-$(shell sed -n 's/^require sigs.k8s.io\/controller-tools //p' hack/tools/go.mod)
GENERATED           := charts/mission-control/crds operators/missioncontrol/api
# Each fuzz target runs this long beyond its seeds (make test runs them all).
FUZZTIME            ?= 20s

# vm-test: where the vm-tests suites run (local, podman, lima or vagrant), and optionally which
# distributions (DISTRO=rocky-9,debian-12) and suites (SUITE=preflight,reset).
TARGET ?= local
DISTRO ?=
SUITE  ?=
SHELL_SCRIPTS := .ci/run hack/*.sh hack/runtime/*.sh vm-tests/run.sh vm-tests/provision.sh vm-tests/lib/suite.bash vm-tests/lib/podman-host-init vm-tests/suites/*.bats vm-tests/bench/*.bats vm-tests/selftest.sh vm-tests/selftest/*.bats

# The Cassandra stand-ins (e2e/standin): a module of its own, test doubles of the database images.
STANDIN := e2e/standin

.PHONY: help deps runtime build bundle release run test check lint generate unit e2e vm-test vm-selftest bench fuzz standin-images clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

deps: ## install the Debian packages the build and the tests need (hack/deps.sh: as root; otherwise it names them)
	hack/deps.sh test

runtime: ## build the runtime payload (k0s, Kubernetes, etcd, images); slow once, then cached
	RUNTIME_SOURCE=$(RUNTIME_SOURCE) RUNTIME_CACHE=$(RUNTIME_CACHE) hack/runtime/build.sh $(PAYLOAD_DIR)

build: runtime ## build bin/mission-control (static, runtime payload embedded), bin/mcctl and bin/mclicense
	$(GO) build -tags payload -ldflags '$(LDFLAGS)' -o bin/ ./cmd/mission-control
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/ ./cmd/mclicense ./cmd/mcctl
	@ls -l bin/mission-control | awk '{printf "bin/mission-control: %d MB\n", $$5/1048576}'

bundle: build ## build the air-gap bundle bin/mission-control-VERSION.airgap: pulls bundle/images.txt (release), or packs BUNDLE_IMAGES_DIR
ifeq ($(RUNTIME_SOURCE),release)
	./bin/mission-control bundle build --pull-list bundle/images.txt --images-dir $(or $(BUNDLE_IMAGES_DIR),bin/bundle-images) \
	  --signing-key $(BUNDLE_SIGNING_KEY) --out $(BUNDLE)
else
	@if [ -z "$(BUNDLE_IMAGES_DIR)" ]; then echo "RUNTIME_SOURCE=source has no registry to pull bundle/images.txt from: pass BUNDLE_IMAGES_DIR=DIR of OCI image tarballs (e.g. made with go run ./hack/imagebuild)"; exit 1; fi
	./bin/mission-control bundle build --images-dir $(BUNDLE_IMAGES_DIR) --signing-key $(BUNDLE_SIGNING_KEY) --out $(BUNDLE)
endif

release: ## a release: the binary trusting the release keys and its bundle, pinned images pulled by digest (needs LICENSE_PUBLIC_KEY, BUNDLE_PUBLIC_KEY, BUNDLE_SIGNING_KEY and registry access)
	@if [ -z "$(LICENSE_PUBLIC_KEY)" ] || [ -z "$(BUNDLE_PUBLIC_KEY)" ]; then echo "make release: pass LICENSE_PUBLIC_KEY=... and BUNDLE_PUBLIC_KEY=... (the base64 bodies of two mclicense keygen .pub files); without them the binary would trust the published development key" >&2; exit 1; fi
	@if [ "$(BUNDLE_SIGNING_KEY)" = examples/development-license.key ]; then echo "make release: pass BUNDLE_SIGNING_KEY=FILE, the private half of BUNDLE_PUBLIC_KEY; the development key's private half is published" >&2; exit 1; fi
	$(MAKE) --no-print-directory bundle RUNTIME_SOURCE=release

run: ## install what the build needs (as root), build, then show the install plan for the example license (changes nothing)
	hack/deps.sh build
	$(MAKE) --no-print-directory build
	./bin/mission-control install --license examples/license.yaml --dry-run

# make test runs its stages in order, each under `timeout -k 30s BOUND` (hack/stages.sh), with a
# timestamped start line and its duration; it ends with a table of every stage's and every
# suite's duration. The bounds are a cold machine's time with room to spare: a hang fails its
# stage in minutes, named. Inner bounds (go test -timeout, each suite's, each host command's) are
# shorter, so that what timed out is named and cleaned up before the stage's bound kills it.
TEST_STAGES := deps:20m lint:25m build:80m unit:50m fuzz:15m vm-selftest:8m vm-test:70m
test: ## everything CI runs: deps, lint, build, unit, dry-run and end-to-end tests, fuzzing, then the vm-tests suites on podman hosts (as root)
	@hack/stages.sh bin/vm-tests/podman $(TEST_STAGES)

check: lint ## the loop while coding (no root, no runtime): gofmt, vet, staticcheck, shellcheck, generated files, unit and dry-run tests
	$(GO) test -tags e2e -count=1 -timeout 10m $$($(GO) list ./... | grep -v '/e2e$$')
	cd $(STANDIN) && $(GO) test -count=1 -timeout 5m ./...

lint: $(STATICCHECK) generate ## gofmt, go vet, staticcheck, shellcheck, and the generated files are current
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt -l lists:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet -tags e2e ./...
	$(STATICCHECK) -tags e2e ./...
	cd $(STANDIN) && $(GO) vet ./... && $(STATICCHECK) ./...
	shellcheck -x -P SCRIPTDIR $(SHELL_SCRIPTS)
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
	  echo "generated files differ from the committed ones: run make generate and commit the result"; \
	  git status --short -- $(GENERATED); exit 1; fi

generate: $(CONTROLLER_GEN) ## regenerate the API's deepcopy code and the chart's CRDs from the pinned modules
	$(GO) run ./hack/generate $(CONTROLLER_GEN)

# The end-to-end tests need root; under CI=true a test that cannot run fails instead of skipping.
# They run alone, after the others: they install the runtime on this host. Their output is
# filtered to the tests' own lines (whole messages, without the runtime's log lines). After a
# failed, timed-out or panicked run, hack/e2e-cleanup.sh resets what it left.
E2E_TIMEOUT ?= 40m
RUN         ?= .
unit: ## the Go tests: unit and dry-run (the UI's screenshots kept in bin/test-artifacts), then the end-to-end tests (make e2e) with bin/mission-control from make build
	@rm -rf bin/test-artifacts && mkdir -p bin/test-artifacts
	$(GO) test -tags e2e -count=1 -timeout 10m -artifacts -outputdir $(CURDIR)/bin/test-artifacts $$($(GO) list ./... | grep -v '/e2e$$')
	cd $(STANDIN) && $(GO) test -count=1 -timeout 5m ./...
	$(MAKE) --no-print-directory e2e

e2e: ## the end-to-end tests alone, as root (they install and reset for real), e.g. make e2e RUN=TestAirgap
	@rm -f bin/e2e-holders && mkdir -p bin/test-artifacts
	@MC_E2E=1 MC_BINARY=$(CURDIR)/bin/mission-control MC_E2E_HOLDERS=$(CURDIR)/bin/e2e-holders \
	  $(GO) test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -run '$(RUN)' -v -artifacts -outputdir $(CURDIR)/bin/test-artifacts ./e2e/ 2>&1 | \
	  grep -E --line-buffered '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go:|^        ' | grep -v --line-buffered ' level='; \
	  status=$${PIPESTATUS[0]}; \
	  if [ $$status -ne 0 ]; then hack/e2e-cleanup.sh $(CURDIR)/bin/mission-control $(CURDIR)/bin/e2e-holders; fi; \
	  rm -f bin/e2e-holders; exit $$status

vm-test: build ## the vm-tests suites against TARGET=local (this machine, as root), podman (system containers), lima or vagrant; DISTRO=..., SUITE=... narrow it
	vm-tests/run.sh --target $(TARGET) $(if $(DISTRO),--distro $(DISTRO)) $(if $(SUITE),--suite $(SUITE))

vm-selftest: build ## the vm-tests runner's own test on podman (as root): a step that never ends fails its suite at the bound, named, hosts torn down
	vm-tests/selftest.sh

bench: build ## time a bare k0s against install, and reset (root; installs for real); the operator's apply latency and scale; bundle verify+extract vs tar; a worker's join vs the first install, two regions' cluster vs one region's (podman hosts)
	MC_E2E=1 MC_BINARY=$(CURDIR)/bin/mission-control $(GO) test -tags e2e -run '^$$' -bench . -benchtime 1x -timeout 60m ./e2e/
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./operators/missioncontrol/
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 30m ./bundle/
	vm-tests/run.sh --target podman --suites-dir vm-tests/bench --suite join,multi-region --out $(CURDIR)/bin/bench

standin-images: ## the Cassandra stand-ins' images (test doubles, never in the payload) in bin/standin/, under the references cass-operator computes for 4.0.11
	hack/standin-images.sh bin/standin

fuzz: ## run every fuzz target (each func Fuzz* of the tests) for FUZZTIME (default 20s) beyond its seeds (hack/fuzz.sh)
	GO=$(GO) hack/fuzz.sh $(FUZZTIME)

$(CONTROLLER_GEN):
	mkdir -p $(TOOLS)
	cd hack/tools && GOBIN=$(TOOLS) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen
	mv $(TOOLS)/controller-gen $@

$(STATICCHECK):
	mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS)/staticcheck $@

clean: ## remove build outputs and tools
	rm -rf bin $(TOOLS)
