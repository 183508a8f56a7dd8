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
# Email sign-in without a mail server: links are written to this log.
export AUTHC_EMAIL="${AUTHC_EMAIL:-log}"
# Passkeys (WebAuthn), stored in the SQLite database.
export AUTHC_PASSKEY="${AUTHC_PASSKEY:-1}"
# Credentials sign-in always issues JWT sessions (as in Auth.js).
export AUTHC_SESSION_STRATEGY="${AUTHC_SESSION_STRATEGY:-jwt}"
listen="${AUTHC_LISTEN:-127.0.0.1:3000}"
# Links and passkey ids are built from the Host header: answer only for these.
export AUTHC_ALLOWED_HOSTS="${AUTHC_ALLOWED_HOSTS:-localhost:${listen##*:},127.0.0.1:${listen##*:}}"
cat <<MSG
authc (dev) → http://localhost:${listen##*:}/   (use localhost for passkeys: browsers refuse IP addresses as WebAuthn RP ids)
  sign in with username "demo", password "demo"
  or by email: the sign-in link is printed below (development only, no mail is sent)
  dev secret: $dev/secret   users: $dev/users   database: ${AUTHC_DATABASE}
  Ctrl-C stops it.
MSG
exec build/authc serve --listen "$listen" --static "$static"
