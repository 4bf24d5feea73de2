#!/usr/bin/env bash
# The cryptographic floor of one TLS 1.3 handshake (ECDSA P-256 certificate, both ends
# together), measured on this machine by the version's own `openssl speed` (EVP, the same
# library tlshake links in the matrix):
#
#   key exchange, default groups: on 3.5+ the client's X25519MLKEM768 keygen and its second
#     key share (one X25519 keygen), the server's encapsulation, the client's decapsulation;
#     on 3.0 (no ML-KEM), X25519 as below;
#   key exchange, X25519: four scalar multiplications (a keygen and a derive at each end);
#   signatures: the server's CertificateVerify (one sign), the client's check of it and of
#     the leaf's signature by the CA (two verifies; the verification cache skips the second
#     on a hit);
#   the key schedule and Finished: about 50 HMAC-SHA256 of 64 bytes, both ends.
#
#   scripts/floor.sh 4.0        # one markdown row: per-operation microseconds and the floors
#
# Speed figures are best read on a quiet machine; the floor is what no wrapper can go below.
set -euo pipefail
cd "$(dirname "$0")/.."
line=${1:-3.0}
prefix=$(scripts/openssl.sh "$line")
if [ "$line" = 3.0 ]; then openssl=/usr/bin/openssl; else openssl=$prefix/bin/openssl; fi
secs=${FLOOR_SECONDS:-2}

speed() { "$openssl" speed -mr -seconds "$secs" "$@" 2>/dev/null | grep '^+F'; }
# Microseconds per operation from a rate.
us() { awk -v r="$1" 'BEGIN { printf "%.1f", 1e6 / r }'; }

ec=$(speed ecdhx25519 ecdsap256)
x25519=$(us "$(echo "$ec" | awk -F: '$1=="+F5" {print $4}')")
sign=$(us "$(echo "$ec" | awk -F: '$1=="+F4" {print $4}')")
verify=$(us "$(echo "$ec" | awk -F: '$1=="+F4" {print $5}')")
hmac_rate=$(speed -bytes 64 -hmac sha256 | awk -F: '{print $4 / 64}')
hmac=$(awk -v r="$hmac_rate" 'BEGIN { printf "%.2f", 1e6 / r }')
signatures=$(awk -v s="$sign" -v v="$verify" 'BEGIN { print s + 2 * v }')
schedule=$(awk -v h="$hmac" 'BEGIN { print 50 * h }')
floor_x25519=$(awk -v x="$x25519" -v g="$signatures" -v k="$schedule" 'BEGIN { printf "%.0f", 4 * x + g + k }')

if kem=$(speed -kem-algorithms X25519MLKEM768) && [ -n "$kem" ]; then
    keygen=$(us "$(echo "$kem" | awk -F: '{print $3}')")
    encaps=$(us "$(echo "$kem" | awk -F: '{print $4}')")
    decaps=$(us "$(echo "$kem" | awk -F: '{print $5}')")
    floor_default=$(awk -v a="$keygen" -v b="$encaps" -v c="$decaps" -v x="$x25519" -v g="$signatures" -v k="$schedule" \
        'BEGIN { printf "%.0f", a + b + c + x + g + k }')
    hybrid="$keygen / $encaps / $decaps"
else
    hybrid="-"
    floor_default=$floor_x25519
fi
version=$("$openssl" version | awk '{print $2}')
echo "| $version | $x25519 | $hybrid | $sign / $verify | $hmac | $floor_default | $floor_x25519 |"
