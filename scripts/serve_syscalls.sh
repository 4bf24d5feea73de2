#!/usr/bin/env bash
# System calls per handshake of `tlshake serve` (1 worker): the server runs under
# `strace -f -c` until it has ended N handshakes (--max-connections), driven by
# `tlshake bench --connect` with 4 in flight; the table strace prints is divided by N.
#
#   scripts/serve_syscalls.sh [N] [SERVE FLAGS...]     (default: 500; flags e.g. --quiet)
#
# Needs strace. The client is not traced.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
shift || true
cargo build --release --quiet
bin=$PWD/target/release/tlshake
work=$(mktemp -d)
server=
cleanup() {
    [ -z "$server" ] || kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
strace -f -c -o "$work/counts" "$bin" serve "$@" --bind 127.0.0.1 --port "$port" --workers 1 \
    --max-connections "$n" --cert certs/server.pem --key certs/server.key >/dev/null 2>&1 &
server=$!
# shellcheck source=scripts/wait_port.sh
. scripts/wait_port.sh
wait_port "$port"
# The readiness probe above was one connection without a handshake; N - 1 more end the server.
"$bin" bench --connect "tls://127.0.0.1:$port" --cafile certs/ca.pem --servername localhost \
    --concurrency 4 --handshakes $((n - 1)) --json >/dev/null || true
wait "$server" || true
server=
echo "system calls per handshake, tlshake serve $*, $n connections:"
# strace -c: "% time, seconds, usecs/call, calls, [errors,] syscall"; its own total line is
# skipped, and calls made less than once per 100 handshakes (start-up) are not listed.
awk -v n="$n" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
    total += $4
    if ($4 / n >= 0.01) printf "%-16s %6.2f\n", $NF, $4 / n
} END { printf "%-16s %6.2f\n", "total", total / n }' "$work/counts"
