#!/usr/bin/env bash
# serve-stress.sh — `authc serve` (ASan+UBSan build) under load from every side at
# once: worker-pool answers waking every event loop, the metrics loop, clients
# that leave right after asking, then SIGTERM.
# Any sanitizer report or an unclean exit fails it.
#
# Why: h2o 2.2 hands a socket's buffers to the recycler of the thread that made
# the socket. When the loops' contexts were made on the main thread, every
# loop's answer-queue reads shared the main thread's (lock-free) recycler and
# two loops could take the same 8 KiB buffer: an ASan use-after-free or a crash
# in h2o_mem_alloc_recycle, in about half of 45-second runs of this load before
# the fix. Contexts are now made on their own threads (src/serve.c loop_main).
# Usage: tests/sanitizers/serve-stress.sh <asan build dir> [seconds, default 45; make uses 60]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: serve-stress.sh <asan build dir> [seconds]}" && pwd)
secs=${2:-45}
bin=$build/authc
case $(nm -D "$bin") in *__asan_init*) ;; *) echo "serve-stress: $bin is not an ASan build" >&2; exit 1 ;; esac
command -v wrk >/dev/null || { echo "serve-stress: wrk missing (scripts/deps.sh test installs it)" >&2; exit 1; }

t=$(mktemp -d "${TMPDIR:-/tmp}/authc-serve-stress.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$t"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
AUTH_SECRET=$("$bin" secret); export AUTH_SECRET
# Database sessions on SQLite: every GET /session goes through the db pool,
# so every answer comes back through a loop's queue.
AUTHC_DATABASE="sqlite:$t/db" "$bin" migrate >"$t/migrate.log" 2>&1
token=$(cat /proc/sys/kernel/random/uuid)
now=$(( $(date +%s) * 1000 ))
sqlite3 "$t/db" "INSERT INTO \"user\" (id, name, email) VALUES ('1', 'Stress', 'stress@example.com');
  INSERT INTO session (\"sessionToken\", \"userId\", expires) VALUES ('$token', '1', $((now + 86400000)));"

port=$(free_port); mport=$(free_port)
export ASAN_OPTIONS="log_path=$t/asan:halt_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$t/ubsan:halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
AUTH_TRUST_HOST=1 AUTHC_DATABASE="sqlite:$t/db" AUTHC_SESSION_STRATEGY=database \
  AUTHC_METRICS_LISTEN="127.0.0.1:$mport" "$bin" serve --listen "127.0.0.1:$port" >"$t/serve.log" 2>&1 &
server=$!; pids+=("$server")
up=
for _ in $(seq 100); do
  if curl -sf -o /dev/null "http://127.0.0.1:$port/auth/csrf"; then up=1; break; fi
  sleep 0.1
done
[ -n "$up" ] || { echo "serve-stress: authc did not start:" >&2; cat "$t/serve.log" >&2; exit 1; }
# The session must really be read from the database (not an error page).
curl -sf -H "Cookie: authjs.session-token=$token" "http://127.0.0.1:$port/auth/session" | grep -q stress@example.com ||
  { echo "serve-stress: the database session was not answered" >&2; exit 1; }

wrk -t2 -c64 -d"${secs}s" -H "Cookie: authjs.session-token=$token" "http://127.0.0.1:$port/auth/session" >"$t/wrk-session" 2>&1 &
w1=$!; pids+=("$w1")
wrk -t1 -c8 -d"${secs}s" "http://127.0.0.1:$mport/metrics" >"$t/wrk-metrics" 2>&1 &
w2=$!; pids+=("$w2")
# Clients that ask and leave at once (half reset the connection): their
# answers are dropped, never written into freed memory. (h2o notices the
# reset on the loop's next pass, after the job went to its pool, so the
# drop of a job the loop still holds is not reached here.)
node -e '
const net = require("net");
const [port, token, secs] = process.argv.slice(1);
const end = Date.now() + secs * 1000;
let n = 0;
const one = () => {
  if (Date.now() > end) return;
  const s = net.connect(+port, "127.0.0.1", () => {
    s.write(`GET /auth/session HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: authjs.session-token=${token}\r\n\r\n`);
    if (n++ % 2) s.destroy(); else s.end(); /* a half-close waits for the answer */
  });
  s.on("data", () => s.destroy());
  s.setTimeout(1000, () => s.destroy());
  s.on("error", () => {});
  s.on("close", one);
};
for (let i = 0; i < 16; i++) one();
process.on("exit", () => console.log(n));
' "$port" "$token" "$secs" >"$t/leavers" 2>&1 &
w3=$!; pids+=("$w3")
wait "$w1" "$w2" "$w3" || true

rc=0
kill -TERM "$server" 2>/dev/null || true
wait "$server" || rc=$?
reports=$(find "$t" -name 'asan.*' -o -name 'ubsan.*' | sort)
if [ -n "$reports" ]; then
  echo "serve-stress: sanitizer reports:" >&2
  for f in $reports; do echo "== $f" >&2; cat "$f" >&2; done
  exit 1
fi
[ "$rc" -eq 0 ] || { echo "serve-stress: authc exited with $rc" >&2; tail -20 "$t/serve.log" >&2; exit 1; }
grep -q 'info  stopped' "$t/serve.log" || { echo "serve-stress: no clean stop in the log" >&2; exit 1; }
echo "serve-stress: ${secs}s of pool answers on every loop, $(awk '/requests in/{print $1}' "$t/wrk-session") session reads, $(cat "$t/leavers") clients that left at once, no sanitizer report"
