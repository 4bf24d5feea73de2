#!/usr/bin/env bash
# Runs the leaks test (tests/it/leaks.rs: about 200 handshakes through memory BIOs, nonblocking and
# blocking sockets, the listener and STARTTLS, successes and failures) under valgrind's memcheck.
# Fails on any invalid read or write, any use of uninitialised memory, and any block
# definitely or indirectly lost. "Still reachable" blocks (OpenSSL's one-time global tables)
# are not errors; scripts/valgrind.supp lists the few one-time allocations that valgrind
# would otherwise report as "possibly lost", each with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "valgrind is not installed (apt-get install valgrind)" >&2
    exit 1
fi

bin=$(cargo test --test it --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "it" and m.get("executable"):
        print(m["executable"])')
[ -n "$bin" ] || { echo "could not build the integration test binary" >&2; exit 1; }

# The test runs in a process of its own (common::isolated!): naming it in the environment
# makes this, valgrind's, process that one.
test=leaks::handshakes_of_every_kind
log=$(mktemp)
status=0
out=$(mktemp)
trap 'rm -f "$log" "$out"' EXIT
TLSHAKE_ISOLATED_TEST="$test" valgrind --tool=memcheck --leak-check=full \
    --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible \
    --error-exitcode=1 --track-origins=no --num-callers=30 \
    --suppressions=scripts/valgrind.supp \
    --log-file="$log" \
    "$bin" "$test" --exact --test-threads=1 >"$out" 2>&1 || status=$?
cat "$out"
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|Invalid (read|write)" "$log" || true
if [ "$status" -ne 0 ]; then
    cat "$log" >&2
    echo "valgrind found errors (exit $status)" >&2
    exit "$status"
fi
# A filter that matches nothing passes too: the test must have run.
grep -q "1 passed" "$out" || { echo "valgrind: $test did not run" >&2; exit 1; }
echo "valgrind: clean"
