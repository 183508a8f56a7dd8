#!/usr/bin/env bash
# run.sh — builds the libFuzzer targets (clang, ASan+UBSan) in build-fuzz/
# and runs each for FUZZ_SECONDS (or FUZZ_RUNS executions, when set) with
# its seed corpus; prints executions.
# Usage: tests/fuzz/run.sh [--ci] [target...]   (targets: names after fuzz_)
# --ci: no clang → say so and succeed (ctest's replays still cover the code).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_BUILD:-$root/build-fuzz}
secs=${FUZZ_SECONDS:-60}
limit=(-max_total_time="$secs")
[ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
ci=0
[ "${1:-}" = --ci ] && { ci=1; shift; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$root"/tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("${t#fuzz_}"); done
fi
cc=${FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null || ! echo 'int LLVMFuzzerTestOneInput(const char*d,long n){return 0;}' |
     "$cc" -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
  msg="fuzz: $cc with libFuzzer not found (Debian: clang libclang-rt-dev)"
  [ $ci = 1 ] && { echo "$msg; skipping the libFuzzer runs (ctest replays the corpora)"; exit 0; }
  echo "$msg" >&2; exit 1
fi
cmake -S "$root" -B "$out" -DCMAKE_C_COMPILER="$cc" -DAUTHC_FUZZ=ON -DAUTHC_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$out" -j "${JOBS:-$(nproc)}" --target "${targets[@]/#/fuzz_}" >"$out/build.log" 2>&1 ||
  { tail -30 "$out/build.log" >&2; exit 1; }
fail=0
printf '%-10s %12s %8s  %s\n' target executions exec/s result
for t in "${targets[@]}"; do
  # New inputs go to the scratch corpus (first dir); the repo's is read only.
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
  log="$out/fuzz-$t.log"
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$out/tests/fuzz/fuzz_$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t/" "$out/corpus/$t" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then res=ok; else res="FAILED (see $log, $out/artifacts/$t/)"; fail=1; fi
  printf '%-10s %12s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$res"
  [ $rc -eq 0 ] || grep -m3 -E 'fuzz property broken|ERROR: AddressSanitizer|runtime error|ERROR: libFuzzer' "$log" >&2 || true
done
exit $fail
