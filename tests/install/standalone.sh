#!/usr/bin/env bash
# standalone.sh — `make install DESTDIR=…` works and an app builds against the
# installed library alone: examples/c-app with `cmake -S examples/c-app`
# (pkg-config libauthc, shared library), a program linked with libauthc.a
# and the .pc file's private dependencies, and the c-app answering requests.
# Usage: tests/install/standalone.sh BUILD_DIR   (run by ctest, label "install")
set -euo pipefail
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/authc-install.XXXXXX")
app_pid=
cleanup() {
  if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "standalone: $*" >&2; exit 1; }

# 1. Install into a staging root, as a package build would.
DESTDIR="$tmp/root" cmake --install "$build" >/dev/null
pc=$(find "$tmp/root" -name libauthc.pc -print -quit)
[ -n "$pc" ] || fail "no libauthc.pc installed"
libdir=$(dirname "$(dirname "$pc")")
prefix_dir=$(find "$tmp/root" -type f -path '*/bin/authc' -print -quit)
[ -n "$prefix_dir" ] || fail "no bin/authc installed"
for f in include/authc.h include/authc/env.h include/authc/adapter.h; do
  [ -f "$(dirname "$(dirname "$prefix_dir")")/$f" ] || fail "missing $f"
done
[ -f "$libdir/libauthc.a" ] || fail "no libauthc.a"
soname=$(readelf -d "$libdir/libauthc.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = libauthc.so.0 ] || fail "SONAME is '$soname', not libauthc.so.0"
[ -e "$libdir/$soname" ] || fail "no $soname beside libauthc.so"
# Man pages, the systemd unit (pointing at this prefix's binary) and the
# example environment file.
prefix=$(dirname "$(dirname "$prefix_dir")")
for f in share/man/man1/authc.1 share/man/man5/authc.conf.5 lib/systemd/system/authc.service \
         share/doc/authc/authc.env; do
  [ -f "$prefix/$f" ] || fail "missing $f"
done
staged_bin=${prefix_dir#"$tmp/root"}
grep -qx "ExecStart=$staged_bin serve --config /etc/authc/authc.env" "$prefix/lib/systemd/system/authc.service" ||
  fail "authc.service does not start $staged_bin: $(grep ExecStart= "$prefix/lib/systemd/system/authc.service")"
grep -qE '@[A-Z_]+@' "$prefix/lib/systemd/system/authc.service" && fail "authc.service has unconfigured @VARIABLES@"
export PKG_CONFIG_PATH="$(dirname "$pc")"
# The .pc file finds its prefix from where it lies (DESTDIR, --prefix).
[ "$(pkg-config --variable=libdir libauthc)" -ef "$libdir" ] || fail "libauthc.pc points elsewhere: $(pkg-config --variable=libdir libauthc)"

# 2. The example, standalone, against the installed prefix.
cmake -S "$src/examples/c-app" -B "$tmp/app" -DCMAKE_BUILD_TYPE=Release >"$tmp/app.log" 2>&1 ||
  { cat "$tmp/app.log" >&2; fail "configuring examples/c-app failed"; }
cmake --build "$tmp/app" -j 2 >>"$tmp/app.log" 2>&1 || { cat "$tmp/app.log" >&2; fail "building examples/c-app failed"; }
grep -q -- "$src/src/" "$tmp/app/CMakeFiles/authc-c-app.dir/flags.make" && fail "the example sees the program's src/"

# 3. Static: libauthc.a plus what libauthc.pc says it needs.
cat >"$tmp/static.c" <<'C'
#include <authc.h>
#include <authc/env.h>
#include <stdio.h>
int main(void)
{
    char err[4096];
    authc_resources *res = NULL;
    authc_config *cfg = authc_config_from_env(NULL, NULL, &res, err, sizeof err);
    authc *a = cfg ? authc_new(cfg, err, sizeof err) : NULL;
    if (!a) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%s\n", authc_base_path(a));
    authc_free(a);
    authc_resources_free(res);
    return 0;
}
C
# libauthc.a with its direct dependencies (Requires.private, one level:
# `pkg-config --static` would also ask for the static closure of libcurl's
# own dependencies, which Debian's -dev packages do not all ship).
requires=$(pkg-config --print-requires-private libauthc | awk '{print $1}' | tr '\n' ' ')
[ -n "$requires" ] || fail "libauthc.pc has no Requires.private"
private=$(sed -n 's/^Libs.private: *//p' "$pc")
# shellcheck disable=SC2086
cc -std=c17 -Wall -Werror $(pkg-config --cflags libauthc) "$tmp/static.c" -o "$tmp/static" \
  "$libdir/libauthc.a" $(pkg-config --libs $requires) $private || fail "static link with Requires.private failed"
ldd "$tmp/static" | grep -q libauthc && fail "the static program loads libauthc.so"
secret=$("$prefix_dir" secret)
out=$(env -i PATH="$PATH" AUTH_SECRET="$secret" AUTH_TRUST_HOST=1 "$tmp/static") || fail "static program: $out"
[ "$out" = /auth ] || fail "static program printed '$out'"

# 4. The standalone c-app serves (library found through its RPATH or LD_LIBRARY_PATH).
LD_LIBRARY_PATH="$libdir" env -i PATH="$PATH" LD_LIBRARY_PATH="$libdir" AUTH_SECRET="$secret" AUTH_TRUST_HOST=1 \
  "$tmp/app/authc-c-app" --listen 127.0.0.1:0 >"$tmp/run.log" 2>&1 &
app_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/run.log" 2>/dev/null || true)
  [ -n "$port" ] && break
  kill -0 "$app_pid" 2>/dev/null || { cat "$tmp/run.log" >&2; fail "authc-c-app exited"; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/run.log" >&2; fail "authc-c-app did not start"; }
body=$(curl -sf "http://127.0.0.1:$port/auth/providers") || fail "GET /auth/providers failed"
[ "$body" = "{}" ] || fail "GET /auth/providers: $body"
curl -sf "http://127.0.0.1:$port/" | grep -q '未登录' || fail "the home page is not the anonymous one"
kill -TERM "$app_pid"
wait "$app_pid" || { st=$?; cat "$tmp/run.log" >&2; fail "authc-c-app exit status $st"; }
app_pid=
echo "standalone: install, pkg-config (shared and static) and examples/c-app OK"
