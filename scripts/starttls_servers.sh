# Installs the real servers the STARTTLS dialogue tests run (tests/it/starttls_servers.rs):
# prosody (XMPP), slapd (LDAP), inn2 (NNTP), dovecot-managesieved (ManageSieve),
# dovecot-imapd and dovecot-pop3d (IMAP, POP3), postgresql (PostgreSQL),
# mariadb-server (MySQL) and inspircd (IRC). Sourced by scripts/test.sh and .ci/run after
# scripts/apt.sh; needs root.
#
# No package may start its daemon on a default port while it is installed: a policy-rc.d
# that exits 101 is in place during the install (only when none exists), removed afterwards.

starttls_servers_missing() {
    local missing=()
    command -v prosody >/dev/null || missing+=(prosody)
    command -v slapd >/dev/null || missing+=(slapd)
    command -v mariadbd >/dev/null || missing+=(mariadb-server)
    command -v inspircd >/dev/null || missing+=(inspircd)
    [ -x /usr/lib/dovecot/managesieve-login ] || missing+=(dovecot-core dovecot-managesieved)
    [ -x /usr/lib/dovecot/imap-login ] || missing+=(dovecot-imapd)
    [ -x /usr/lib/dovecot/pop3-login ] || missing+=(dovecot-pop3d)
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
    echo "${missing[@]}"
}

# inn2's postinst fails on a host without a domain name: give inn.conf one and configure
# again (at most 3 times), else purge it so that later apt calls still work.
starttls_install_inn2() {
    [ -x /usr/lib/news/bin/nnrpd ] && return 0
    # Expected to fail the first time on a host without a domain name; fixed below.
    apt_install --no-install-recommends inn2 2>/dev/null || true
    local try
    for try in 1 2 3; do
        dpkg -s inn2 2>/dev/null | grep -q '^Status: install ok installed' && return 0
        if [ -f /etc/news/inn.conf ]; then
            if grep -q '^domain:' /etc/news/inn.conf; then
                sed -i 's/^domain:.*/domain: localdomain/' /etc/news/inn.conf
            else
                echo 'domain: localdomain' >>/etc/news/inn.conf
            fi
        fi
        DEBIAN_FRONTEND=noninteractive dpkg --configure inn2 >/dev/null 2>&1 || true
    done
    dpkg -s inn2 2>/dev/null | grep -q '^Status: install ok installed' && return 0
    echo "inn2 did not configure; purging it" >&2
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq inn2 >/dev/null || true
    return 1
}

install_starttls_servers() {
    local missing
    missing=$(starttls_servers_missing)
    if [ -z "$missing" ] && [ -x /usr/lib/news/bin/nnrpd ]; then
        return 0
    fi
    local policy=/usr/sbin/policy-rc.d own_policy=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        own_policy=1
    fi
    echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
    local status=0
    # shellcheck disable=SC2086
    [ -z "$missing" ] || apt_install --no-install-recommends $missing || status=$?
    [ $status -ne 0 ] || starttls_install_inn2 || status=$?
    [ -z "$own_policy" ] || rm -f "$policy"
    return $status
}
