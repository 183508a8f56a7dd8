#!/usr/bin/env bash
# with-servers.sh — runs an adapter test binary against a throwaway PostgreSQL
# or Redis server on a free loopback port, then stops it and cleans up.
#
# Usage: with-servers.sh <binary> postgres|redis [extra args...]
# Runs:  <binary> postgres postgres://postgres@127.0.0.1:PORT/authc_test [extra...]
#        <binary> redis    redis://127.0.0.1:PORT/0?prefix=testApp: [extra...]
# and exits with the binary's exit code. A missing server binary is an error
# (exit 2), never a silent skip.
#
# For fault tests the binary also gets, as environment variables, shell
# commands that act on the server this script started:
#   AUTHC_SERVER_STOP    stop it (clean shutdown; returns when it is gone)
#   AUTHC_SERVER_START   start it again on the same port and data directory
#   AUTHC_SERVER_FREEZE  SIGSTOP it (and its backends): a hung server
#   AUTHC_SERVER_THAW    SIGCONT it
# Environment: PGBIN (default: the newest /usr/lib/postgresql/*/bin), REDIS_SERVER
# (default: redis-server from PATH), KEEP_TMP=1 keeps the temp dir (logs).
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 <binary> postgres|redis [args...]" >&2
    exit 2
fi
bin=$1
kind=$2
shift 2

if [ ! -x "$bin" ]; then
    echo "with-servers: test binary '$bin' not found or not executable" >&2
    exit 2
fi

# PostgreSQL server binaries: $PGBIN, else the newest /usr/lib/postgresql/N,
# else pg_config's bindir.
if [ -z "${PGBIN:-}" ]; then
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [ -x "$d/initdb" ]; then PGBIN=$d; break; fi
    done
fi
if [ -z "${PGBIN:-}" ] && command -v pg_config >/dev/null 2>&1; then
    PGBIN=$(pg_config --bindir)
fi
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}

# A free TCP port on 127.0.0.1 (the kernel picks it; tiny race accepted).
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    echo "with-servers: no free port found" >&2
    return 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/authc-$kind.XXXXXX") || exit 2
port=$(free_port) || exit 2

cleanup() {
    local rc=$?
    if [ -f "$tmp/stop.sh" ]; then
        [ -f "$tmp/thaw.sh" ] && bash "$tmp/thaw.sh" >/dev/null 2>&1
        bash "$tmp/stop.sh" >/dev/null 2>&1
    fi
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "with-servers: kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case "$kind" in
postgres)
    for b in initdb pg_ctl postgres; do
        if [ ! -x "$PGBIN/$b" ]; then
            echo "with-servers: PostgreSQL server binary $PGBIN/$b is missing (set PGBIN)" >&2
            exit 2
        fi
    done
    # PostgreSQL refuses to run as root: run its tools as "postgres" then.
    as_pg=""
    if [ "$(id -u)" = 0 ]; then
        if ! id postgres >/dev/null 2>&1; then
            echo "with-servers: running as root but there is no 'postgres' user" >&2
            exit 2
        fi
        chown postgres "$tmp"
        as_pg="runuser -u postgres --"
    fi
    pgdata="$tmp/pg"
    if ! $as_pg "$PGBIN/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 \
            --no-sync >"$tmp/initdb.log" 2>&1; then
        echo "with-servers: initdb failed:" >&2
        cat "$tmp/initdb.log" >&2
        exit 2
    fi
    opts="-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off"
    cat >"$tmp/start.sh" <<EOF
$as_pg "$PGBIN/pg_ctl" -D "$pgdata" -l "$tmp/pg.log" -w -t 30 -o "$opts" start >/dev/null
EOF
    cat >"$tmp/stop.sh" <<EOF
$as_pg "$PGBIN/pg_ctl" -D "$pgdata" -m fast -w -t 30 stop >/dev/null 2>&1 || true
EOF
    # The postmaster and its children (by parent PID, nothing else).
    cat >"$tmp/freeze.sh" <<EOF
pid=\$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null) || exit 1
kill -STOP \$(pgrep -P "\$pid") "\$pid"
EOF
    cat >"$tmp/thaw.sh" <<EOF
pid=\$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null) || exit 0
kill -CONT "\$pid" \$(pgrep -P "\$pid") 2>/dev/null || true
EOF
    if ! bash "$tmp/start.sh"; then
        echo "with-servers: PostgreSQL did not start:" >&2
        cat "$tmp/pg.log" >&2
        exit 2
    fi
    if ! $as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres authc_test; then
        echo "with-servers: createdb failed" >&2
        exit 2
    fi
    url="postgres://postgres@127.0.0.1:$port/authc_test"
    ;;
redis)
    if [ -z "$REDIS_SERVER" ] || [ ! -x "$REDIS_SERVER" ]; then
        echo "with-servers: redis-server is missing (install it or set REDIS_SERVER)" >&2
        exit 2
    fi
    cat >"$tmp/start.sh" <<EOF
"$REDIS_SERVER" --port $port --bind 127.0.0.1 --dir "$tmp" --save "" --appendonly no \
  --daemonize yes --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log" || exit 1
for i in \$(seq 1 100); do
  if [ -s "$tmp/redis.pid" ] && (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then exit 0; fi
  sleep 0.05
done
exit 1
EOF
    cat >"$tmp/stop.sh" <<EOF
[ -s "$tmp/redis.pid" ] || exit 0
pid=\$(cat "$tmp/redis.pid")
kill -TERM "\$pid" 2>/dev/null || exit 0
for i in \$(seq 1 200); do
  kill -0 "\$pid" 2>/dev/null || { rm -f "$tmp/redis.pid"; exit 0; }
  sleep 0.05
done
kill -KILL "\$pid" 2>/dev/null; rm -f "$tmp/redis.pid"
EOF
    cat >"$tmp/freeze.sh" <<EOF
kill -STOP "\$(cat "$tmp/redis.pid")"
EOF
    cat >"$tmp/thaw.sh" <<EOF
[ -s "$tmp/redis.pid" ] && kill -CONT "\$(cat "$tmp/redis.pid")" 2>/dev/null || true
EOF
    if ! bash "$tmp/start.sh"; then
        echo "with-servers: redis-server did not start:" >&2
        cat "$tmp/redis.log" >&2 2>/dev/null
        exit 2
    fi
    url="redis://127.0.0.1:$port/0?prefix=testApp:"
    ;;
*)
    echo "with-servers: unknown server kind '$kind' (postgres|redis)" >&2
    exit 2
    ;;
esac

export AUTHC_SERVER_STOP="bash $tmp/stop.sh"
export AUTHC_SERVER_START="bash $tmp/start.sh"
export AUTHC_SERVER_FREEZE="bash $tmp/freeze.sh"
export AUTHC_SERVER_THAW="bash $tmp/thaw.sh"

"$bin" "$kind" "$url" "$@"
