#!/usr/bin/env bash
# run.sh — `make bench`: authc (release build) side by side with Auth.js
# 0.41.3 and an nginx ceiling, driven by wrk on loopback; prints one table.
#
# What it does, in order (docs/performance.md explains the method):
#   1. release build of authc in build-release/, `npm ci` of the Auth.js peer
#      in bench/, micro + idle built with gcc -O2 against the release library
#   2. C microbenchmarks (bench/micro.c) beside `openssl speed` for the same
#      byte counts
#   3. a throwaway PostgreSQL (and an SQLite file) with one user and one
#      session, schema by `authc migrate` (the @auth/pg-adapter layout);
#      for the store-* cases (GET /auth/session with a JWT, each request
#      another user's session from a pool of BENCH_POOL, so the revocation
#      check reads the shared store — memory, SQLite, Redis, PostgreSQL —
#      on every request) the store tables and a throwaway Redis
#   4. for every case and server: fresh server pinned to one core, wrk pinned
#      to the other, warm-up, RUNS timed runs; req/s and latency are medians
#      over runs; peak RSS is VmHWM of the server's processes
#   5. 10,000 idle keep-alive connections held open: RSS, req/s of 64
#      active connections beside them, and (authc) whether a three-chunk
#      session (~10 KB of cookies) is answered on a new connection meanwhile
#   6. bench/report.mjs prints the table and the targets check
# Everything listens on 127.0.0.1 and is stopped by PID.
#
# Settings (environment): BENCH_DURATION (s per run, 5), BENCH_RUNS (3),
# BENCH_WARMUP (s, 2), BENCH_CONNS ("64"), BENCH_EXTRA_CONNS ("16 256", for
# GET /auth/session with a JWT only), BENCH_IDLE (10000, 0 = skip),
# BENCH_CASES (space-separated subset), BENCH_POOL (40000 sessions of
# different users for the store-* cases), BENCH_SERVERS (subset of
# "authc authjs authjs-cluster nginx"), BENCH_OUT (results directory),
# BENCH_DISTURB (10: % of a CPU other processes may use during a run before
# it is repeated),
# SERVER_CPU / CLIENT_CPU (0 / 1), DB_CPU (where PostgreSQL and Redis run:
# SERVER_CPU by default, i.e. on the server's side; CLIENT_CPU stands in for a
# database on a host of its own, for both servers alike), PGBIN (/usr/lib/postgresql/15/bin),
# REDIS_SERVER (redis-server from PATH; the store-redis case),
# BENCH_BUILD (build-release), BENCH_SKIP_BUILD=1 (use what is in it),
# BENCH_PG_QUERY (URL parameters for authc's database in db-postgres, e.g.
# "session_batches=4"; none by default).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
BUILD=${BENCH_BUILD:-$root/build-release}
DURATION=${BENCH_DURATION:-5}
RUNS=${BENCH_RUNS:-3}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-64}
EXTRA_CONNS=${BENCH_EXTRA_CONNS:-16 256}
IDLE=${BENCH_IDLE:-10000}
DISTURB=${BENCH_DISTURB:-10}
SERVERS=${BENCH_SERVERS:-authc authjs authjs-cluster nginx}
ALL_CASES="session-jwt store-memory store-sqlite store-redis store-postgres forward-jwt session-none session-large csrf providers signin db-sqlite db-postgres"
CASES=${BENCH_CASES:-$ALL_CASES}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
NCPU=$(nproc)
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
DB_CPU=${DB_CPU:-$SERVER_CPU}
ALL_CPUS="0-$((NCPU - 1))"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_OUT:-$BUILD/bench-results/$stamp}

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- prerequisites ---------------------------------------------------------
need_pkgs=()
for c in wrk:wrk nginx:nginx taskset:util-linux openssl:openssl sqlite3:sqlite3 curl:curl gcc:gcc; do
  command -v "${c%%:*}" >/dev/null 2>&1 || need_pkgs+=("${c#*:}")
done
[ -x "$PGBIN/initdb" ] || need_pkgs+=(postgresql)
command -v psql >/dev/null 2>&1 || need_pkgs+=(postgresql-client)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then need_pkgs+=(nodejs npm); fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
[ "$NCPU" -ge 2 ] || die "needs at least 2 CPUs (server on one, wrk on the other); this machine has $NCPU"
# Idle connections need descriptors in the server and in the holder.
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=65536
ulimit -n "$hard" 2>/dev/null || true
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=65536
if [ "$IDLE" -gt 0 ] && [ "$NOFILE" -lt $((IDLE + 256)) ]; then
  log "warning: ulimit -n is $NOFILE; the idle case is reduced to $((NOFILE - 256)) connections"
  IDLE=$((NOFILE - 256))
