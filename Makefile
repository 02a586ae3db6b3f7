# softtenant — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
STATE ?= $(CURDIR)/.tmp/controlplane
IMAGE ?= localhost/softtenant:dev
IMAGE_ARCHIVE ?= .tmp/image/softtenant.tar
# The image tests (and the real-node scripts) read the same names.
export IMAGE IMAGE_ARCHIVE

##@ Main
demo: deps build controlplane-build ## Run the whole thing: control plane, operator, two node agents, real enforcement
	bash hack/demo.sh $(DEMO_FLAGS)

test: deps build controlplane-build image ## Install what is needed, then run lint and every test suite
	bash hack/run-tests.sh

##@ Development
deps: ## Install Debian tools and npm packages the project needs (idempotent)
	bash hack/install-deps.sh

build: deps ## Compile TypeScript into dist/
	npx tsc -p tsconfig.json

lint: deps ## eslint and prettier
	npx eslint . && npx prettier --check .

test-unit: build ## Unit tests only (pure parts, no I/O)
	bash hack/run-tests.sh unit

test-integration: build controlplane-build ## Integration tests against a real kube-apiserver
	bash hack/run-tests.sh integration

test-dataplane: build ## Dataplane tests: real iptables in network namespaces (root)
	bash hack/run-tests.sh dataplane

test-image: image ## Image tests: import into a scratch containerd, run as the pods do (root)
	bash hack/run-tests.sh image

test-e2e: build controlplane-build ## End-to-end: control plane, operator, agents, packets
	bash hack/run-tests.sh e2e

bench: build ## Print render/apply figures for synthetic clusters
	node dist/hack/bench.js

bench-operator: build controlplane-build ## Operator at 100/1,000/5,000 tenants, each on a fresh local control plane: time to Ready, API requests, CPU, RSS
	node dist/hack/bench-operator.js $(BENCH_SIZES)

bench-agent: build controlplane-build ## Agent memory (RSS, high-water mark) on a real API server: 10k pods, 1,500 on the node, 2k policies
	node dist/hack/bench-agent.js $(BENCH_AGENT_SIZE)

##@ Image
image: build ## Build the softtenant image offline (buildah) into $(IMAGE_ARCHIVE) as $(IMAGE)
	bash hack/image/build.sh

##@ Local control plane
controlplane-build: ## Build etcd, kube-apiserver and kube-controller-manager into the cache (once)
	bash hack/build-controlplane.sh

controlplane-up: controlplane-build ## Start a local control plane in $(STATE)
	bash hack/controlplane-up.sh $(STATE)

controlplane-down: ## Stop the local control plane in $(STATE)
	bash hack/controlplane-down.sh $(STATE)

##@ Real nodes
CLUSTER ?= $(CURDIR)/.tmp/cluster
NODES ?= 2
cluster-up: deps ## Control plane + kube-scheduler + $(NODES) kubelet nodes (netns each) in $(CLUSTER)
	NODES=$(NODES) bash hack/cluster/cluster-up.sh $(CLUSTER)

cluster-down: ## Stop the nodes and control plane in $(CLUSTER); removes every trace (idempotent)
	bash hack/cluster/cluster-down.sh $(CLUSTER)

test-nodes: build image ## softtenant installed from config/default on real nodes (cluster up and down)
	bash hack/run-tests.sh nodes

test-conformance: build image ## Upstream NetworkPolicy e2e against softtenant on real nodes
	bash hack/run-tests.sh conformance

test-cnp-conformance: build image ## network-policy-api conformance suite (profile ClusterNetworkPolicy) against softtenant on real nodes
	bash hack/cluster/cnp-conformance.sh

bench-enforce-conntrack: build ## Cost of cutting revoked flows on a real conntrack table (lab netns): the old per-flow cut against the current one
	node dist/hack/bench-enforce-conntrack.js

bench-enforce: build image ## New pods on real nodes: connections through before the agent programs them, time to enforce (fail-closed off/on)
	node dist/hack/bench-enforce.js

clean: ## Remove build output
	rm -rf dist .tmp

help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-22s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: demo test deps build lint image test-image test-unit test-integration test-dataplane test-e2e bench bench-operator bench-agent controlplane-build controlplane-up controlplane-down cluster-up cluster-down test-nodes test-conformance test-cnp-conformance bench-enforce bench-enforce-conntrack clean help
