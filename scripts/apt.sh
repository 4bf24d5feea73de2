# apt-get wrappers that wait for another apt/dpkg process to finish instead of failing at
# once. Sourced by .ci/run and scripts/test.sh.
#
# `apt-get install` waits for the dpkg lock itself (DPkg::Lock::Timeout); `apt-get update`
# (apt 2.6) ignores that option for the package-list lock, so it is retried until the same
# deadline, each try after the lock is free.

APT_LOCK_WAIT_S=${APT_LOCK_WAIT_S:-600}

# Blocks until nobody holds the fcntl lock on $1, for at most $2 seconds.
apt_wait_for_lock() {
    [ -e "$1" ] || return 0
    timeout "$2" python3 -c 'import fcntl, sys; fcntl.lockf(open(sys.argv[1], "w"), fcntl.LOCK_EX)' "$1" \
        2>/dev/null || true
}

apt_update() {
    local until=$((SECONDS + APT_LOCK_WAIT_S))
    local left
    while true; do
        left=$((until - SECONDS))
        [ $left -ge 1 ] || left=1
        apt_wait_for_lock /var/lib/apt/lists/lock $left
        if apt-get -o DPkg::Lock::Timeout=$left update -qq; then
            return 0
        fi
        if [ $SECONDS -ge $until ]; then
            echo "apt-get update failed for ${APT_LOCK_WAIT_S} s" >&2
            return 1
        fi
        sleep 2
    done
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT_S" \
        install -y -qq "$@" >/dev/null
}
