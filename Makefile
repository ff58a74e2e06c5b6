# gitseal developer targets. `make help` lists them.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Explicit, so builds behave the same whatever the machine's environment says.
# There is no VCS stamping: the version comes from VERSION via -ldflags.
export GOFLAGS := -buildvcs=false

MODULE  := github.com/gitseal/gitseal
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X $(MODULE)/internal/version.Version=$(VERSION)

LOCALBIN := $(CURDIR)/bin
DIST     := $(CURDIR)/dist

# The controller image that `make image` writes (an OCI tarball, no Docker).
IMAGE_REPO ?= ghcr.io/gitseal/gitseal
IMAGE      ?= $(IMAGE_REPO):$(VERSION)
# The CA bundle installed in the image; distroless installs Debian's too.
CA_CERTS   ?= /etc/ssl/certs/ca-certificates.crt
# The CLI archives `make release` builds, for krew and the release page.
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
# The workload image of test/cluster.
TEST_POD_IMAGE := localhost/gitseal/testpod:1

CONTROLLER_GEN_VERSION := v0.23.0
CONTROLLER_GEN         := $(LOCALBIN)/controller-gen-$(CONTROLLER_GEN_VERSION)
GOLANGCI_LINT_VERSION  := v2.15.0
GOLANGCI_LINT          := $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
# helm, for charts/gitseal's tests (test/chart) and the real-node suite.
HELM_VERSION           := v4.3.2
HELM                   := $(LOCALBIN)/helm-$(HELM_VERSION)
# promtool tests config/prometheus; the Prometheus module is large: the first
# install took 33 minutes (11 of CPU) on a 2-core machine with a cold cache.
PROMTOOL_VERSION       := v0.316.0
PROMTOOL               := $(LOCALBIN)/promtool-$(PROMTOOL_VERSION)

# package:FuzzTarget pairs run by `make fuzz`, each for FUZZTIME. Minimizing a
# new input is capped at 5s: the default (60s) spends a short run minimizing
# one multi-kilobyte hybrid ciphertext instead of fuzzing.
FUZZ_TARGETS := crypto:FuzzOpen crypto:FuzzParseEnvelope internal/policy:FuzzCheckFile \
                internal/gitsource:FuzzValidateURL internal/gitsource:FuzzParseKnownHosts \
                internal/gitsource:FuzzVerifySSHSignature internal/gitsource:FuzzUnpack \
                internal/bitnami:FuzzOpen internal/bitnami:FuzzParseKeys \
                internal/render:FuzzBuildPlain
FUZZTIME     ?= 2m
# Passed to -benchtime when set, e.g. BENCHTIME=5x.
BENCHTIME    ?=

# Modules of their own that vet, lint, tidy and verify cover with this one.
# The first three build on this one (through a replace directive), so that
# `go install ./...` at the root, which is how pre-commit installs the
# gitseal-scan hook, installs only cmd/gitseal; hack/plots keeps gonum out
# of go.mod. hack/envtest and hack/promcheck pin tools and stand alone.
NESTED_MODULES := cmd/gitseal-controller hack test/cluster/testpod hack/plots

##@ General

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "; printf "Usage: make <target> [VAR=value]\n"} \
		/^[a-zA-Z_-]+:.*## / { printf "  %-10s %s\n", $$1, $$2 } \
		/^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: build
build: ## Build bin/gitseal and bin/gitseal-controller (static, VERSION=... sets the version)
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $(LOCALBIN)/ ./cmd/gitseal
	CGO_ENABLED=0 go -C cmd/gitseal-controller build -trimpath -ldflags '$(LDFLAGS)' -o $(LOCALBIN)/ .

.PHONY: image
image: build ## Build the controller image without Docker: dist/image.tar (OCI layout), its digest in dist/image.digest
	$(call controller-image,$(DIST)/image,$(IMAGE),$(LOCALBIN),$(VERSION))
	@echo "image: $(IMAGE)@$$(cat $(DIST)/image.digest) in $(DIST)/image.tar"

