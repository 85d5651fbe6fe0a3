# DataWeaver's everyday commands. `make` builds bin/weave; `make check test`
# is what CI runs (.ci/run), and `make demo` is the README's first command.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO ?= go
# staticcheck 2026.2.2 (v0.8.2, the newest; v0.8.x is the line built with
# go1.26, v0.7.0 stops at go1.25). go run fetches it through the module proxy
# into the module cache, so CI installs nothing.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# make bench BENCH=ReadOrders BENCHPKGS=./format/csv BENCHTIME=5x COUNT=3
BENCH ?= .
BENCHPKGS ?= ./...
BENCHTIME ?= 1s
COUNT ?= 1
# make fuzz FUZZTIME=2m
FUZZTIME ?= 20s

.PHONY: s3-server build wasm wasm-go test-crash test-fresh test-rust test-beam bench-pipelines bench-peers rss test check check-fmt check-vet check-tidy check-staticcheck check-docs bench demo docs fuzz clean

build:
	$(GO) build -o bin/weave ./cmd/weave

# The whole suite as a newcomer runs it: the committed C, Rust,
# AssemblyScript and WAT modules, Go guests built once per test binary.
# go test -json goes through internal/testreport, which prints go test's
# usual lines, then every skipped test with its reason (plain go test says
# "ok" for a package whose tests all skipped), the slowest packages and a
# closing "tests: N passed, N failed, N skipped".
#
# The race detector is on for every package but the three that compare
# guests' output across languages (GUEST_PKGS): they drive the same host
# code that wasmabi and connectors/wasm test under -race, and -race slows
# wazero's Go compiler and validator 5-6x there (TestSameAsGo: 9 s
# without, 59 s with), which put make test at 6-7 min. Their TestMains,
# which build modules concurrently, still run under -race (-run '^$').
# Budget: 5 min on an idle 2-core machine; times in README, Development.
# internal/wasmbuild, guest-sdk/go/sdktest and transforms/v2test build
# guest modules with the toolchains and run them through the host: their
# host side is race-tested in wasmabi and connectors/wasm, and -race only
# slowed the compilers and wazero's compile of each Go guest (together
# about 40 s of make test's 5-minute budget on 2 cores).
GUEST_PKGS = ./transforms/c ./transforms/assemblyscript ./transforms/conformance ./internal/wasmbuild ./guest-sdk/go/sdktest ./transforms/v2test
# CHILD_PKGS test child weave processes (built without -race) more than
# their own code: the race detector only slowed the in-process servers they
# start. The engine and connectors they drive are race-tested in their own
# packages.
CHILD_PKGS = ./connectors/internal/e2e
# The slowest packages start first, so they overlap the short ones instead
# of running alone at the end (go test starts packages in the order given).
SLOW_PKGS = ./wasmabi ./internal/cli ./connectors/nats ./cmd/weave ./connectors/kafka
TESTREPORT = $(GO) run ./internal/testreport/cmd/testreport
# GUEST_PKGS run beside the race suite, into a file that joins the stream
# at the end (two go test -json streams must not interleave mid-line).
# NORACE_TESTS are single-goroutine tests that push much data or guest code
# through code whose concurrency other tests of their package race-test:
# wasmabi's kernel differential tests, every transform and every hostile
# module (-race slowed them to 120 of the package's 130 s), and
# engine/config's parses of 4 MiB pipeline files (a size limit and an
# allocation bound: -race made them 45 and 20 s of the package's 69 s, and
# a parse starts no goroutine). They run without it, from NORACE_PKGS,
# from the start (beside the race build of the guest packages); the rest of those
# packages keeps it. -skip applies to every package of the race run, so no
# package outside NORACE_PKGS may declare a test so named
# (internal/testreport's TestNoRaceTestsMakefile checks).
# DW_TEST_WAZERO_CACHE is one wazero compilation cache for both wasmabi
# test binaries: the NORACE run compiles the Go guests, and the race run's
# TestMain waits for it (DW_TEST_WAZERO_READY, emptied for the NORACE run
# itself) and loads their code
# instead of compiling it again with a race-instrumented compiler (4
# compiles, ~35 s of CPU); engine's timeout test loads hostile's from it
# too when it is there (wasmtest.CacheDir). The rest of the race suite
# does not wait: making it wait cost a minute of wall time on a loaded
# machine.
# DW_TEST_WEAVE is a weave binary built once for the test binaries that run
# a real weave (internal/crashtest's Weave): five of them each linked their
# own, about 5 s of CPU each.
NORACE_TESTS = ^(TestFilterDeriveBlocks|TestMaskBlocks|TestTransforms|TestHostile|TestFileSizeLimit|TestParseMemory)$$
NORACE_PKGS = ./wasmabi ./engine/config
# Test binaries are linked without DWARF (-w): nothing in a test reads it
# (stack traces and race reports come from the symbol table), and every
# package's test binary is relinked in a fresh clone: -w cuts about a
# fifth of each link's CPU.
TEST_FLAGS = -count=1 -ldflags=-w
test:
	{ rc=0; tmp=$$(mktemp -d); export DW_TEST_WAZERO_CACHE=$$tmp/wazero DW_TEST_WAZERO_READY=$$tmp/wazero.ready DW_TEST_WEAVE=$$tmp/weave; \
	  $(GO) build -o $$tmp/weave ./cmd/weave > $$tmp/build 2>&1 & build=$$!; \
	  ( r=0; DW_TEST_WAZERO_READY= $(GO) test $(TEST_FLAGS) -json -run '$(NORACE_TESTS)' $(NORACE_PKGS) || r=1; touch $$DW_TEST_WAZERO_READY; exit $$r ) > $$tmp/norace 2>&1 & norace=$$!; \
	  $(GO) test -race $(TEST_FLAGS) -json -run '^$$' $(GUEST_PKGS) || rc=1; \
	  wait $$build || rc=1; \
	  $(GO) test $(TEST_FLAGS) -json $(GUEST_PKGS) $(CHILD_PKGS) > $$tmp/guest 2>&1 & guest=$$!; \
	  $(GO) test -race -p 3 $(TEST_FLAGS) -json -skip '$(NORACE_TESTS)' $$($(GO) list $(SLOW_PKGS) ./... | grep -v -x -F $(patsubst ./%,-e github.com/dataweaver/dataweaver/%,$(GUEST_PKGS) $(CHILD_PKGS))) || rc=1; \
	  wait $$norace || rc=1; wait $$guest || rc=1; cat $$tmp/build $$tmp/norace $$tmp/guest; rm -rf $$tmp; \
	  exit $$rc; } | $(TESTREPORT)

