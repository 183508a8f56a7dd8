#!/usr/bin/env bash
# `make run`: authc on http://127.0.0.1:3000 with an embedded default —
# SQLite, a demo user, a dev secret kept in .authc-dev/ — nothing external.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/dev-env.sh
# The React example (examples/react-app): built when missing or older than its sources.
examples/react-app/build.sh --if-stale || echo "authc: could not build examples/react-app (node/npm?); serving examples/demo" >&2
static=examples/demo
[ -f examples/react-app/dist/index.html ] && static=examples/react-app/dist
# Email sign-in without a mail server: links are written to this log.
export AUTHC_EMAIL="${AUTHC_EMAIL:-log}"
# Passkeys (WebAuthn), stored in the SQLite database.
export AUTHC_PASSKEY="${AUTHC_PASSKEY:-1}"
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