fi

mkdir -p "$OUT"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/authc-bench.XXXXXX")
chmod 755 "$tmp"
log "results in $OUT (scratch $tmp)"

# ---- cleanup: everything we started, by PID ---------------------------------
started=()          # PIDs of servers/holders still running
PG_STOP=""
stop_pid() {        # stop_pid PID: TERM, wait up to 5 s, then KILL (children too)
  local pid=$1 kids i
  kill -0 "$pid" 2>/dev/null || return 0
  kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  for k in $kids; do kill -0 "$k" 2>/dev/null && kill -KILL "$k" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  for p in "${started[@]+"${started[@]}"}"; do stop_pid "$p"; done
  [ -n "$PG_STOP" ] && eval "$PG_STOP" >/dev/null 2>&1 || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
forget() { local p n=(); for p in "${started[@]+"${started[@]}"}"; do [ "$p" != "$1" ] && n+=("$p"); done; started=("${n[@]+"${n[@]}"}"); }

# A free loopback port below the ephemeral range, so no outgoing connection
# (wrk, the idle holder, database pools) can be holding it.
free_port() {
  node -e '
    const net = require("net");
    const lo = 20000, hi = Math.min(32000, Number(process.argv[1]) - 1);
    (function next(n) {
      if (n > 200) { console.error("no free port"); process.exit(1); }
      const port = lo + Math.floor(Math.random() * (hi - lo));
      const s = net.createServer();
      s.once("error", () => next(n + 1));
      s.listen({ port, host: "127.0.0.1", exclusive: true }, () => s.close(() => console.log(port)));
    })(0);' "$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)"
}

# ---- 1. build --------------------------------------------------------------
if [ "${BENCH_SKIP_BUILD:-0}" = 1 ]; then
  log "using the existing $BUILD/authc and $BUILD/libauthc.a (BENCH_SKIP_BUILD=1)"
else
  log "building authc (Release) in $BUILD"
  cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DAUTHC_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j "$NCPU" --target authc >/dev/null
fi
AUTHC=$BUILD/authc
[ -x "$AUTHC" ] || die "no $AUTHC after the build"
if [ ! -d "$here/node_modules/@auth/core" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  log "npm ci in bench/ (@auth/core 0.41.3, @auth/pg-adapter, pg)"
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi
LIBS=$(pkg-config --libs openssl jansson libcurl sqlite3 libpq hiredis libargon2 libcbor libfido2)
mkdir -p "$BUILD/bench-bin"
gcc -std=c17 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$root/include" -I"$root/lib" \
  "$here/micro.c" "$BUILD/libauthc.a" $LIBS -lpthread -lm -o "$BUILD/bench-bin/micro"
gcc -std=c17 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE "$here/idle.c" -o "$BUILD/bench-bin/idle"

# ---- machine -----------------------------------------------------------------
{
  printf 'date\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf 'cpu\t%s\n' "$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  printf 'ncpu\t%s\n' "$NCPU"
  printf 'mem\t%s\n' "$(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  printf 'kernel\t%s\n' "$(uname -r)"
  printf 'os\t%s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")"
  printf 'openssl\t%s\n' "$(openssl version)"
  printf 'nginx\t%s\n' "$(nginx -v 2>&1 | sed 's/.*: //')"
  printf 'wrk\t%s\n' "$(wrk -v 2>&1 | head -1 | awk '{print $1" "$2}')"
  printf 'node\t%s\n' "$(node --version)"
  printf 'authjs\t@auth/core %s, @auth/pg-adapter %s, pg %s\n' \
    "$(node -p 'require("'"$here"'/node_modules/@auth/core/package.json").version')" \
    "$(node -p 'require("'"$here"'/node_modules/@auth/pg-adapter/package.json").version')" \
    "$(node -p 'require("'"$here"'/node_modules/pg/package.json").version')"
  printf 'postgres\t%s\n' "$("$PGBIN/postgres" --version | awk '{print $3}')"
  printf 'authc\t%s (git %s%s)\n' "$("$AUTHC" version | awk '{print $2}')" \
    "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ', with uncommitted changes to tracked files' || true)"
  printf 'pinning\tserver CPU %s, wrk CPU %s, databases on CPU %s, Auth.js cluster on CPUs %s\n' "$SERVER_CPU" "$CLIENT_CPU" "$DB_CPU" "$ALL_CPUS"
  printf 'method\t%s s warm-up, %s runs x %s s, medians\n' "$WARMUP" "$RUNS" "$DURATION"
} > "$OUT/meta.tsv"

# Percentage of CPU time the whole machine was busy over 0.5 s.
cpu_busy() {
  local a b
  read -ra a < <(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat); sleep 0.5
  read -ra b < <(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
  awk -v b="$((b[0] - a[0]))" -v i="$((b[1] - a[1]))" 'BEGIN{printf "%.0f", (b + i) ? 100 * b / (b + i) : 0}'
}
# Waits (at most ~5 s) until the machine is quiet (others' work would skew
# the runs); prints the last busy %, which the report shows.
wait_quiet() {
  local busy i
  for i in $(seq 1 6); do
    busy=$(cpu_busy)
    [ "$busy" -le 10 ] && break
    sleep 0.5
  done
  echo "$busy"
}

# ---- 2. microbenchmarks --------------------------------------------------------
log "microbenchmarks (bench/micro.c) and openssl speed"
busy=$(wait_quiet)
taskset -c "$SERVER_CPU" "$BUILD/bench-bin/micro" 0.4 > "$OUT/micro.tsv" || die "micro failed (see above)"
speed() {   # speed ALGO-ARGS BYTES → bytes/s
  taskset -c "$SERVER_CPU" openssl speed -mr -seconds 1 -bytes "$2" $1 2>/dev/null | awk -F: '/^\+F:/{print $4}' | tail -1
}
sz() { awk -F'\t' -v n="$1" '$1=="size" && $2==n {print $3}' "$OUT/micro.tsv"; }
{
  printf 'floor\taes-256-cbc\t%s\t%s\n' "$(sz ciphertext)" "$(speed '-evp aes-256-cbc' "$(sz ciphertext)")"
  printf 'floor\thmac-sha512\t%s\t%s\n' "$(sz mac_input)" "$(speed '-hmac sha512' "$(sz mac_input)")"
  printf 'floor\tsha512\t%s\t%s\n' "$(sz mac_input)" "$(speed 'sha512' "$(sz mac_input)")"
  printf 'floor\tsha256\t%s\t%s\n' "$(sz csrf_input)" "$(speed '-evp sha256' "$(sz csrf_input)")"
  printf 'floor\tbusy\t%s\t\n' "$busy"
} > "$OUT/floor.tsv"

# ---- 3. fixtures: secret, users, cookies, databases ------------------------------
export AUTH_SECRET; AUTH_SECRET=$("$AUTHC" secret)
printf 'bench-password' | "$AUTHC" hash-password > "$tmp/hash"
printf '1:alice:%s:alice@example.com:Alice Example\n' "$(cat "$tmp/hash")" > "$tmp/users"
POOL=${BENCH_POOL:-40000}
case " $CASES " in *" store-"*) ;; *) POOL=0 ;; esac
(cd "$here" && MINT_POOL=$POOL node mint.mjs "$tmp") >&2
db_token=$(cat /proc/sys/kernel/random/uuid)
printf 'authjs.session-token=%s' "$db_token" > "$tmp/cookie-db"
now_ms=$(( $(date +%s) * 1000 ))

want_case() { case " $CASES " in *" $1 "*) return 0;; esac; return 1; }
want_server() { case " $SERVERS " in *" $1 "*) return 0;; esac; return 1; }