# The crash suite: every kill -9 series (5 kills per pipeline), the file
# sink's SIGKILL tests and the 5-second server outages, which would push
# make test past its budget; make test lists each as a skip naming this
# target. CI runs it.
CRASH_TESTS = ^(TestWorkerKilled|TestIdleKilled|TestWorkersRideOutLeaderLoss|TestWorkersSpeedUp|TestWindowAggKilled|TestWindowAggKeyedKilled|TestKillRepeatedly|TestKillCDCMirrorRepeatedly|TestKillCDCSnapshot|TestDirCrash|TestAppendCrash|TestSourceRidesOutRestart|TestSinkRidesOutRestart|TestS3KillAndRerun|TestSplitsKillRepeatedly|TestSplitsScaleOut|TestRangesScaleOut|TestSplitsLeaderStopped|TestSplitsWorkerKilled)$$
test-crash:
	{ rc=0; \
	  DW_CRASH_SUITE=1 $(GO) test -count=1 -json -run '$(CRASH_TESTS)' $(CHILD_PKGS) ./transforms/v2test || rc=1; \
	  DW_CRASH_SUITE=1 $(GO) test -race -count=1 -json -run '$(CRASH_TESTS)' ./connectors/file ./connectors/nats ./connectors/s3 || rc=1; \
	  exit $$rc; } | $(TESTREPORT)

