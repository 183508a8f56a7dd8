# dev-env.sh — sourced by run-dev.sh and run-c-app.sh: the shared .authc-dev/
# (dev secret, demo user, SQLite database) and the environment both apps use.
# Sets $dev; expects the repository root as the current directory.
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
export AUTH_SECRET="$(cat "$dev/secret")"
export AUTH_TRUST_HOST=true
export AUTHC_USERS_FILE="$dev/users"
export AUTHC_DATABASE="${AUTHC_DATABASE:-sqlite:$dev/authc.db}"
# Credentials sign-in always issues JWT sessions (as in Auth.js).
export AUTHC_SESSION_STRATEGY="${AUTHC_SESSION_STRATEGY:-jwt}"
