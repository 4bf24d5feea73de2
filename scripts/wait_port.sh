# shellcheck shell=bash
# wait_port PORT: waits (at most 10 s) until something accepts on 127.0.0.1:PORT; the probe
# is one connection that sends nothing. Sourced by the scripts that start a server.
wait_port() {
    local deadline=$((SECONDS + 10))
    until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            echo "nothing listens on port $1" >&2
            return 1
        fi
        sleep 0.05
    done
}
