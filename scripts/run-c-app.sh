#!/usr/bin/env bash
# `make run-c-app`: the server-rendered C example (examples/c-app) on
# http://127.0.0.1:3001 with the same dev secret, users and database as `make run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${AUTHC_C_APP_BIN:-build/examples/c-app/authc-c-app}
if [ ! -x "$bin" ] || [ ! -x build/authc ]; then
  echo "authc: $bin or build/authc is missing; run \`make build\` first" >&2
  exit 1
fi
dev=.authc-dev
mkdir -p "$dev"
chmod 700 "$dev"
# Same files as scripts/run-dev.sh creates, so both apps share sign-ins.
if [ ! -s "$dev/secret" ]; then
  build/authc secret > "$dev/secret"
  chmod 600 "$dev/secret"
fi
if [ ! -s "$dev/users" ]; then
  hash=$(printf 'demo' | build/authc hash-password)
  echo "1:demo:$hash:demo@example.com:Demo User" > "$dev/users"
fi
export AUTH_SECRET="$(cat "$dev/secret")"
export AUTH_TRUST_HOST=true
export AUTHC_USERS_FILE="$dev/users"
export AUTHC_DATABASE="${AUTHC_DATABASE:-sqlite:$dev/authc.db}"
export AUTHC_SESSION_STRATEGY="${AUTHC_SESSION_STRATEGY:-jwt}"
listen="${AUTHC_APP_LISTEN:-127.0.0.1:3001}"
cat <<MSG
authc C app (dev) → http://$listen/
  sign in with username "demo", password "demo"; /dashboard needs a session
  same secret, users and database as \`make run\` ($dev/); cookies are per host,
  so a sign-in on 127.0.0.1:3000 is also seen here. Ctrl-C stops it.
MSG
exec "$bin" --listen "$listen"
