# The Python virtual environment some integration tests drive: aiosmtpd (an SMTP STARTTLS
# peer, tests/it/client.rs) and sslyze (a scanner, tests/it/security_scan.rs), in .venv of the
# checkout. Sourced by scripts/test.sh and scripts/test-openssl.sh: `test_venv` creates or
# completes it and exports TLSHAKE_PYTHON, which those tests read.

test_venv() {
    local venv=.venv
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    if ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
        "$venv/bin/pip" install -q --disable-pip-version-check aiosmtpd
    fi
    if ! "$venv/bin/python" -c 'import sslyze' 2>/dev/null; then
        "$venv/bin/pip" install -q --disable-pip-version-check sslyze
    fi
    export TLSHAKE_PYTHON="$PWD/$venv/bin/python"
}
