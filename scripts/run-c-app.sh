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
# Same files and settings as scripts/run-dev.sh, so both apps share sign-ins.
. scripts/dev-env.sh
listen="${AUTHC_APP_LISTEN:-127.0.0.1:3001}"
cat <<MSG
authc C app (dev) → http://$listen/
  sign in with username "demo", password "demo"; /dashboard needs a session
  same secret, users and database as \`make run\` ($dev/); cookies are per host,
  so a sign-in on 127.0.0.1:3000 is also seen here. Ctrl-C stops it.
MSG
exec "$bin" --listen "$listen"
