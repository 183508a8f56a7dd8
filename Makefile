# Thin wrapper over CMake/CTest and the node tests; see README.md.
BUILD ?= build
ASAN_BUILD ?= build-asan
VG_BUILD ?= build-vg
JOBS ?= $(shell nproc)

.PHONY: all deps deps-test build run test test-unit test-asan test-fuzz test-e2e clean install fuzz \
	test-valgrind test-e2e-asan

all: build

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/run-dev.sh

test: deps-test build test-unit test-asan test-valgrind test-fuzz test-e2e test-e2e-asan

test-unit:
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAUTHC_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -L unit -j $(JOBS)

# E2E_TIMEOUT_MS bounds every test and every test file: a hang (Chromium's
# shutdown once hung a CI run) fails with its name instead of stalling CI.
E2E_TIMEOUT_MS ?= 600000
export E2E_TIMEOUT_MS
test-e2e:
	AUTHC_BIN=$(CURDIR)/$(BUILD)/authc node --test --test-concurrency=1 --test-timeout=$(E2E_TIMEOUT_MS) tests/e2e/

# Every unit test under valgrind memcheck (-O1 -g build in build-vg/; see
# docs/fuzzing.md): any error or leak fails it.
test-valgrind:
	@command -v valgrind >/dev/null || scripts/deps.sh test
	@cmake -S . -B $(VG_BUILD) -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="-O1 -g" -DAUTHC_VALGRIND=ON >/dev/null
	@cmake --build $(VG_BUILD) -j $(JOBS)
	cd $(VG_BUILD) && ctest --output-on-failure -L unit -j $(JOBS) --timeout 1500

# The e2e suites against the ASan+UBSan authc of test-asan (E2E_ASAN_TESTS
# picks files; default: tests/sanitizers/e2e-asan.sh's list), then the server
# under load from every side (tests/sanitizers/serve-stress.sh).
SERVE_STRESS_SECONDS ?= 60
test-e2e-asan:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAUTHC_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	tests/sanitizers/e2e-asan.sh $(ASAN_BUILD) $(E2E_ASAN_TESTS)
	tests/sanitizers/serve-stress.sh $(ASAN_BUILD) $(SERVE_STRESS_SECONDS)

# libFuzzer (clang) in build-fuzz/: every target for FUZZ_SECONDS each, or FUZZ_RUNS executions (see
# docs/fuzzing.md); test-fuzz is the short run `make test` does.
FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 3
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

test-fuzz:
	@FUZZ_SECONDS=$(FUZZ_CI_SECONDS) tests/fuzz/run.sh --ci

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(VG_BUILD) build-fuzz

# The program, libauthc.a + libauthc.so.0, include/ and libauthc.pc under
# PREFIX (default /usr/local); DESTDIR stages it (make install DESTDIR=/tmp/root).
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

# The server-rendered C example on :3001 (same .authc-dev/ as `make run`).
.PHONY: run-c-app
run-c-app: build
	@scripts/run-c-app.sh

# Side-by-side benchmark with Auth.js (release build in build-release/); see docs/performance.md.
.PHONY: bench
bench: build
	@bench/run.sh
