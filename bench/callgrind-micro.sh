#!/bin/sh
# callgrind-micro.sh — instructions per call of bench/micro.c cases, which do
# not depend on the machine's load (docs/performance.md, "session 5").
# Usage: bench/callgrind-micro.sh [BUILD_DIR] CASE...   (BUILD_DIR default build-release)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$root/build-release
case "${1:-}" in */*) BUILD=$1; shift ;; esac
N=${MICRO_ITERS:-2000}
cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DAUTHC_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j 2 --target authc >/dev/null
LIBS=$(pkg-config --libs openssl jansson libcurl sqlite3 libpq hiredis libargon2 libcbor libfido2)
mkdir -p "$BUILD/bench-bin"
gcc -std=c17 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I"$root/include" -I"$root/lib" \
  "$root/bench/micro.c" "$BUILD/libauthc.a" $LIBS -lpthread -lm -o "$BUILD/bench-bin/micro"
for c in "$@"; do
  out=$BUILD/bench-bin/callgrind.$c.out
  MICRO_ITERS=$N valgrind --tool=callgrind --toggle-collect=micro_measured \
    --callgrind-out-file="$out" "$BUILD/bench-bin/micro" 0.4 "$c" >/dev/null 2>&1
  tot=$(awk '/^summary:/{print $2}' "$out")
  printf '%s\t%s instructions/call\t(%s)\n' "$c" "$((tot / N))" "$out"
done