.PHONY: release
release: image ## Write dist/install.yaml (image pinned by digest), the CLI archives and, for a v* VERSION, the krew manifest
	go -C hack run ./release -config $(CURDIR)/config/default -image $(IMAGE_REPO)@$$(cat $(DIST)/image.digest) -version $(VERSION) -o $(DIST)/install.yaml
	@echo "release: $(DIST)/install.yaml installs $(IMAGE_REPO)@$$(cat $(DIST)/image.digest); push $(DIST)/image.tar there first"
	rm -rf $(DIST)/cli && mkdir -p $(DIST)/cli
	for platform in $(RELEASE_PLATFORMS); do \
		os=$${platform%/*}; arch=$${platform#*/}; bin=gitseal; [ $$os = windows ] && bin=gitseal.exe; \
		dir=$(DIST)/cli/$${os}_$$arch; mkdir -p $$dir; cp LICENSE $$dir/; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags '$(LDFLAGS)' -o $$dir/$$bin ./cmd/gitseal; \
		tar -C $$dir --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - $$bin LICENSE \
			| gzip -n > $(DIST)/gitseal_$(VERSION)_$${os}_$$arch.tar.gz; \
	done
	@if [[ "$(VERSION)" == v* ]]; then \
		go -C hack run ./release krew -version $(VERSION) -o $(DIST)/krew/gitseal.yaml $(DIST)/gitseal_$(VERSION)_*.tar.gz; \
		echo "release: $(DIST)/krew/gitseal.yaml, the krew manifest of the archives"; \
	else \
		echo "release: no krew manifest: VERSION $(VERSION) is not a v* tag"; \
	fi

# controller-image writes the controller image named $(2), with the
# binaries in directory $(3) and the version label $(4), to $(1).tar and
# its digest to $(1).digest: the Dockerfile's user, entrypoint and files on
# hack/image's stand-in for the distroless base.
define controller-image
	mkdir -p $(dir $(1))
	go -C hack run ./image -o $(1).tar -ref $(2) -base static -ca-certs $(CA_CERTS) \
		-user 65532:65532 -workdir /home/nonroot -entrypoint /usr/local/bin/gitseal-controller \
		-label org.opencontainers.image.version=$(4) \
		/usr/local/bin/gitseal=$(3)/gitseal \
		/usr/local/bin/gitseal-controller=$(3)/gitseal-controller > $(1).digest.tmp
	mv $(1).digest.tmp $(1).digest
endef

.PHONY: fmt
fmt: ## Format all Go code with gofmt
	gofmt -l -w .

.PHONY: vet
vet: ## Run go vet on this module and NESTED_MODULES
	for m in . $(NESTED_MODULES); do go -C $$m vet ./...; done

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint (pinned, installed into bin/) on this module and NESTED_MODULES
	for m in . $(NESTED_MODULES); do (cd $$m && $(GOLANGCI_LINT) run ./...); done

