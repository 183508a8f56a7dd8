#!/usr/bin/env bash
# manpages.sh — docs/man/authc.1 and authc.conf.5 format without a groff
# warning, and name every verb and option of `authc --help` and every setting
# the program and library read.  Usage: tests/install/manpages.sh AUTHC_BIN
set -euo pipefail
bin=${1:?usage: $0 AUTHC_BIN}
src=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "manpages: $*" >&2; exit 1; }
for page in "$src/docs/man/authc.1" "$src/docs/man/authc.conf.5"; do
  warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || fail "man failed on $page: $warn"
  [ -z "$warn" ] || fail "groff warnings in $page: $warn"
done
# Verbs and options: the words of `authc --help` that name them.
help=$("$bin" --help)
page1=$(sed 's/\\-/-/g' "$src/docs/man/authc.1")
for word in $(printf '%s\n' "$help" | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p; s/^  \(--[a-z-]*\) .*/\1/p'); do
  grep -qF -- "$word" <<<"$page1" || fail "authc.1 does not mention $word"
done
# Settings: every quoted AUTH_*/AUTHC_*/EMAIL_* name in lib/ and src/.
for name in $(grep -rhoE '"(AUTHC?|EMAIL)_[A-Z0-9_]*[A-Z0-9]"' "$src/lib" "$src/src" | tr -d '"' | sort -u); do
  grep -qw -- "$name" "$src/docs/man/authc.conf.5" || fail "authc.conf.5 does not describe $name"
done
echo "manpages: both pages format cleanly and are complete"
