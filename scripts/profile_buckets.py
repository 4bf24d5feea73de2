#!/usr/bin/env python3
"""Sums `perf report --no-children --sort dso,sym --stdio -g none` lines into buckets of
what a TLS 1.3 handshake spends CPU on, and prints a markdown table: each bucket's share of
the samples and whether a wrapper around libssl can reach it. Used by scripts/profile.sh."""
import re
import sys

# (bucket, what a wrapper can do about it, pattern on the symbol); first match wins.
BUCKETS = [
    ("key exchange: X25519, ML-KEM (and their SHA-3)",
     "the group list only (X25519 alone is an explicit opt-out of post-quantum)",
     r"x25519|X25519|curve25519|fe51|fe64|\bfe_|ntt|matrix_expand|encrypt_cpa|decap|encap|\bcmov|scalar_mult|\bge_|table_select|cbd_|encode_pubkey|parse_pubkey|poly_|ml_kem|mlkem|ML_KEM|keccak|Keccak|sha3|SHA3|shake|ossl_ecx|ecx_"),
    ("ECDSA P-256 sign and verify, bignum",
     "no: the certificate's key decides",
     r"nistz256|p256|bin2bn|bn2bin|getrn|ecdsa|ECDSA|ec_|EC_|bn_|BN_|ossl_ec|ecp_|_bn|mul_mont|sqr_mont|ord_"),
    ("hashes, HMAC, HKDF, record AEAD",
     "no",
     r"sha256|SHA256|sha512|SHA512|sha1|SHA1|hmac|HMAC|kdf|KDF|hkdf|aes|AES|gcm|GCM|ghash|chacha|poly1305|EVP_Digest|EVP_MD|md_|digest|Digest|EVP_Cipher|cipher"),
    ("certificate and key decoding, chain check",
     "client: the verification cache skips the chain check on a hit; decoding the peer's certificate stays",
     r"d2i|i2d|asn1|ASN1|x509|X509|decoder|DECODER|pem|PEM|v2i|der_|DER_|ossl_pw|verify"),
    ("libcrypto bookkeeping: algorithm fetch, properties, params, locks, names",
     "partly: libssl fetches per handshake; a wrapper cannot cache inside it",
     r"ossl_method|fetch|ERR_|query_|pthread_getspecific|errno|ENGINE_|property|lib_ctx|OSSL_PARAM|ossl_param|params|OPENSSL_LH|lh_|strcmp|strcasecmp|strncmp|strlen|rwlock|CRYPTO_THREAD|namemap|evp_generic|ossl_provider|provider|CRYPTO_get_ex|ex_data|OPENSSL_sk|sk_|getpid|OPENSSL_init|ossl_rand|RAND|rand_|drbg|DRBG|CRYPTO_atomic|refcount|up_ref|_free\b|EVP_PKEY_CTX|evp_pkey|EVP_PKEY|evp_keymgmt|keymgmt|ossl_"),
    ("memory: malloc, free, cleanse, copies",
     "partly: buffer policy (SSL_free_buffers once idle), fewer allocations per connection",
     r"malloc|free|_int_|calloc|realloc|CRYPTO_zalloc|CRYPTO_malloc|CRYPTO_free|cleanse|memset|memcpy|memmove|memcmp|unlink_chunk|consolidate|tcache|brk|mmap"),
    ("libssl: the state machine, messages, record layer",
     "no",
     r"ssl|SSL|tls|TLS|statem|state_machine|WPACKET|PACKET|record|dtls"),
]

KERNEL = ("kernel: sockets, epoll, scheduling, page faults",
          "partly: syscalls per connection (serve: accept4 nonblocking, TCP_NODELAY from the listener, no ioctl pair)")
TLSHAKE = ("tlshake: engine, runners, serve and bench",
           "yes")
RUST = ("Rust: std, the openssl crate, allocation shims",
        "yes (what tlshake calls)")
OTHER = ("other (unnamed libcrypto addresses on the system 3.0, vdso, ...)", "-")

line_re = re.compile(r"^\s*([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)$")
totals = {}
others = []
order = [b[0] for b in BUCKETS] + [KERNEL[0], TLSHAKE[0], RUST[0], OTHER[0]]
reach = {b[0]: b[1] for b in BUCKETS}
reach.update({KERNEL[0]: KERNEL[1], TLSHAKE[0]: TLSHAKE[1], RUST[0]: RUST[1], OTHER[0]: OTHER[1]})
compiled = [(b[0], re.compile(b[2])) for b in BUCKETS]
for line in sys.stdin:
    m = line_re.match(line)
    if not m:
        continue
    share, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
    if kind == "k":
        bucket = KERNEL[0]
    elif "tlshake::" in sym:
        bucket = TLSHAKE[0]
    elif sym.startswith("0x"):
        bucket = OTHER[0]
    else:
        bucket = next((name for name, rx in compiled if rx.search(sym)), None)
        if bucket is None:
            bucket = RUST[0] if ("::" in sym or sym.startswith("_ZN") or "rust" in sym) else OTHER[0]
        if bucket == BUCKETS[6][0] and dso.startswith("libcrypto"):
            bucket = OTHER[0]
    totals[bucket] = totals.get(bucket, 0.0) + share
    if bucket == OTHER[0]:
        others.append((share, dso, sym))

print()
print("| where | share of CPU | a wrapper can reach it |")
print("|---|---|---|")
for name in sorted(order, key=lambda n: -totals.get(n, 0.0)):
    if totals.get(name, 0.0) >= 0.05:
        print("| {} | {:.1f}% | {} |".format(name, totals[name], reach[name]))

# PROFILE_OTHERS=1: the largest samples left in "other", to refine the buckets.
if __import__("os").environ.get("PROFILE_OTHERS"):
    for share, dso, sym in sorted(others, reverse=True)[:25]:
        print(f"{share:6.2f}% {dso} {sym}", file=sys.stderr)
