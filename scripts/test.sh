#!/usr/bin/env bash
# The full test suite: installs the extra real peers when missing (gnutls-bin, the STARTTLS
# servers of scripts/starttls_servers.sh, tcpdump and tshark, a Python virtual environment
# with aiosmtpd and sslyze), then runs every test, the ones that need those peers included,
# on the system's OpenSSL (3.0), and then the integration suite on OpenSSL 3.5, 3.6 and 4.0
# (scripts/test-openssl.sh), each built once from the openssl-src crate's source and cached.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v openssl >/dev/null || need_apt+=(openssl)
command -v gnutls-serv >/dev/null || need_apt+=(gnutls-bin)
command -v curl >/dev/null || need_apt+=(curl)
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v strace >/dev/null || need_apt+=(strace)
command -v ip >/dev/null || need_apt+=(iproute2)
command -v unshare >/dev/null || need_apt+=(util-linux)
# tests/it/keylog.rs captures a loopback session and decrypts it with the key log.
command -v tcpdump >/dev/null || need_apt+=(tcpdump)
command -v tshark >/dev/null || need_apt+=(tshark)
[ -f /usr/include/openssl/ssl.h ] || need_apt+=(libssl-dev pkg-config)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
# Building OpenSSL 3.5, 3.6 and 4.0 (scripts/openssl.sh): make, a C compiler, and the Perl
# modules its Configure needs beyond perl-base (IPC::Cmd, FindBin, ...: Debian's perl).
command -v make >/dev/null || need_apt+=(make)
command -v gcc >/dev/null || need_apt+=(gcc)
command -v flock >/dev/null || need_apt+=(util-linux)
perl -MIPC::Cmd -MFindBin -MFile::Copy -MGetopt::Std -MFile::Spec::Functions -e 1 2>/dev/null ||
    need_apt+=(perl)
# shellcheck source=scripts/starttls_servers.sh
. scripts/starttls_servers.sh
need_servers=$(starttls_servers_missing)
[ -x /usr/lib/news/bin/nnrpd ] || need_servers="$need_servers inn2"
if [ ${#need_apt[@]} -gt 0 ] || [ -n "${need_servers// /}" ]; then
    if [ "$(id -u)" = 0 ]; then
        # shellcheck source=scripts/apt.sh
        . scripts/apt.sh
        apt_update
        # tshark asks whether non-root users may capture: no.
        echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
        [ ${#need_apt[@]} -eq 0 ] || apt_install "${need_apt[@]}"
        # The real STARTTLS servers (tests/it/starttls_servers.rs): about a minute on a fresh
        # Debian 12 machine.
        install_starttls_servers
    else
        echo "missing: ${need_apt[*]} $need_servers (install them, or run as root)" >&2
        exit 1
    fi
fi

# aiosmtpd and sslyze in .venv; TLSHAKE_PYTHON names its Python.
# shellcheck source=scripts/venv.sh
. scripts/venv.sh
test_venv

# Lints first: formatting, clippy with warnings as errors, rustdoc with warnings as errors.
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo clippy --all-targets --features bench-tokio -- -D warnings
RUSTDOCFLAGS=-Dwarnings cargo doc --no-deps
RUSTDOCFLAGS=-Dwarnings cargo doc --no-deps --features tokio
# The library alone, without the CLI's crates.
cargo build --lib --no-default-features
# The crate as published: package it and build the packaged copy (the verify step).
cargo package --allow-dirty
cargo build --lib --no-default-features --features tokio
cargo test --all-targets -- --include-ignored
cargo test --doc
# The tokio runner (feature `tokio`, off by default): its tests and doc examples.
# With the feature: the tokio runner's tests, its STARTTLS dialogues, the demo's async
# section, the real STARTTLS servers and aiosmtpd again (each also through
# connect_async_with), the fault sweep through the tokio runner (compared case by case with
# the blocking runner), examples/hyper_get.rs against `tlshake serve`, the JSON of
# `tlshake bench --runtime tokio`, the tokio listener's shutdown event, and the DTLS
# lossy-relay sweep through the tokio runner (compared case by case with the blocking one).
cargo test --features bench-tokio --test it -- --include-ignored tokio_runner:: tokio_starttls:: \
    cli::demo starttls_servers:: client::starttls_smtp_against_aiosmtpd fault_proxy::tokio_ \
    examples::hyper_get cli::bench_runtime_tokio server::a_close_notify dtls::sweep::
cargo test --features tokio --doc -- tokio connect_async ReadmeDoctests
# The fuzz targets as property tests, with many more cases than a plain `cargo test`.
PROPTEST_CASES=20000 cargo test --test it fuzz_props::
# Memory safety: about 200 handshakes of every kind under valgrind's memcheck.
./scripts/valgrind.sh
# The cargo-fuzz targets, 30 s each, where a nightly toolchain is installed (a crash fails).
./scripts/fuzz.sh
# The integration suite on the other supported OpenSSL releases, each against its own
# s_server and s_client: OpenSSL is built from the openssl-src crate's source when it is not
# cached (about 3.5 minutes a version on 2 cores), tlshake against it in target/openssl-X.Y.
for version in 3.5 3.6 4.0; do
    ./scripts/test-openssl.sh "$version"
done
