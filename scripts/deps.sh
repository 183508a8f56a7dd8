#!/usr/bin/env bash
# Installs what authc needs on a fresh Debian machine, only what is missing.
# Usage: scripts/deps.sh build|test
set -euo pipefail
mode=${1:-build}
build_pkgs=(build-essential cmake pkg-config libh2o-evloop-dev libssl-dev libjansson-dev
  libcjose-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev libhiredis-dev libargon2-dev
  libcbor-dev libfido2-dev libcmocka-dev)
test_pkgs=(nodejs npm postgresql redis-server sqlite3 chromium fonts-wqy-microhei nginx-light)
# promtool checks /metrics; man-db + groff check the man pages.
test_pkgs+=(prometheus man-db groff-base)
# make test-valgrind runs the unit tests under memcheck.
test_pkgs+=(valgrind)
# tests/sanitizers/serve-stress.sh loads the ASan server with wrk.
test_pkgs+=(wrk)
pkgs=("${build_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node/npm may come from outside Debian: only install them when absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "authc: installing Debian packages: ${missing[*]}"
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  # Packages with a service (prometheus, nginx-light) must not start it here: a
  # policy-rc.d that says "no" while installing, unless one exists already.
  guard=; if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d; guard=1
  fi
  rc=0; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null || rc=$?
  [ -n "$guard" ] && $SUDO rm -f /usr/sbin/policy-rc.d
  [ $rc -eq 0 ] || exit $rc
fi
if [ "$mode" = test ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ ! -d "$here/node_modules" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    echo "authc: npm ci (test peers: @auth/core, next-auth, oidc-provider, ...)"
    (cd "$here" && npm ci --no-audit --no-fund --legacy-peer-deps >/dev/null)
  fi
fi
