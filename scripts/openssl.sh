#!/usr/bin/env bash
# Provides one supported OpenSSL (library, headers and its `openssl` program) and prints the
# directory it is installed in. Versions other than the system's are built from the source
# inside the `openssl-src` crate on crates.io (the only download), once: the result is cached
# in a directory keyed by version, so a second run costs nothing.
#
#   scripts/openssl.sh 3.5          # prints e.g. /root/.cache/tlshake/openssl/3.5.5
#   scripts/openssl.sh --list       # the versions this script knows
#
# 3.0 is the system's (Debian's libssl-dev; prints /usr). The cache lives outside the checkout:
# $TLSHAKE_OPENSSL_CACHE, else $XDG_CACHE_HOME/tlshake/openssl, else ~/.cache/tlshake/openssl.
#
# Build tlshake against a printed prefix P with
#   OPENSSL_DIR=$P OPENSSL_STATIC=1 CARGO_TARGET_DIR=target/openssl-X.Y cargo build
# and put $P/bin first on PATH (and TLSHAKE_OPENSSL=$P/bin/openssl) so the tests' peers are
# that version's own programs: scripts/test-openssl.sh does all of that.
set -euo pipefail

# The openssl-src crate version that carries each OpenSSL release line.
crate_version() {
    case "$1" in
        3.5) echo "300.5.5+3.5.5" ;;
        3.6) echo "300.6.1+3.6.3" ;;
        4.0) echo "400.0.2+4.0.3" ;;
        *) return 1 ;;
    esac
}

if [ "${1:-}" = "--list" ]; then
    echo "3.0 (system) 3.5 3.6 4.0"
    exit 0
fi
if [ $# -ne 1 ]; then
    echo "usage: $0 VERSION   (3.0, 3.5, 3.6 or 4.0; --list)" >&2
    exit 2
fi
line=$1

if [ "$line" = "3.0" ]; then
    if [ ! -f /usr/include/openssl/ssl.h ] || ! command -v openssl >/dev/null; then
        echo "$0: OpenSSL 3.0 is the system's: install openssl and libssl-dev" >&2
        exit 1
    fi
    echo /usr
    exit 0
fi

if ! crate=$(crate_version "$line"); then
    echo "$0: unsupported OpenSSL '$line': this script provides 3.0 (system), 3.5, 3.6 and 4.0" >&2
    exit 2
fi
release=${crate#*+}
cache=${TLSHAKE_OPENSSL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tlshake/openssl}
prefix=$cache/$release

if [ -x "$prefix/bin/openssl" ] && [ -f "$prefix/.complete" ]; then
    echo "$prefix"
    exit 0
fi

mkdir -p "$cache"
# One builder per version at a time: a second caller waits (bounded) for the first.
exec 9>"$cache/$release.lock"
if ! flock -w 1800 9; then
    echo "$0: another build of OpenSSL $release held $cache/$release.lock for 30 minutes" >&2
    exit 1
fi
if [ -x "$prefix/bin/openssl" ] && [ -f "$prefix/.complete" ]; then
    echo "$prefix"
    exit 0
fi

# Fetch the crate (cargo info downloads and unpacks it into the registry cache).
cargo_home=${CARGO_HOME:-$HOME/.cargo}
crate_file() { find "$cargo_home/registry/cache" -name "openssl-src-$crate.crate" -print -quit 2>/dev/null; }
if [ -z "$(crate_file)" ]; then
    cargo info "openssl-src@$crate" >/dev/null 2>&1 || true
fi
file=$(crate_file)
if [ -z "$file" ]; then
    echo "$0: could not download openssl-src $crate from crates.io" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tlshake-openssl-$release.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xzf "$file" -C "$work"
src=$work/openssl-src-$crate/openssl
log=$work/build.log
rm -rf "$prefix"
echo "building OpenSSL $release into $prefix (a few minutes; log: $log)" >&2
(
    cd "$src"
    # The crate's copy lacks util/providers.num (so no-module and no-legacy) and
    # apps/openssl.cnf (so install_sw, and an empty openssl.cnf).
    ./Configure --prefix="$prefix" --libdir=lib --openssldir="$prefix/ssl" \
        no-shared no-module no-tests no-legacy no-docs
    make -j"$(nproc)"
    make install_sw
) >"$log" 2>&1 || {
    echo "$0: building OpenSSL $release failed; the end of its log:" >&2
    tail -n 40 "$log" >&2
    exit 1
}
mkdir -p "$prefix/ssl"
touch "$prefix/ssl/openssl.cnf"
"$prefix/bin/openssl" version >&2
touch "$prefix/.complete"
echo "$prefix"
