#!/usr/bin/env bash
# Where one handshake's CPU goes, per OpenSSL version: `perf record` of a `tlshake serve`
# (1 worker) under `tlshake bench --connect` load (16 in flight, the engine with a
# ClientConfig), both tlshake, both profiled, then every sample put in one bucket by the
# function it was in (scripts/profile_buckets.py):
#
#   scripts/profile.sh 4.0            # one version (3.0 3.5 3.6 4.0)
#   PROFILE_SECS=10 scripts/profile.sh 3.0
#   PROFILE_DATA=/tmp/p.data PROFILE_OTHERS=1 scripts/profile.sh 3.5   # keep the data; list what no bucket took
#
# The versions other than 3.0 are linked statically with symbols (target/openssl-X.Y, as
# scripts/bench-matrix.sh builds them); the system's 3.0 has its exported symbols only, so
# its internal functions count as "libcrypto, unnamed". Needs perf.
set -euo pipefail
cd "$(dirname "$0")/.."
v=${1:?usage: $0 VERSION}
secs=${PROFILE_SECS:-6}
prefix=$(scripts/openssl.sh "$v")
if [ "$v" = 3.0 ]; then
    cargo build --release --quiet
    bin=$PWD/target/release/tlshake
else
    target=$PWD/target/openssl-$v
    OPENSSL_DIR=$prefix OPENSSL_STATIC=1 CARGO_TARGET_DIR=$target cargo build --release --quiet
    bin=$target/release/tlshake
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
# Both processes under one perf session (children are followed).
perf record -q -F 1999 -g -o "$work/perf.data" -- bash -c "
    '$bin' serve --quiet --bind 127.0.0.1 --port $port --workers 1 --reply http \
        --cert certs/server.pem --key certs/server.key & s=\$!
    . scripts/wait_port.sh
    wait_port $port || { kill \$s; exit 1; }
    '$bin' bench --connect tls://127.0.0.1:$port --cafile certs/ca.pem --servername localhost \
        --concurrency 16 --duration $secs --json > '$work/bench.json'
    kill \$s; wait \$s 2>/dev/null || true
" >/dev/null 2>&1
echo "#### $("$bin" --version | sed 's/^tlshake [^ ]* //'): $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("{} handshakes, {:.0f}/s".format(j["handshakes"], j["handshakes_per_s"]))' "$work/bench.json")"
[ -z "${PROFILE_DATA:-}" ] || cp "$work/perf.data" "$PROFILE_DATA"
perf report -i "$work/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
    python3 scripts/profile_buckets.py
