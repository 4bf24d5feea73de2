#!/usr/bin/env bash
# Regenerates the TEST certificates and keys in this directory with the openssl command line.
#
# These keys are published in the repository: never trust any of these certificates outside
# tests. Run from any directory:  bash certs/generate.sh
#
# Every run makes the same files with the same subjects, names, extensions, key types and
# validity lengths; only the keys, serial numbers and the "now" of the long-lived certificates
# change.
set -euo pipefail

CERTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

DAYS=36500
PASS=tlshake

# One configuration for every command, so the system openssl.cnf never adds extensions.
cat >"$TMP/openssl.cnf" <<EOF
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = unused

[root_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[intermediate_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server_ec]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server_rsa]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[self_signed]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash

[other_host]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[wildcard]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:*.tlshake.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

# Used only by "openssl ca", for the certificates with fixed validity dates.
[ca]
default_ca = fixed_dates_ca
[fixed_dates_ca]
database = $TMP/index.txt
new_certs_dir = $TMP
serial = $TMP/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[policy_any]
commonName = supplied
EOF
: >"$TMP/index.txt"
echo 01 >"$TMP/serial"
export OPENSSL_CONF="$TMP/openssl.cnf"

out() { printf '%s/%s' "$CERTS_DIR" "$1"; }

ec_key() { openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$(out "$1")"; }
rsa_key() { openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$(out "$1")"; }
serial() { printf '0x%s' "$(openssl rand -hex 16)"; }

# self_signed NAME CN EXTENSIONS: a self-signed certificate NAME.pem for NAME.key.
self_signed() {
    openssl req -new -x509 -config "$OPENSSL_CONF" -key "$(out "$1.key")" -subj "/CN=$2" \
        -sha256 -days "$DAYS" -set_serial "$(serial)" -extensions "$3" -out "$(out "$1.pem")"
}

# csr NAME CN: a certificate request for NAME.key in the temporary directory.
csr() {
    openssl req -new -config "$OPENSSL_CONF" -key "$(out "$1.key")" -subj "/CN=$2" \
        -out "$TMP/$1.csr"
}

# signed NAME CN EXTENSIONS ISSUER: NAME.pem signed by ISSUER.pem / ISSUER.key.
signed() {
    csr "$1" "$2"
    openssl x509 -req -in "$TMP/$1.csr" -CA "$(out "$4.pem")" -CAkey "$(out "$4.key")" \
        -set_serial "$(serial)" -sha256 -days "$DAYS" \
        -extfile "$OPENSSL_CONF" -extensions "$3" -out "$(out "$1.pem")"
}

# fixed_dates NAME CN EXTENSIONS START END: NAME.pem signed by the root with fixed dates.
fixed_dates() {
    csr "$1" "$2"
    openssl ca -batch -config "$OPENSSL_CONF" -notext -rand_serial \
        -cert "$(out ca.pem)" -keyfile "$(out ca.key)" \
        -startdate "$4" -enddate "$5" \
        -extfile "$OPENSSL_CONF" -extensions "$3" \
        -in "$TMP/$1.csr" -out "$(out "$1.pem")" 2>"$TMP/ca.log" || {
        cat "$TMP/ca.log" >&2
        return 1
    }
}

# Roots.
ec_key ca.key
self_signed ca "tlshake Test Root CA" root_ca
ec_key rogue-ca.key
self_signed rogue-ca "tlshake Rogue CA" root_ca

# Intermediate and the leaf below it.
ec_key intermediate-ca.key
signed intermediate-ca "tlshake Test Intermediate CA" intermediate_ca ca
ec_key server-via-intermediate.key
signed server-via-intermediate localhost server_ec intermediate-ca
cat "$(out server-via-intermediate.pem)" "$(out intermediate-ca.pem)" \
    >"$(out server-via-intermediate-chain.pem)"

# Leaves signed by the root.
ec_key server.key
signed server localhost server_ec ca
rsa_key server-rsa.key
signed server-rsa localhost server_rsa ca
ec_key client.key
signed client "tlshake test client" client ca
ec_key other-host.key
signed other-host other.example other_host ca
ec_key wildcard.key
signed wildcard "*.tlshake.test" wildcard ca

# Leaves with fixed validity dates.
ec_key expired.key
fixed_dates expired localhost server_ec 20200101000000Z 20200102000000Z
ec_key not-yet-valid.key
fixed_dates not-yet-valid localhost server_ec 20990101000000Z 21000101000000Z

# A self-signed leaf, and a leaf from a root nobody trusts.
ec_key self-signed.key
self_signed self-signed localhost self_signed
ec_key rogue-server.key
signed rogue-server localhost server_ec rogue-ca

# Other encodings.
openssl pkcs8 -topk8 -in "$(out client.key)" -v2 aes-256-cbc -passout "pass:$PASS" \
    -out "$(out client-encrypted.key)"
openssl pkcs12 -export -in "$(out server.pem)" -inkey "$(out server.key)" \
    -certfile "$(out ca.pem)" -name localhost -passout "pass:$PASS" \
    -certpbe AES-256-CBC -keypbe AES-256-CBC -macalg sha256 -out "$(out server.p12)"

chmod 644 "$CERTS_DIR"/*.pem "$CERTS_DIR"/*.key "$CERTS_DIR"/server.p12
echo "certificates written to $CERTS_DIR"
