#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (FUZZ_SECONDS each, default 30) when a
# nightly toolchain is on the machine; a crash fails the run. Without nightly it says so and
# stops: tests/it/fuzz_props.rs runs the same checks as property tests on stable.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-30}"

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "fuzz: no nightly toolchain here; tests/it/fuzz_props.rs covered the same targets on stable"
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --quiet --locked cargo-fuzz
fi

cargo +nightly fuzz build
for target in transport_url fingerprint starttls_replies first_flight; do
    # Work on a copy of the seed corpus so that a run never adds files to the repository.
    work=$(mktemp -d)
    cp -r "fuzz/corpus/$target/." "$work/"
    echo "fuzz: $target for ${seconds}s"
    log="$work.log"
    status=0
    cargo +nightly fuzz run "$target" "$work" -- -max_total_time="$seconds" -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    grep -E "stat::number_of_executed_units|ERROR|panicked|SUMMARY" "$log" || true
    rm -rf "$work" "$log"
    if [ "$status" -ne 0 ]; then
        echo "fuzz: $target found a crash (artifacts in fuzz/artifacts/$target)" >&2
        exit 1
    fi
done
echo "fuzz: every target ran ${seconds}s without a crash"
