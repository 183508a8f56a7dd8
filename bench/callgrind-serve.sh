#!/usr/bin/env bash
# callgrind-serve.sh — instructions per answer of `authc serve` for the short
# answers (docs/performance.md, "Server path cuts (session 6)"): load-independent.
#
# Usage: bench/callgrind-serve.sh [AUTHC_BINARY] [CASE...]
#   AUTHC_BINARY  default build-release/authc (built here when it is that one)
#   CASE          csrf providers session-none session-jwt (default: all four)
#                 session-jwt: the session cookie of a credentials sign-in
# For each case: a fresh `authc serve` (users file, AUTH_TRUST_HOST, one event
# loop) under `valgrind --tool=callgrind --instr-atstart=no`; one request of
# each kind as warm-up; collection on; SERVE_CG_N (2000) requests of the case
# on one keep-alive connection, the bytes wrk sends (request line + Host);
# a dump; SIGTERM. Prints the whole process's user-space instructions divided
# by the answers. Keeps the profiles in SERVE_CG_OUT (build-release/bench-bin).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
AUTHC=$root/build-release/authc
case "${1:-}" in */*) AUTHC=$1; shift ;; esac
CASES=${*:-csrf providers session-none session-jwt}
N=${SERVE_CG_N:-2000}
OUT=${SERVE_CG_OUT:-$root/build-release/bench-bin}
if [ "$AUTHC" = "$root/build-release/authc" ]; then
  cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release -DAUTHC_BUILD_TESTS=OFF >/dev/null
  cmake --build "$root/build-release" -j 2 --target authc >/dev/null
fi
mkdir -p "$OUT"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/authc-cg.XXXXXX")
SPID=""
cleanup() {
  if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then kill -KILL "$SPID" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

export AUTH_SECRET; AUTH_SECRET=$("$AUTHC" secret)
printf 'bench-password' | "$AUTHC" hash-password > "$tmp/hash"
printf '1:alice:%s:alice@example.com:Alice Example\n' "$(cat "$tmp/hash")" > "$tmp/users"

# A free loopback port, as bench/run.sh picks one.
free_port() {
  node -e '
    const net = require("net");
    (function next(n) {
      const port = 20000 + Math.floor(Math.random() * 12000);
      const s = net.createServer();
      s.once("error", () => { if (n > 200) process.exit(1); next(n + 1); });
      s.listen({ port, host: "127.0.0.1", exclusive: true }, () => s.close(() => console.log(port)));
    })(0);'
}

# send PORT PATH COUNT: COUNT sequential requests on one keep-alive
# connection; fails unless every answer is a 200.
send() {
  node -e '
    const net = require("net");
    const [port, path, count] = [Number(process.argv[1]), process.argv[2], Number(process.argv[3])];
    const cookie = process.env.CG_COOKIE ? `Cookie: ${process.env.CG_COOKIE}\r\n` : "";
    const req = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${cookie}\r\n`);
    const s = net.connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0), done = 0;
    s.on("connect", () => s.write(req));
    s.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const he = buf.indexOf("\r\n\r\n");
        if (he < 0) return;
        const head = buf.subarray(0, he).toString("latin1");
        const m = /\r\ncontent-length: *(\d+)/i.exec(head);
        const total = he + 4 + (m ? Number(m[1]) : 0);
        if (buf.length < total) return;
        if (!head.startsWith("HTTP/1.1 200")) { console.error(head); process.exit(1); }
        buf = buf.subarray(total);
        if (++done === count) { s.end(); return; }
        s.write(req);
      }
    });
    s.on("error", (e) => { console.error(String(e)); process.exit(1); });' "$1" "$2" "$3"
}

path_of() {
  case "$1" in
    csrf) echo /auth/csrf ;;
    providers) echo /auth/providers ;;
    session-none | session-jwt) echo /auth/session ;;
    *) echo "unknown case $1" >&2; return 1 ;;
  esac
}

for c in $CASES; do
  p=$(path_of "$c")
  port=$(free_port)
  prof=$OUT/callgrind.serve.$c.out
  rm -f "$prof" "$prof".*
  (export AUTH_TRUST_HOST=1 AUTHC_USERS_FILE="$tmp/users"
   exec taskset -c 0 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$prof" \
     "$AUTHC" serve --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1) &
  SPID=$!
  up=0
  for _ in $(seq 1 600); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/auth/providers" 2>/dev/null; then up=1; break; fi
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.2
  done
  [ "$up" = 1 ] || { tail -5 "$tmp/serve.log" >&2; exit 1; }
  for w in /auth/csrf /auth/providers /auth/session; do send "$port" "$w" 2; done
  CG_COOKIE=""
  if [ "$c" = session-jwt ]; then
    # A credentials sign-in, as a browser does it: CSRF token and cookie, then the form.
    base=http://127.0.0.1:$port/auth
    csrf=$(curl -s -c "$tmp/jar" "$base/csrf" | sed -n 's/.*"csrfToken":"\([^"]*\)".*/\1/p')
    curl -s -o /dev/null -b "$tmp/jar" -c "$tmp/jar" --data-urlencode "csrfToken=$csrf" \
      --data-urlencode username=alice --data-urlencode password=bench-password "$base/callback/credentials"
    CG_COOKIE=$(awk '$6 == "authjs.session-token" {print $6 "=" $7}' "$tmp/jar")
    [ -n "$CG_COOKIE" ] || { echo "session-jwt: the sign-in gave no session cookie" >&2; exit 1; }
    CG_COOKIE=$CG_COOKIE send "$port" /auth/session 2
  fi
  callgrind_control -i on "$SPID" >/dev/null 2>&1
  CG_COOKIE=$CG_COOKIE send "$port" "$p" "$N"
  callgrind_control -d "$SPID" >/dev/null 2>&1
  kill -TERM "$SPID"
  wait "$SPID" 2>/dev/null || true
  SPID=""
  dump=$(ls "$prof".* 2>/dev/null | head -1)
  tot=$(awk '/^summary:|^totals:/{print $2; exit}' "$dump")
  printf '%s\t%s instructions/answer\t(%s)\n' "$c" "$((tot / N))" "$dump"
done
