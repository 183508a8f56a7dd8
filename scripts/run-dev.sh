#!/usr/bin/env bash
# `make run`: authc on http://127.0.0.1:3000 with an embedded default —
# SQLite, a demo user, a dev secret kept in .authc-dev/ — nothing external.
set -euo pipefail
cd "$(dirname "$0")/.."
dev=.authc-dev
mkdir -p "$dev"
chmod 700 "$dev"
if [ ! -s "$dev/secret" ]; then
  build/authc secret > "$dev/secret"
  chmod 600 "$dev/secret"
fi
if [ ! -s "$dev/users" ]; then
  hash=$(printf 'demo' | build/authc hash-password)
  echo "1:demo:$hash:demo@example.com:Demo User" > "$dev/users"
fi
# The React example (examples/react-app): built when missing or older than its sources.
examples/react-app/build.sh --if-stale || echo "authc: could not build examples/react-app (node/npm?); serving examples/demo" >&2
static=examples/demo
[ -f examples/react-app/dist/index.html ] && static=examples/react-app/dist
export AUTH_SECRET="$(cat "$dev/secret")"
export AUTH_TRUST_HOST=true
export AUTHC_USERS_FILE="$dev/users"
export AUTHC_DATABASE="${AUTHC_DATABASE:-sqlite:$dev/authc.db}"
# Credentials sign-in always issues JWT sessions (as in Auth.js).
export AUTHC_SESSION_STRATEGY="${AUTHC_SESSION_STRATEGY:-jwt}"
listen="${AUTHC_LISTEN:-127.0.0.1:3000}"
cat <<MSG
authc (dev) → http://$listen/
  sign in with username "demo", password "demo"
  dev secret: $dev/secret   users: $dev/users   database: ${AUTHC_DATABASE}
  Ctrl-C stops it.
MSG
exec build/authc serve --listen "$listen" --static "$static"
