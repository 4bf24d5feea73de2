#!/usr/bin/env bash
# Handshakes/s and server CPU per handshake of nginx (when installed), `openssl s_server -www`
# and `tlshake serve --reply http`, all driven by `tlshake bench --connect` with the same
# certificate (certs/server.pem, P-256), TLS 1.3, no session resumption.
#
#   scripts/compare_servers.sh [SECONDS] [CONCURRENCY...]     (default: 5 s; C = 1 16 64)
#
# Server CPU is utime + stime of the server's processes from /proc (USER_HZ = 100), read
# before and after each run. Needs jq; nginx is skipped when it is not installed.
set -euo pipefail

cd "$(dirname "$0")/.."
secs=${1:-5}
shift || true
concurrency=("${@:-1 16 64}")
# shellcheck disable=SC2206
concurrency=(${concurrency[*]})

cargo build --release --quiet
bin=target/release/tlshake
certs=$PWD/certs
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/wait_port.sh
. scripts/wait_port.sh

# CPU microseconds of the process $1 and its children (nginx workers).
cpu_us() {
    local total=0 pid
    for pid in $1 $(pgrep -P "$1" || true); do
        if [[ -r /proc/$pid/stat ]]; then
            read -r -a f < <(sed 's/.*) //' "/proc/$pid/stat")
            total=$((total + f[11] + f[12]))
        fi
    done
    echo $((total * 10000))
}

declare -A port pid
start_servers() {
    port[serve]=5601
    # Like nginx below: no line per connection (access_log off), no tickets.
    "$bin" serve --quiet --no-tickets --workers 2 --bind 127.0.0.1 --port 5601 --reply http \
        --cert "$certs/server.pem" --key "$certs/server.key" >/dev/null 2>&1 &
    pid[serve]=$!
    pids+=("$!")
    port[s_server]=5602
    openssl s_server -quiet -www -accept 5602 -no_ticket \
        -cert "$certs/server.pem" -key "$certs/server.key" >/dev/null 2>&1 &
    pid[s_server]=$!
    pids+=("$!")
    if command -v nginx >/dev/null; then
        port[nginx]=5603
        cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 20000; }
http {
    access_log off;
    server {
        listen 127.0.0.1:5603 ssl;
        ssl_certificate $certs/server.pem;
        ssl_certificate_key $certs/server.key;
        ssl_protocols TLSv1.3;
        ssl_session_tickets off;
        ssl_session_cache off;
        location / { return 200 "ok\n"; }
    }
}
CONF
        nginx -c "$work/nginx.conf" -g 'daemon off;' &
        pid[nginx]=$!
        pids+=("$!")
    fi
    for name in "${!port[@]}"; do wait_port "${port[$name]}"; done
}

start_servers
servers=(s_server serve)
[[ -n ${port[nginx]:-} ]] && servers=(nginx serve s_server)
[[ -z ${port[nginx]:-} ]] && echo "nginx is not installed: ratios are against s_server"
base=${servers[0]}

printf '%-9s %5s %12s %16s %9s %9s %9s\n' server C handshakes/s "server CPU us/hs" p50_ms p99_ms failures
declare -A rate cpu
for c in "${concurrency[@]}"; do
    for name in "${servers[@]}"; do
        before=$(cpu_us "${pid[$name]}")
        out=$("$bin" bench --connect "tls://127.0.0.1:${port[$name]}" --cafile "$certs/ca.pem" \
            --servername localhost --concurrency "$c" --duration "$secs" --json || true)
        after=$(cpu_us "${pid[$name]}")
        n=$(jq -r .handshakes <<<"$out")
        rate[$name,$c]=$(jq -r .handshakes_per_s <<<"$out")
        cpu[$name,$c]=$(((after - before) / (n > 0 ? n : 1)))
        printf '%-9s %5s %12s %16s %9s %9s %9s\n' "$name" "$c" "${rate[$name,$c]}" \
            "${cpu[$name,$c]}" "$(jq -r .p50_ms <<<"$out")" "$(jq -r .p99_ms <<<"$out")" \
            "$(jq -r .failures <<<"$out")"
    done
done
echo
echo "ratios against $base (handshakes/s, server CPU per handshake):"
for c in "${concurrency[@]}"; do
    for name in "${servers[@]}"; do
        [[ $name == "$base" ]] && continue
        jq -rn --arg n "$name" --arg c "$c" \
            --argjson r "${rate[$name,$c]}" --argjson rb "${rate[$base,$c]}" \
            --argjson u "${cpu[$name,$c]}" --argjson ub "${cpu[$base,$c]}" \
            '"\($n) C=\($c): \(($r / $rb * 1000 | round) / 1000)x rate, \((if $ub > 0 then $u / $ub else 0 end) * 1000 | round / 1000)x CPU"'
    done
done
