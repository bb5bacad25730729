# Posluha: one obvious way to run everything. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
BINARIES := posluha bpmn2asl

.PHONY: lambdas build-ConsoleFunction bpmn-js-assets deploy help build test test-go test-conformance conformance-floors deps bench fuzz lint run clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

deps: ## install what the tests need (Debian packages, npm reference tools); idempotent
	@.ci/debian-packages
	@[ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund

build: ## build every binary into bin/
	@mkdir -p bin
	$(GO) build -o bin/posluha ./local/cmd/posluha
	$(GO) build -o bin/bpmn2asl ./bpmn2asl/cmd/bpmn2asl

test: deps build test-go test-conformance ## run every test (what CI runs)

test-go: ## go vet and the Go tests
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

test-conformance: build ## ASL and JSONata conformance corpora through `posluha exec` (floors in local/conformance/floors.txt)
	local/conformance/run asl asl/cases asl/cases-task
	local/conformance/run jsonata jsonata/cases

conformance-floors: build ## raise the conformance floors to what passes now
	UPDATE_FLOORS=1 local/conformance/run asl asl/cases asl/cases-task
	UPDATE_FLOORS=1 local/conformance/run jsonata jsonata/cases

bench: deps build ## benchmarks (ratios against peers in the same run); see docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./local/enginebench/cmd/enginebench

fuzz: ## run every fuzz target for FUZZTIME each (default 60s)
	@for p in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$p | grep ^Fuzz); do \
	    echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-60s} $$p || exit 1; \
	  done; done

lint: ## go vet + staticcheck
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

run: deps build ## the local stack with the demo services
	./bin/posluha serve

LAMBDA_BUILD = GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -tags lambda.norpc

lambdas: ## build every Lambda for AWS (provided.al2023, arm64) into bin/lambdas/<fn>/bootstrap; the console's gets bpmn-js beside it
	@for d in functions/*/bootstrap; do fn=$$(basename $$(dirname $$d)); \
	  echo "  $$fn"; mkdir -p bin/lambdas/$$fn; \
	  $(LAMBDA_BUILD) -o bin/lambdas/$$fn/bootstrap ./$$d || exit 1; done
	@$(MAKE) --no-print-directory bpmn-js-assets DEST=bin/lambdas/console

# sam build runs this for ConsoleFunction (Metadata BuildMethod: makefile),
# so that a deploy ships bpmn-js too; the go1.x builder packs only the binary.
build-ConsoleFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/console/bootstrap
	@$(MAKE) --no-print-directory bpmn-js-assets DEST=$(ARTIFACTS_DIR)

# The console page draws the diagram with bpmn-js's viewer: the function
# serves it from $$LAMBDA_TASK_ROOT/bpmn-js.
bpmn-js-assets:
	@[ -f node_modules/bpmn-js/dist/bpmn-viewer.production.min.js ] || { echo "node_modules/bpmn-js is missing: run make deps"; exit 1; }
	@rm -rf $(DEST)/bpmn-js && mkdir -p $(DEST)/bpmn-js
	cp -R node_modules/bpmn-js/dist/bpmn-viewer.production.min.js node_modules/bpmn-js/dist/assets $(DEST)/bpmn-js/

deploy: ## sam build && sam deploy (needs the SAM CLI and AWS credentials)
	@command -v sam >/dev/null || { echo "the SAM CLI is not installed: see docs/deploy.md"; exit 1; }
	sam build && sam deploy

clean: ## remove build output
	rm -rf bin