.PHONY: tidy
tidy: ## Run go mod tidy in this module and NESTED_MODULES (after changing go.mod)
	for m in . $(NESTED_MODULES); do go -C $$m mod tidy; done

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods for the API types
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs into config/crd/bases (copied to charts/gitseal/crds) and RBAC into config/rbac
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=gitseal-controller paths=./controllers/... output:rbac:artifacts:config=config/rbac
	rm -f charts/gitseal/crds/*.yaml
	cp config/crd/bases/*.yaml charts/gitseal/crds/

.PHONY: verify
verify: generate manifests ## Regenerate, then fail if generated code, manifests or charts changed, Go code is unformatted or a go.mod is not tidy
	@# Only changes in the working tree count (second status column, or
	@# untracked), so staged generated files can be verified before a commit.
	@changed=$$(git status --porcelain -- api config charts | grep -E '^.[^ ]' || true); \
	if [ -n "$$changed" ]; then \
		echo "verify: generated files are stale or not in git; run 'make generate manifests' and add them:" >&2; \
		echo "$$changed" >&2; \
		exit 1; \
	fi
	@for m in . $(NESTED_MODULES); do \
		if ! go -C $$m mod tidy -diff >/dev/null; then \
			echo "verify: $$m/go.mod or go.sum is not tidy; run 'make tidy'" >&2; exit 1; \
		fi; \
	done
	@if ! go -C hack/plots run . -check -data $(CURDIR)/docs/bench -out $(CURDIR)/docs/img; then \
		echo "verify: docs/img is not what docs/bench draws; run 'make plots'" >&2; exit 1; \
	fi
	@hack/headers.sh
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then \
		echo "verify: files need gofmt; run 'make fmt':" >&2; \
		echo "$$unformatted" >&2; \
		exit 1; \
	fi

.PHONY: plots
plots: ## Draw docs/img/*.svg, the charts of docs/benchmarks.md, from the benchmark output in docs/bench (hack/plots)
	go -C hack/plots run . -data $(CURDIR)/docs/bench -out $(CURDIR)/docs/img

##@ Testing

.PHONY: demo
demo: ## Run the whole story on a local control plane: key, seal, scan, unseal, rotate, re-seal, recover
	hack/demo.sh

.PHONY: envtest
envtest: ## Build (once per machine) and print the kube-apiserver/etcd/kubectl directory for KUBEBUILDER_ASSETS
	@hack/envtest.sh

# make unit leaves out the packages whose every test needs a control plane
# (and test/bench, which holds only benchmarks); elsewhere testenv.Shared
# and testenv.StartFor skip the tests that need one when
# GITSEAL_TEST_UNIT=1. make test clears the variable: it skips nothing.
UNIT_EXCLUDE := $(MODULE)/test/integration $(MODULE)/test/e2e $(MODULE)/test/chart $(MODULE)/test/bench

.PHONY: unit
unit: ## Run every test that needs no control plane (no kube-apiserver, etcd, helm or promtool): seconds on a warm cache
	env -u KUBEBUILDER_ASSETS GITSEAL_TEST_UNIT=1 go test \
		$$(go list ./... | grep -vxF $(addprefix -e ,$(UNIT_EXCLUDE)))

.PHONY: test
test: $(HELM) $(PROMTOOL) ## Run all tests against a real kube-apiserver + etcd, the chart and alert rule tests, a 10s fuzz of each target, and gitseal scan on the tree
	assets=$$(hack/envtest.sh); \
	KUBEBUILDER_ASSETS="$$assets" GITSEAL_TEST_UNIT= GITSEAL_TEST_HELM=$(HELM) go test ./...
	GITSEAL_TEST_UNIT= go -C hack test ./...
	go -C hack/plots test ./...
	$(MAKE) test-prometheus
	$(MAKE) scan
	$(MAKE) fuzz FUZZTIME=10s

.PHONY: helm
helm: $(HELM) ## Install the pinned helm (once) and print its path, for GITSEAL_TEST_HELM
	@echo $(HELM)

.PHONY: test-prometheus
test-prometheus: $(PROMTOOL) ## Test config/prometheus: the alerts with promtool test rules, every query against the served metrics
	cd hack/promcheck && PROMTOOL=$(PROMTOOL) go test -count=1 ./...

.PHONY: test-cluster
test-cluster: image $(HELM) ## Run test/cluster on a real single-node cluster: hack/cluster up, the suite, down (Linux, root)
	mkdir -p $(DIST)/test
	CGO_ENABLED=0 go -C test/cluster/testpod build -trimpath -ldflags '-s -w' -o $(DIST)/test/testpod .
	go -C hack run ./image -o $(DIST)/test/testpod.tar -ref $(TEST_POD_IMAGE) -user 65532:65532 \
		-entrypoint /testpod /testpod=$(DIST)/test/testpod >/dev/null
	@# The image to upgrade to: the same code with another version.
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w -X $(MODULE)/internal/version.Version=$(VERSION)-next' \
		-o $(DIST)/test/next/ ./cmd/gitseal
	CGO_ENABLED=0 go -C cmd/gitseal-controller build -trimpath \
		-ldflags '-s -w -X $(MODULE)/internal/version.Version=$(VERSION)-next' -o $(DIST)/test/next/ .
	$(call controller-image,$(DIST)/test/next,$(IMAGE_REPO):$(VERSION)-next,$(DIST)/test/next,$(VERSION)-next)
	go test -tags cluster -c -o /dev/null ./test/cluster # compile before the cluster starts
	@# Exit status 3 from up: a cluster was up already, not ours to stop.
	status=0; hack/cluster up || status=$$?; \
	if [ $$status = 3 ]; then exit 3; fi; \
	if [ $$status = 0 ]; then \
		{ hack/cluster load $(DIST)/image.tar $(DIST)/test/next.tar $(DIST)/test/testpod.tar && \
		  GITSEAL_TEST_IMAGE=$(IMAGE_REPO)@$$(cat $(DIST)/image.digest) \
		  GITSEAL_TEST_UPGRADE_IMAGE=$(IMAGE_REPO)@$$(cat $(DIST)/test/next.digest) \
		  GITSEAL_TEST_POD_IMAGE=$(TEST_POD_IMAGE) GITSEAL_TEST_HELM=$(HELM) GOPROXY=off \
		  hack/cluster exec go test -tags cluster -count=1 -v -timeout 60m ./test/cluster; } || status=$$?; \
	fi; \
	hack/cluster down; \
	exit $$status

.PHONY: cluster-up
cluster-up: ## Start a real single-node cluster in a network namespace of its own (Linux, root; see hack/cluster)
	hack/cluster up

.PHONY: cluster-down
cluster-down: ## Stop exactly what cluster-up started and clean up after it
	hack/cluster down

.PHONY: scan
scan: ## Check this repository for plaintext secrets with gitseal scan, as users' CI does
	go run ./cmd/gitseal scan .

# go test -fuzz now and then stops at its deadline with "context deadline
# exceeded" and no failing input; only a new input under testdata/fuzz,
# which is what a real failure leaves behind, fails the run.
.PHONY: fuzz
fuzz: ## Run each fuzz target in FUZZ_TARGETS for FUZZTIME (default 2m)
	for target in $(FUZZ_TARGETS); do \
		pkg=$${target%%:*}; fn=$${target#*:}; corpus=$$pkg/testdata/fuzz/$$fn; \
		echo "fuzz: ./$$pkg $$fn for $(FUZZTIME)"; \
		before=$$( (ls $$corpus 2>/dev/null || true) | wc -l); \
		if ! go test ./$$pkg -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s; then \
			if [ "$$( (ls $$corpus 2>/dev/null || true) | wc -l)" -gt "$$before" ]; then exit 1; fi; \
			echo "fuzz: $$fn stopped without a failing input; not a finding"; \
		fi; \
	done

.PHONY: bench
bench: ## Run all benchmarks with -benchmem (BENCHTIME=... sets -benchtime)
	assets=$$(hack/envtest.sh); \
	KUBEBUILDER_ASSETS="$$assets" GITSEAL_TEST_UNIT= go test -run='^$$' -bench=. -benchmem $(if $(BENCHTIME),-benchtime=$(BENCHTIME)) ./...

.PHONY: clean
clean: ## Remove built binaries and dist/ (pinned tools in bin/ are kept)
	rm -f $(LOCALBIN)/gitseal $(LOCALBIN)/gitseal-controller
	rm -rf $(DIST)

# Pinned tools. Each is installed under a versioned name, so changing a version above
# installs the new one and an existing one is never rebuilt.
$(CONTROLLER_GEN):
	$(call go-install-tool,$@,sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_GEN_VERSION))

$(GOLANGCI_LINT):
	$(call go-install-tool,$@,github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

$(HELM):
	$(call go-install-tool,$@,helm.sh/helm/v4/cmd/helm,$(HELM_VERSION))
$(PROMTOOL):
	$(call go-install-tool,$@,github.com/prometheus/prometheus/cmd/promtool,$(PROMTOOL_VERSION))

# go-install-tool installs package $(2) at version $(3) as the file $(1), and
# points bin/<name> at it for use by hand.
define go-install-tool
	@echo "installing $(2)@$(3)" >&2
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	GOBIN="$$tmp" GOFLAGS= go install $(2)@$(3); \
	mkdir -p $(LOCALBIN); \
	mv "$$tmp/$$(basename $(2))" $(1); \
	ln -sf $(notdir $(1)) $(LOCALBIN)/$$(basename $(2))
endef
