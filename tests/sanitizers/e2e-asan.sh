#!/usr/bin/env bash
# e2e-asan.sh — the e2e suites against an ASan+UBSan build of authc: every
# sanitizer report is fatal and logged to a file, and any such file fails the run.
# Usage: tests/sanitizers/e2e-asan.sh <asan build dir> [tests/e2e/<file>...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: e2e-asan.sh <asan build dir> [test files]}" && pwd)
shift
bin=$build/authc
[ -x "$bin" ] || { echo "e2e-asan: $bin not built (make test-asan builds it)" >&2; exit 1; }
case $(nm -D "$bin") in *__asan_init*) ;; *) echo "e2e-asan: $bin is not an ASan build" >&2; exit 1 ;; esac

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  # Every route family of the server (docs/security.md lists what each
  # covers); the browser, Next.js and database-interop suites are left to
  # the plain build (slow, and they exercise the same routes).
  for t in http http-limits harden interop email oidc github forward revoke rotation \
           db-sessions ops shutdown passkey listen; do
    tests+=("tests/e2e/$t.test.mjs")
  done
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/authc-e2e-asan.XXXXXX")
trap 'rm -rf "$logs"' EXIT
# Reports go to $logs/<tool>.<pid>; halt on the first one. LSan runs at
# exit (SIGTERM makes authc exit normally); lsan.supp names what is not ours.
export ASAN_OPTIONS="log_path=$logs/asan:halt_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$logs/ubsan:halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"

rc=0
(cd "$root" && AUTHC_BIN=$bin node --test --test-concurrency=1 --test-timeout="${E2E_TIMEOUT_MS:-600000}" "${tests[@]}") || rc=$?
reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  echo "e2e-asan: sanitizer reports:" >&2
  for f in $reports; do echo "== $f" >&2; cat "$f" >&2; done
  exit 1
fi
[ $rc -eq 0 ] || { echo "e2e-asan: the e2e tests failed (no sanitizer report)" >&2; exit $rc; }
echo "e2e-asan: ${#tests[@]} suites passed, no sanitizer report"
