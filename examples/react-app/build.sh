#!/usr/bin/env bash
# build.sh — builds the React example (esbuild from the repo's package-lock)
# into examples/react-app/dist, or DIR. --if-stale: only when dist is missing or older than its sources.
# Usage: examples/react-app/build.sh [--if-stale] [DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if_stale=0
if [ "${1:-}" = --if-stale ]; then if_stale=1; shift; fi
out=${1:-$here/dist}
if [ "$if_stale" = 1 ] && [ -f "$out/index.html" ] &&
   [ -z "$(find "$here/src" "$here/index.html" "$here/build.mjs" "$here/../js-client/authc.js" "$root/package-lock.json" -newer "$out/index.html" 2>/dev/null | head -1)" ]; then
  exit 0
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "react-app: node and npm are needed to build the React example (apt-get install nodejs npm)" >&2
  exit 1
fi
if [ ! -x "$root/node_modules/.bin/esbuild" ] || [ ! -d "$root/node_modules/next-auth" ] || [ ! -d "$root/node_modules/react-dom" ]; then
  echo "react-app: installing npm packages (npm ci)"
  (cd "$root" && npm ci --no-audit --no-fund --legacy-peer-deps >/dev/null)
fi
cd "$root"
exec node "$here/build.mjs" "$out"
