#!/usr/bin/env bash
# The integration suite (tests/it, ignored tests included) on one supported OpenSSL, against
# that version's own `openssl` programs:
#
#   scripts/test-openssl.sh 4.0              # builds OpenSSL 4.0 first when it is not cached
#   scripts/test-openssl.sh 3.5 sessions::   # extra arguments go to the test binary
#
# The library comes from scripts/openssl.sh (3.0 is the system's; 3.5, 3.6 and 4.0 are built
# from the openssl-src crate's source and cached). tlshake is built against it statically, in
# a target directory of its own (target/openssl-X.Y), and the tests run with that version's
# `openssl` first on PATH and in TLSHAKE_OPENSSL, so every s_server and s_client peer is the
# version under test. The real servers (nginx, postfix, dovecot, ...) stay the system's: they
# are peers, not the library under test. The peers the full suite needs are installed by
# scripts/test.sh (or .ci/run); this script expects them.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
    echo "usage: $0 VERSION [TEST-FILTER...]   (VERSION: $(scripts/openssl.sh --list))" >&2
    exit 2
fi
line=$1
shift
prefix=$(scripts/openssl.sh "$line")

# shellcheck source=scripts/venv.sh
. scripts/venv.sh
test_venv

if [ "$line" = "3.0" ]; then
    # The system library, linked as a plain `cargo test` links it, in the usual target dir.
    export TLSHAKE_OPENSSL=/usr/bin/openssl
else
    export OPENSSL_DIR=$prefix OPENSSL_STATIC=1
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}/openssl-$line
    export PATH="$prefix/bin:$PATH"
    export TLSHAKE_OPENSSL=$prefix/bin/openssl
fi
echo "== integration suite on $("$TLSHAKE_OPENSSL" version) ($TLSHAKE_OPENSSL)" >&2
cargo test --test it -- --include-ignored "$@"