# The S3-compatible server (versitygw) the s3 connector's tests start:
# built once into the user cache (about 90 s of CPU). make test skips those
# tests, naming this target, until it is built; CI builds it first.
s3-server:
	$(GO) run ./connectors/internal/s3test/cmd/versitygw

# Every committed module rebuilt from its source and compared with the
# committed bytes (DW_WASM_FRESH=1), in the packages that hold such a
# check; needs every guest toolchain (.ci/run installs them). make test
# does not need them: it runs the committed modules.
WASM_FRESH_PKGS = $(sort $(dir $(shell grep -rl --include='*_test.go' DW_WASM_FRESH --exclude-dir=node_modules --exclude-dir=.git . | sed 's,^\./,,')))
test-fresh:
	DW_WASM_FRESH=1 $(GO) test -count=1 -json $(addprefix ./,$(WASM_FRESH_PKGS)) | $(TESTREPORT)

# The Rust SDK's and transforms' own unit tests, natively, with Debian's
# rustc 1.63 (the oldest we support; RUSTDOC too, or doc tests pick up a
# rustup rustdoc). The transforms' behaviour through the host is tested by
# go test (transforms/conformance).
RUST_CRATES = guest-sdk/rust $(dir $(wildcard transforms/rust/*/Cargo.toml))
test-rust:
	@for d in $(RUST_CRATES); do \
		echo "== cargo test $$d"; \
		(cd $$d && RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc CARGO_TARGET_DIR=$(CURDIR)/build/cargo /usr/bin/cargo test --offline -q) || exit 1; \
	done

# The Beam adapter (beam/, a Go module of its own: Beam's Go SDK brings
# ~370 modules, a cold build of 4-9 minutes and a ~120 MB binary, kept out
# of weave and of make test's budget). Its go.mod is tidy, vet and
# staticcheck pass, and its tests run: Prism in this process, and Beam's
# Prism command as a job server with weave-beam workers as processes.
test-beam:
	cd beam && $(GO) mod tidy -diff && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...
	(cd beam && $(GO) test -count=1 -json ./...) | $(TESTREPORT)

# Every check runs (make -k), so one CI log shows all that is wrong.
check:
	@$(MAKE) --no-print-directory -k check-fmt check-vet check-tidy check-staticcheck check-docs

check-fmt:
	@echo '== gofmt -l'
	@files=$$(gofmt -l .); if [ -n "$$files" ]; then echo "gofmt would change:"; echo "$$files"; exit 1; fi

check-vet:
	@echo '== go vet'
	$(GO) vet ./...

# -diff prints what tidy would change and fails, without rewriting go.mod
# under engineers who are editing it; in a fresh clone (CI) it is the same
# as `go mod tidy && git diff --exit-code go.mod go.sum`.
check-tidy:
	@echo '== go mod tidy'
	$(GO) mod tidy -diff

check-staticcheck:
	@echo '== staticcheck'
	$(GO) run $(STATICCHECK) ./...

check-docs:
	@echo '== connectors/*/config_gen.go are current (typed Go configs from the specs)'
	@$(GO) run ./internal/specgen/cmd/specgen -check
	@echo '== docs/connectors.md is current'
	@$(GO) run ./cmd/weave connectors docs | diff -u docs/connectors.md - \
		|| { echo "docs/connectors.md is stale: run 'make docs' and commit it"; exit 1; }
	@echo '== docs/metrics.md is current'
	@$(GO) run ./internal/telemetry/cmd/metricsdoc | diff -u docs/metrics.md - \
		|| { echo "docs/metrics.md is stale: run 'make docs' and commit it"; exit 1; }
	@echo '== docs/api.txt is current (the public Go API)'
	@$(GO) run ./internal/apilist/cmd/apilist | diff -u docs/api.txt - \
		|| { echo "the public Go API changed: if that was meant, run 'make docs' and commit docs/api.txt with the change"; exit 1; }

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) -count $(COUNT) $(BENCHPKGS) | tee bench.txt

# The end-to-end pipelines of BENCHMARKS.md (1M-row orders table).
bench-pipelines:
	$(GO) test -run '^$$' -bench Orders -benchtime 3x -count 2 ./internal/pipelinebench/ | tee bench-pipelines.txt

# Peak RSS of weave at 1M and 10M rows (needs ~4.5 GB of free disk).
rss: build
	$(GO) run ./internal/pipelinebench/cmd/rss -weave bin/weave -rows 1000000,10000000 -repeat 2

# Issue 16's memory target for W1 (JSON Lines through the four Go-guest
# Wasm stages, default batch size): peak RSS at most 256 MiB and within 5%
# from 1M to 10M rows; fails when missed. ~2 GB of disk, a few minutes.
.PHONY: rss-w1
rss-w1: wasm-go
	$(GO) run ./internal/pipelinebench/cmd/rss -weave bin/weave -pipelines w1 -wasm build/wasm -rows 1000000,10000000 -repeat 2 -max-rss 256 -flat 5

# weave against DuckDB and Benthos on issue 16's jobs W1 (JSON Lines) and
# W2 (Parquet) and issue 18's W3 (window_agg; its input writer, bench/w3,
# is built into PEERS_BIN too), interleaved: bench/peers. The peers are built from
# bench/peers/go.mod, a module of their own (not part of ours, so neither
# the weave binary nor make test sees them), into PEERS_BIN. The first run
# downloads, through the Go module proxy, duckdb-go v2.10506.0 with its
# prebuilt static libduckdb (duckdb-go-bindings, ~140 MB for linux-amd64)
# and Benthos v4.60.0 with the ~160 modules the two need in all, and
# compiles for one to two minutes; later runs reuse Go's caches. Needs cgo
# (gcc, g++) and ~1 GB of disk at 1M rows; takes 15-25 min (Benthos alone
# runs 20-90 s per round and job; PEERS_FLAGS=-no-benthos leaves it out,
# PEERS_FLAGS="-jobs W3" runs W3 only). Not in
# make test or CI.
PEERS_BIN ?= $(HOME)/.cache/dataweaver/peers
PEERS_ROWS ?= 1000000
PEERS_PAIRS ?= 5
PEERS_FLAGS ?=
bench-peers: wasm-go
	cd bench/peers && $(GO) build -o $(PEERS_BIN)/duckdb ./duckdb && $(GO) build -o $(PEERS_BIN)/benthos ./benthos && $(GO) build -o $(PEERS_BIN)/run ./run
	$(GO) build -o $(PEERS_BIN)/w3 ./bench/w3
	$(PEERS_BIN)/run -weave bin/weave -go-wasm build/wasm -c-wasm transforms/c -peers $(PEERS_BIN) -rows $(PEERS_ROWS) -pairs $(PEERS_PAIRS) $(PEERS_FLAGS) | tee bench-peers.txt

# The example transforms as Wasm modules, built by weave itself. The Go ones
# go to build/wasm (the demo's); the C, Rust, AssemblyScript and WAT ones
# are committed beside their sources, so `make test` and `make demo` need
# only Go: `make wasm` rebuilds them all in place (toolchains: see .ci/run)
# and CI fails when a committed module differs from its source's build.
WASM_TRANSFORMS := filter mask derive enrich
WASM_COMMITTED = $(sort $(dir $(wildcard transforms/c/*/*.c transforms/rust/*/Cargo.toml transforms/assemblyscript/*/asconfig.json transforms/wat/*/*.wat)))
wasm-go: build
	@mkdir -p build/wasm
	@for t in $(WASM_TRANSFORMS); do ./bin/weave build transforms/$$t -o build/wasm/$$t.wasm || exit 1; done

wasm: wasm-go
	@for d in $(WASM_COMMITTED); do ./bin/weave build $$d || exit 1; done
	./bin/weave build wasmabi/testdata/hostile/c -o wasmabi/testdata/hostile/c/hostile.wasm
	./bin/weave build guest-sdk/c/sdktest/testdata/stage -o guest-sdk/c/sdktest/testdata/stage/stage.wasm
	./bin/weave build guest-sdk/c/sdktest/testdata/stagev2 -o guest-sdk/c/sdktest/testdata/stagev2/stagev2.wasm
	./bin/weave build guest-sdk/c/sdktest/testdata/nestout -o guest-sdk/c/sdktest/testdata/nestout/nestout.wasm
	./bin/weave build transforms/assemblyscript/testdata/sdkcheck -o transforms/assemblyscript/testdata/sdkcheck/sdkcheck.wasm
	./bin/weave build transforms/rust/testdata/stagev2 -o transforms/rust/testdata/stagev2/stagev2.wasm
	./bin/weave build transforms/rust/testdata/nestout -o transforms/rust/testdata/nestout/nestout.wasm
	./bin/weave build transforms/assemblyscript/testdata/sdkcheckv2 -o transforms/assemblyscript/testdata/sdkcheckv2/sdkcheckv2.wasm
	./bin/weave build transforms/assemblyscript/testdata/windows -o transforms/assemblyscript/testdata/windows/windows.wasm
	./bin/weave build transforms/assemblyscript/testdata/nestout -o transforms/assemblyscript/testdata/nestout/nestout.wasm

# Runs the bundled pipeline: the orders job on testdata/orders.csv (two
# malformed rows) through Wasm filter/mask/derive and a native rename into
# Parquet and JSON Lines, rejects to a dead-letter file.
demo: build wasm-go
	rm -rf out/demo
	OUT=out/demo ./bin/weave run testdata/pipelines/demo.yaml
	@echo
	@echo '== out/demo'
	@ls -l out/demo
	@echo
	@echo '== head -3 out/demo/orders.jsonl'
	@head -3 out/demo/orders.jsonl
	@echo
	@echo '== out/demo/orders.parquet, read back by weave (first 3 rows as CSV)'
	@IN=out/demo ./bin/weave run testdata/pipelines/parquet_to_jsonl.yaml \
		--set 'sinks[0].file={path: "-", format: csv}' 2>/dev/null | sed -n '1,4p'
	@echo
	@echo '== out/demo/rejected.jsonl'
	@cat out/demo/rejected.jsonl

docs:
	@mkdir -p docs
	$(GO) run ./internal/specgen/cmd/specgen
	$(GO) run ./cmd/weave connectors docs > docs/connectors.md.tmp
	mv docs/connectors.md.tmp docs/connectors.md
	$(GO) run ./internal/telemetry/cmd/metricsdoc > docs/metrics.md.tmp
	mv docs/metrics.md.tmp docs/metrics.md
	$(GO) run ./internal/apilist/cmd/apilist > docs/api.txt.tmp
	mv docs/api.txt.tmp docs/api.txt

# A run of every Fuzz target, FUZZTIME each (go test -fuzz takes one target
# per package at a time), then a table of executions and findings per
# target. Crashers are written to the package's testdata/fuzz; the run fails
# if any target found one. docs/fuzzing.md records the 10-minute runs.
fuzz:
	@targets=$$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); \
	[ -n "$$targets" ] || { echo 'no Fuzz targets found'; exit 1; }; \
	log=$$(mktemp -d); failed=0; \
	for file in $$targets; do \
		dir=$$(dirname "$$file"); \
		for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$file"); do \
			echo "== $$dir $$fn ($(FUZZTIME))"; \
			out="$$log/$$(echo "$${dir#./}.$$fn" | tr '/' '_')"; \
			if ! $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) "$$dir" 2>&1 | tee "$$out"; then failed=1; fi; \
		done; \
	done; \
	echo; echo "== executions per target ($(FUZZTIME) each)"; \
	for out in "$$log"/*; do \
		printf '%-60s %s\n' "$$(basename $$out)" "$$(grep -o 'execs: [0-9]*' $$out | tail -1), $$(grep -o 'new interesting: [0-9]*' $$out | tail -1), $$(grep -q '^ok' $$out && echo 'no failure' || echo FAILED)"; \
	done; \
	rm -rf "$$log"; exit $$failed

clean:
	rm -rf bin build out bench.txt bench-pipelines.txt bench-peers.txt docs/connectors.md.tmp docs/metrics.md.tmp
