#!/usr/bin/env bash
# tlshake against the plain `openssl` crate on each supported OpenSSL, each figure a ratio
# from one run on this machine (the two alternate in rounds), at the default groups and at
# X25519, 1+1 threads and 64 in flight, with the version's cryptographic floor
# (scripts/floor.sh) beside it:
#
#   scripts/bench-matrix.sh                 # 3.0 3.5 3.6 4.0
#   scripts/bench-matrix.sh 4.0             # one version
#   BENCH_HANDSHAKES=4000 scripts/bench-matrix.sh
#
# Each version is built in release mode against that library (target/openssl-X.Y), as
# scripts/test-openssl.sh builds it for the tests. Prints markdown tables.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.0 3.5 3.6 4.0)
n=${BENCH_HANDSHAKES:-2000}

row() {
    # $1 label; stdin: the JSON of `tlshake bench --json`.
    python3 -c '
import json, sys
label = sys.argv[1]
j = json.loads(sys.stdin.read())
t, o = j["tlshake"], j["openssl_crate"]
cache = j.get("tlshake_verify_cache") or {}
cpu_ratio = t["cpu_us_per_handshake"] / o["cpu_us_per_handshake"] if o["cpu_us_per_handshake"] else 0.0
print("| {} | {:.0f} | {:.0f} | **{:.2f}x** | {:.0f} | {:.0f} | {:.2f}x | {}/{} |".format(
    label, t["handshakes_per_s"], o["handshakes_per_s"], j["ratio"], t["cpu_us_per_handshake"], o["cpu_us_per_handshake"], cpu_ratio,
    cache.get("hits", "-"), cache.get("misses", "-")))
' "$1"
}

for v in "${versions[@]}"; do
    prefix=$(scripts/openssl.sh "$v")
    if [ "$v" = 3.0 ]; then
        bin=target/release/tlshake
        cargo build --release --quiet
    else
        target=$PWD/target/openssl-$v
        OPENSSL_DIR=$prefix OPENSSL_STATIC=1 CARGO_TARGET_DIR=$target cargo build --release --quiet
        bin=$target/release/tlshake
    fi
    echo
    echo "#### $("$bin" --version | sed 's/^tlshake [^ ]* //')"
    echo
    echo "| mode, groups | tlshake hs/s | plain hs/s | rate ratio | tlshake CPU us/hs | plain CPU us/hs | CPU ratio | cache hits/misses |"
    echo "|---|---|---|---|---|---|---|---|"
    for mode in "--threads 1" "--concurrency 64"; do
        for groups in "" "--groups X25519"; do
            # shellcheck disable=SC2086
            json=$("$bin" bench --handshakes "$n" $mode $groups --json)
            label="${mode#--}, ${groups:+X25519}"
            [ -n "$groups" ] || label="${label}default"
            echo "$json" | row "$label"
        done
    done
    echo
    echo "Floor (scripts/floor.sh $v): | version | X25519 op us | X25519MLKEM768 keygen/encaps/decaps us | ECDSA P-256 sign/verify us | HMAC-SHA256 64 B us | floor default us | floor X25519 us |"
    scripts/floor.sh "$v"
done