SQLITE_DB="$tmp/bench.db"
if want_case db-sqlite; then
  if AUTHC_DATABASE="sqlite:$SQLITE_DB" "$AUTHC" migrate >"$tmp/sqlite-migrate.log" 2>&1 &&
     sqlite3 "$SQLITE_DB" "INSERT INTO \"user\" (id, name, email) VALUES ('1', 'Alice Example', 'alice@example.com');
       INSERT INTO session (\"sessionToken\", \"userId\", expires) VALUES ('$db_token', '1', $((now_ms + 2592000000)));"; then
    :
  else
    log "warning: SQLite fixture failed: $(tail -3 "$tmp/sqlite-migrate.log")"
  fi
fi

PGURL=""
if want_case db-postgres || want_case store-postgres; then
  pgport=$(free_port)
  pgtmp="$tmp/pg"; mkdir -p "$pgtmp"
  as_pg=""
  if [ "$(id -u)" = 0 ]; then chown postgres "$pgtmp"; as_pg="runuser -u postgres --"; fi
  if $as_pg "$PGBIN/initdb" -D "$pgtmp/data" -U postgres --auth=trust -E UTF8 --no-sync >"$tmp/initdb.log" 2>&1; then
    # The database shares the server's core by default (DB_CPU): server side vs client side.
    PG_STOP="$as_pg $PGBIN/pg_ctl -D $pgtmp/data -m fast -w -t 30 stop"
    if taskset -c "$DB_CPU" $as_pg "$PGBIN/pg_ctl" -D "$pgtmp/data" -l "$pgtmp/pg.log" -w -t 30 \
         -o "-p $pgport -k $pgtmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null &&
       $as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$pgport" -U postgres authc_bench; then
      PGURL="postgres://postgres@127.0.0.1:$pgport/authc_bench"
      if AUTHC_DATABASE="$PGURL" "$AUTHC" migrate >"$tmp/pg-migrate.log" 2>&1 &&
         psql -q -h 127.0.0.1 -p "$pgport" -U postgres -d authc_bench -v ON_ERROR_STOP=1 -c \
           "INSERT INTO users (id, name, email) VALUES (1, 'Alice Example', 'alice@example.com');
            INSERT INTO sessions (\"userId\", expires, \"sessionToken\") VALUES (1, now() + interval '30 days', '$db_token');" >/dev/null; then
        :
      else
        log "warning: PostgreSQL fixture failed: $(tail -3 "$tmp/pg-migrate.log")"
      fi
    else
      log "warning: PostgreSQL did not start: $(tail -3 "$pgtmp/pg.log" 2>/dev/null)"
    fi
  else
    log "warning: initdb failed: $(tail -3 "$tmp/initdb.log")"
  fi
fi
pg_pids() {
  [ -n "$PGURL" ] && [ -f "$pgtmp/data/postmaster.pid" ] || return 0
  local pm; pm=$(head -1 "$pgtmp/data/postmaster.pid")
  # shellcheck disable=SC2046 # a list of PIDs
  echo "$pm" $(cat /proc/"$pm"/task/*/children 2>/dev/null)
}

# The shared store of the store-* cases (the revocation check's reads).
# (`authc migrate` makes the store's table beside a database's schema: the
# PostgreSQL fixture's migration above made it there already.)
STORE_SQLITE="$tmp/store.db"
if want_case store-sqlite && ! AUTHC_DATABASE="sqlite:$STORE_SQLITE" "$AUTHC" migrate >"$tmp/store-sqlite.log" 2>&1; then
  log "warning: SQLite store migration failed: $(tail -3 "$tmp/store-sqlite.log")"
fi
REDIS_URL=""; REDIS_PID=""
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
if want_case store-redis; then
  if [ -x "$REDIS_SERVER" ]; then
    rport=$(free_port)
    # Like PostgreSQL, Redis runs on DB_CPU (its CPU is "+DB").
    (exec taskset -c "$DB_CPU" "$REDIS_SERVER" --port "$rport" --bind 127.0.0.1 --dir "$tmp" --save "" \
       --appendonly no --daemonize no --logfile "$tmp/redis.log") &
    REDIS_PID=$!; started+=("$REDIS_PID")
    for _ in $(seq 1 100); do
      (exec 3<>/dev/tcp/127.0.0.1/"$rport") 2>/dev/null && { REDIS_URL="redis://127.0.0.1:$rport/0"; break; }
      sleep 0.05
    done
    [ -n "$REDIS_URL" ] || log "warning: redis-server did not start: $(tail -3 "$tmp/redis.log" 2>/dev/null)"
  else
    log "warning: no redis-server (Debian: redis-server); store-redis skipped"
  fi
fi
# The database's or store's processes whose CPU a case's rows report as +DB.
db_pids() {         # db_pids MODE
  case "$1" in
    pg|jwt-pg) pg_pids ;;
    jwt-redis) [ -n "$REDIS_PID" ] && echo "$REDIS_PID" ;;
  esac
  return 0
}

# ---- process accounting ----------------------------------------------------------
tree() {            # tree PID: PID and all its descendants
  local p=$1 k
  echo "$p"
  for k in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree "$k"; done
}
sum_status() {      # sum_status FIELD PIDS…: sum of a /proc/PID/status kB field
  local f=$1; shift
  local p t=0 v
  for p in "$@"; do
    v=$(awk -v f="$f:" '$1==f{print $2}' /proc/"$p"/status 2>/dev/null || true)
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
cpu_ticks() {       # cpu_ticks PIDS…: utime+stime (clock ticks), summed
  local p t=0 v
  for p in "$@"; do
    v=$(sed 's/.*) //' /proc/"$p"/stat 2>/dev/null | awk '{print $12 + $13}' || true)
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
CLK_TCK=$(getconf CLK_TCK)
machine_ticks() {   # busy ticks of all CPUs (user nice system irq softirq steal)
  awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat
}
TIMEFORMAT='%3U %3S'   # `time wrk …`: wrk's own CPU seconds

# ---- servers ---------------------------------------------------------------------
SPID=""; SPORT=""
start_server() {    # start_server SERVER MODE [NGINX_BODY_BYTES]
  local server=$1 mode=$2 port log env=()
  port=$(free_port)
  log="$tmp/$server-$mode.log"
  case "$mode" in
    jwt) env=(AUTHC_USERS_FILE="$tmp/users") ;;
    sqlite) env=(AUTHC_DATABASE="sqlite:$SQLITE_DB" AUTHC_SESSION_STRATEGY=database) ;;
    pg) env=(AUTHC_DATABASE="$PGURL${BENCH_PG_QUERY:+?$BENCH_PG_QUERY}" AUTHC_SESSION_STRATEGY=database) ;;
    jwt-memory) env=(AUTHC_USERS_FILE="$tmp/users" AUTHC_STORE="memory:") ;;
    jwt-sqlite) env=(AUTHC_USERS_FILE="$tmp/users" AUTHC_STORE="sqlite:$STORE_SQLITE") ;;
    jwt-redis) env=(AUTHC_USERS_FILE="$tmp/users" AUTHC_STORE="$REDIS_URL") ;;
    jwt-pg) env=(AUTHC_USERS_FILE="$tmp/users" AUTHC_STORE="$PGURL") ;;
  esac
  case "$server" in
    authc)
      (export AUTH_TRUST_HOST=1 "${env[@]}"; exec taskset -c "$SERVER_CPU" "$AUTHC" serve --listen "127.0.0.1:$port" >"$log" 2>&1) &
      ;;
    authjs|authjs-cluster)
      local args=(--port "$port") cpus=$SERVER_CPU
      [ "$mode" = pg ] && args+=(--database "$PGURL")
      if [ "$server" = authjs-cluster ]; then args+=(--cluster "$NCPU"); cpus=$ALL_CPUS; fi
      (cd "$here"; exec taskset -c "$cpus" node authjs-server.mjs "${args[@]}" >"$log" 2>&1) &
      ;;
    nginx)
      local ng="$tmp/nginx-$port"
      mkdir -p "$ng/tmp"
      # The body lives in memory, as in-config strings; a config token is
      # at most 4 KB, so it is split into variables of 3,000 bytes. (A file
      # with sendfile costs nginx an extra syscall per answer: ~105k
      # instead of ~170k req/s here for 1 KB.)
      local left=${3:-100} sets="" refs="" i=0 piece
      while [ "$left" -gt 0 ]; do
        piece=$(( left > 3000 ? 3000 : left ))
        sets+="      set \$b$i \"$(head -c "$piece" /dev/zero | tr '\0' 'x')\";"$'\n'
        refs+="\$b$i"
        left=$((left - piece)); i=$((i + 1))
      done
      cat > "$ng/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $ng/nginx.pid;
error_log $ng/error.log warn;
worker_rlimit_nofile $NOFILE;
events { worker_connections $((NOFILE - 64)); use epoll; }
http {
  access_log off;
  server_tokens off;
  keepalive_requests 1000000000;
  keepalive_timeout 120s;
  client_body_temp_path $ng/tmp;
  proxy_temp_path $ng/tmp;
  fastcgi_temp_path $ng/tmp;
  uwsgi_temp_path $ng/tmp;
  scgi_temp_path $ng/tmp;
  default_type application/json;
  server {
    listen 127.0.0.1:$port;
    location = /c {
$sets      return 200 "$refs";
    }
    location / { return 404; }
  }
}
EOF
      (exec taskset -c "$SERVER_CPU" nginx -p "$ng/" -c "$ng/nginx.conf" >"$log" 2>&1) &
      ;;
  esac
  SPID=$!; SPORT=$port
  started+=("$SPID")
  local i code
  for i in $(seq 1 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/auth/providers" 2>/dev/null || true)
    [ "$code" != "000" ] && [ -n "$code" ] && return 0
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
  done
  log "warning: $server ($mode) did not start: $(tail -3 "$log")"
  stop_server
  return 1
}
stop_server() {
  [ -n "$SPID" ] || return 0
  stop_pid "$SPID"; forget "$SPID"; SPID=""
}
# Extra request headers of the current case (forward-auth's X-Original-URL),
# and the wrk script with its arguments (the store cases' cookie pool).
case_hdr=(); case_wrk=()
answer_bytes() {    # answer_bytes URL [COOKIE_FILE]: status line + headers + body
  local hb
  hb=$(curl -s -o /dev/null -w '%{size_header} %{size_download}' ${2:+-H "Cookie: $(cat "$2")"} "${case_hdr[@]+"${case_hdr[@]}"}" "$1")
  echo $(( ${hb% *} + ${hb#* } ))
}
# nginx answering a fixed 200 whose whole answer is TOTAL bytes: started
# once with a guess for its own header size, then corrected.
start_nginx_total() {
  local want=$1 body got
  body=$(( want > 200 ? want - 150 : 1 ))
  start_server nginx jwt "$body" || return 1
  got=$(answer_bytes "http://127.0.0.1:$SPORT/c")
  local tries=0
  while [ "$got" != "$want" ] && [ $(( body + want - got )) -gt 0 ] && [ "$tries" -lt 3 ]; do
    stop_server
    body=$(( body + want - got )); tries=$((tries + 1))
    start_server nginx jwt "$body" || return 1
    got=$(answer_bytes "http://127.0.0.1:$SPORT/c")
  done
  log "nginx: $got bytes per answer (wanted $want)"
}

# Checks one answer before timing: a server that answers wrongly is not timed.
check_answer() {    # check_answer URL COOKIE_FILE EXPECT → 0 if right
  local hdr=() body code
  [ -n "$2" ] && hdr=(-H "Cookie: $(cat "$2")")
  body=$(curl -s -w '\n%{http_code}' "${hdr[@]}" "${case_hdr[@]+"${case_hdr[@]}"}" "$1") || return 1
  code=${body##*$'\n'}
  [ "$code" = 200 ] && [[ "$body" == *"$3"* ]]
}

# wrk once; appends a row. wrk_row CASE CONNS SERVER RUN URL COOKIE_FILE SECONDS
RESULTS="$OUT/results.tsv"
printf 'case\tconns\tserver\trun\trps\tp50_ms\tp99_ms\trequests\terrors\tcpu_us_per_req\tdb_cpu_us_per_req\thwm_kb\trss_kb\tothers_pct\tresp_bytes\n' > "$RESULTS"
wrk_once() {        # wrk_once CONNS SECONDS URL COOKIE_FILE OUTFILE
  local hdr=() args=()
  [ -n "$4" ] && hdr=(-H "Cookie: $(cat "$4")")
  # The store cases' script sends its own cookies from the pool.
  [ ${#case_wrk[@]} -gt 0 ] && { hdr=(); args=(-- "$tmp/cookie-pool"); }
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$1" -d"$2"s --timeout 5s --latency "${hdr[@]+"${hdr[@]}"}" "${case_hdr[@]+"${case_hdr[@]}"}" \
    "${case_wrk[@]+"${case_wrk[@]}"}" "$3" "${args[@]+"${args[@]}"}" > "$5" 2>&1 || true
}
parse_wrk() {       # parse_wrk FILE → "rps p50_ms p99_ms requests errors"
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    / requests in / { n = $1 }
    /Non-2xx/ { err += $NF }
    /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
    END { printf "%s %s %s %s %d\n", rps ? rps : 0, p50 ? p50 : 0, p99 ? p99 : 0, n ? n : 0, err }' "$1"
}

# run_case CASE CONNS SERVER: start, check, warm up, RUNS timed runs, stop.
run_case() {
  local cs=$1 conns=$2 server=$3 path cookie="" expect mode url bytes=""
  case_hdr=(); case_wrk=()
  case "$cs" in
    session-jwt) path=/auth/session; cookie=$tmp/cookie-jwt; expect='"user"'; mode=jwt ;;
    # The same with the revocation check reading a store other than memory.
    store-*) path=/auth/session; cookie=$tmp/cookie-pool-first; expect='"user"'
      mode=jwt-${cs#store-}; [ "$mode" = jwt-postgres ] && mode=jwt-pg
      case_wrk=(-s "$here/rotate.lua") ;;
    # A forward-auth decision as nginx's auth_request asks it: 200, empty body.
    forward-jwt) path=/auth/forward; cookie=$tmp/cookie-jwt; expect=''; mode=jwt
      case_hdr=(-H "X-Original-URL: http://app.example.com/docs/page" -H "X-Original-Method: GET") ;;
    session-none) path=/auth/session; expect=null; mode=jwt ;;
    session-large) path=/auth/session; cookie=$tmp/cookie-large; expect='"user"'; mode=jwt ;;
    csrf) path=/auth/csrf; expect=csrfToken; mode=jwt ;;
    providers) path=/auth/providers; expect='"credentials"'; mode=jwt ;;
    signin) path=/auth/signin; expect='<form'; mode=jwt ;;
    db-sqlite) path=/auth/session; cookie=$tmp/cookie-db; expect='"user"'; mode=sqlite ;;
    db-postgres) path=/auth/session; cookie=$tmp/cookie-db; expect='"user"'; mode=pg ;;
    *) die "unknown case $cs" ;;
  esac
  [[ "$mode" == pg || "$mode" == jwt-pg ]] && [ -z "$PGURL" ] && { log "skip $cs/$server: no PostgreSQL"; return 0; }
  [ "$mode" = jwt-redis ] && [ -z "$REDIS_URL" ] && { log "skip $cs/$server: no Redis"; return 0; }
  if [ "$server" = nginx ]; then
    # Same bytes on the wire as authc's answer (status line + headers + body).
    bytes=$(cat "$tmp/size-$cs" 2>/dev/null || true)
    [ -n "$bytes" ] || { log "skip $cs/nginx: authc's answer size unknown"; return 0; }
    start_nginx_total "$bytes" || return 0
    url="http://127.0.0.1:$SPORT/c"
    expect=""; cookie=""; case_hdr=()
  else
    start_server "$server" "$mode" || { printf '%s\t%s\t%s\t0\t0\t0\t0\t0\t-1\t0\t0\t0\t0\t0\t0\n' "$cs" "$conns" "$server" >> "$RESULTS"; return 0; }
    url="http://127.0.0.1:$SPORT$path"
    if ! check_answer "$url" "$cookie" "$expect"; then
      log "error: $server answered $cs wrongly; not timed. Answer: $(curl -s ${cookie:+-H "Cookie: $(cat "$cookie")"} "$url" | head -c 300)"
      printf '%s\t%s\t%s\t0\t0\t0\t0\t0\t-1\t0\t0\t0\t0\t0\t0\n' "$cs" "$conns" "$server" >> "$RESULTS"
      stop_server
      return 0
    fi
    bytes=$(answer_bytes "$url" "$cookie")
    [ "$server" = authc ] && echo "$bytes" > "$tmp/size-$cs"
  fi
  local busy; busy=$(wait_quiet)
  wrk_once "$conns" "$WARMUP" "$url" "$cookie" "$tmp/warm.out"
  # A run during which other processes used more than DISTURB % of a CPU
  # (machine busy time minus the server's, the database's and wrk's own) is
  # logged and repeated, at most RUNS extra times.
  local r=0 attempt=0 pids c0 c1 d0 d1 m0 m1 w f other
  while [ "$r" -lt "$RUNS" ]; do
    attempt=$((attempt + 1))
    pids=$(tree "$SPID")
    m0=$(machine_ticks); c0=$(cpu_ticks $pids); d0=$(cpu_ticks $(db_pids "$mode"))
    f="$OUT/wrk-$cs-c$conns-$server-$attempt.txt"
    { time wrk_once "$conns" "$DURATION" "$url" "$cookie" "$f"; } 2> "$tmp/wrk.time"
    pids=$(tree "$SPID")
    m1=$(machine_ticks); c1=$(cpu_ticks $pids); d1=$(cpu_ticks $(db_pids "$mode"))
    w=$(awk -v hz="$CLK_TCK" '{printf "%d", ($1 + $2) * hz}' "$tmp/wrk.time")
    other=$(awk -v t=$((m1 - m0 - (c1 - c0) - (d1 - d0) - w)) -v hz="$CLK_TCK" -v d="$DURATION" 'BEGIN{v = 100 * t / (hz * d); printf "%.0f", v < 0 ? 0 : v}')
    read -r rps p50 p99 n err <<<"$(parse_wrk "$f")"
    if [ "$other" -gt "$DISTURB" ] && [ "$attempt" -lt $((2 * RUNS)) ]; then
      log "$(printf '%-14s c=%-4s %-15s attempt %s: other processes used %s%% of a CPU during the run (%.0f req/s); repeating it' "$cs" "$conns" "$server" "$attempt" "$other" "$rps")"
      continue
    fi
    r=$((r + 1))
    local cpu_us=0 db_us=0
    if [ "$n" -gt 0 ]; then
      cpu_us=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN{printf "%.1f", t * 1e6 / hz / n}')
      db_us=$(awk -v t=$((d1 - d0)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN{printf "%.1f", t * 1e6 / hz / n}')
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cs" "$conns" "$server" "$r" \
      "$rps" "$p50" "$p99" "$n" "$err" "$cpu_us" "$db_us" "$(sum_status VmHWM $pids)" "$(sum_status VmRSS $pids)" "$other" "$bytes" >> "$RESULTS"
    log "$(printf '%-14s c=%-4s %-15s run %s: %9.0f req/s  p50 %7.2f ms  p99 %8.2f ms  errors %s  others %s%%' "$cs" "$conns" "$server" "$r" "$rps" "$p50" "$p99" "$err" "$other")"
  done
  stop_server
}

# ---- 4. the cases -----------------------------------------------------------------
log "cases: $CASES; servers: $SERVERS; $RUNS x ${DURATION}s after ${WARMUP}s warm-up; server CPU $SERVER_CPU, wrk CPU $CLIENT_CPU"
for cs in $CASES; do
  for server in authc authjs authjs-cluster nginx; do
    want_server "$server" || continue
    # No Auth.js SQLite adapter in the pinned peer, and no forward-auth in
    # Auth.js: authc and nginx only.
    [[ "$cs" == db-sqlite || "$cs" == forward-jwt ]] && [[ "$server" == authjs* ]] && continue
    # Store cases: authc only (Auth.js has no revocation; nginx's ceiling
    # is session-jwt's, the same answer).
    [[ "$cs" == store-* ]] && [ "$server" != authc ] && continue
    for conns in $CONNS; do run_case "$cs" "$conns" "$server"; done
    if [ "$cs" = session-jwt ]; then
      for conns in $EXTRA_CONNS; do run_case "$cs" "$conns" "$server"; done
    fi
  done
done

# ---- 5. idle keep-alive connections ------------------------------------------------------
IDLE_TSV="$OUT/idle.tsv"
printf 'server\tidle\topen\trss_kb\thwm_kb\trps\tp50_ms\tp99_ms\terrors\tclosed\tthree_chunk\n' > "$IDLE_TSV"
if [ "$IDLE" -gt 0 ]; then
  for server in authc authjs nginx; do
    want_server "$server" || continue
    if [ "$server" = nginx ]; then
      start_nginx_total "$(cat "$tmp/size-session-jwt" 2>/dev/null || echo 1100)" || continue
      ipath=/c; apath=/c; acookie=""
    else
      start_server "$server" jwt || continue
      ipath=/auth/session; apath=/auth/session; acookie=$tmp/cookie-jwt
    fi
    log "idle: $IDLE keep-alive connections to $server"
    (exec taskset -c "$CLIENT_CPU" "$BUILD/bench-bin/idle" "$SPORT" "$IDLE" "$ipath" 300 > "$tmp/idle.out" 2>&1) &
    hp=$!; started+=("$hp")
    for _ in $(seq 1 700); do grep -q '^ready' "$tmp/idle.out" 2>/dev/null && break; kill -0 "$hp" 2>/dev/null || break; sleep 0.1; done
    open=$(sed -n 's/^ready open=\([0-9]*\).*/\1/p' "$tmp/idle.out")
    sleep 1
    pids=$(tree "$SPID")
    rss=$(sum_status VmRSS $pids); hwm=$(sum_status VmHWM $pids)
    three="-"
    if [ "$server" != nginx ]; then
      # A big session still answers while the idle connections are held.
      if check_answer "http://127.0.0.1:$SPORT/auth/session" "$tmp/cookie-3chunk" '"user"'; then three=ok; else three=FAILED; fi
    fi
    wrk_once 64 "$DURATION" "http://127.0.0.1:$SPORT$apath" "$acookie" "$OUT/wrk-idle-$server.txt"
    read -r rps p50 p99 n err <<<"$(parse_wrk "$OUT/wrk-idle-$server.txt")"
    hwm=$(sum_status VmHWM $(tree "$SPID"))
    stop_pid "$hp"; forget "$hp"
    closed=$(sed -n 's/^done closed=\([0-9]*\).*/\1/p' "$tmp/idle.out")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$IDLE" "${open:-0}" "$rss" "$hwm" "$rps" "$p50" "$p99" "$err" "${closed:-?}" "$three" >> "$IDLE_TSV"
    log "idle $server: open ${open:-0}/$IDLE, RSS $((rss / 1024)) MB (peak $((hwm / 1024)) MB), 64 active: $rps req/s, three-chunk session: $three"
    stop_server
  done
fi

# ---- 6. report ----------------------------------------------------------------------------
node "$here/report.mjs" "$OUT" | tee "$OUT/table.md"
ln -sfn "$OUT" "$BUILD/bench-results/latest" 2>/dev/null || true
log "raw results: $OUT"
