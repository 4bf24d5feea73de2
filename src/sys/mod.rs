//! The only module with `unsafe`: direct calls into `libssl` through `openssl-sys`, and the
//! callbacks `libssl` calls back.
//!
//! The `openssl` crate wraps `SSL_connect` and friends but keeps only `SSL_get_error`,
//! dropping the raw return value that tells a controlled shutdown (0) from a fatal error
//! (< 0). tlshake calls the functions itself, here, and nowhere else.
//!
//! The contract: every item is a safe `pub(crate)` function over `openssl` crate types
//! (`SslStream`, `SslRef`, `SslContextBuilder`, `SslSessionRef`), so the rest of the crate
//! never sees a raw pointer. This module sits below the client and the server and imports
//! neither: what a callback needs from them is passed in (the
//! [`CertificateRequestHook`] type parameter) or lives below this module
//! (`crate::verify_cache`, `crate::trace`). Every `unsafe` block says why it is sound in a
//! `// SAFETY:` comment.
//!
//! | file | concern |
//! |---|---|
//! | `ssl.rs` | the handshake calls, `SSL_get_error`, the error queue, the protocol range, the verified host (`SSL_get0_param`), record buffers, write modes, the CertificateRequest callback, detaching an `SSL` from its stream |
//! | `facts.rs` | what a handshake negotiated: the group (`SSL_get0_group_name`), the peer's signature (`SSL_get_peer_signature_type_nid`), a key's type and group |
//! | `session.rs` | `SSL_set_session`, `SSL_SESSION_is_resumable` |
//! | `verify_cache.rs` | the cert-verify callback of the verification cache, the seal of a connection's parameters |
//! | `verify_param.rs` | verification settings the `openssl` crate does not bind: trust, policies, DANE, 4.0's extra IPs and e-mails |
//! | `trace.rs` | the message callback of the handshake timeline |
//! | `dtls.rs` | DTLS: the retransmission timer (`DTLS_set_timer_cb`, `DTLSv1_get_timeout`, `DTLSv1_handle_timeout`), `DTLSv1_listen` |
//! | `accept.rs` | `accept4(2)` with `SOCK_NONBLOCK`: a nonblocking connection in one call |
//! | `ech.rs` | Encrypted Client Hello (OpenSSL 4.0 built with ECH only): the stores, outer name and ALPN, GREASE, the status and retry configurations |

#![allow(unsafe_code)]

mod accept;
pub(crate) mod dtls;
#[cfg(all(ossl400, not(ossl_no_ech)))]
pub(crate) mod ech;
mod facts;
mod session;
mod ssl;
mod trace;
mod verify_cache;
#[cfg(feature = "harness")]
mod verify_param;

pub(crate) use accept::accept_nonblocking;
pub(crate) use facts::{key_group_name, key_type_name, negotiated_group, peer_signature};
pub(crate) use session::{
    session_is_resumable, set_decoded_session, set_session_from_same_context,
};
pub(crate) use ssl::{
    clear_error_queue, error_string, free_idle_buffers, note_certificate_requests,
    proto_version_range, server_sent_ca_names, ssl_accept, ssl_connect, ssl_do_handshake,
    ssl_get_error, ssl_mut, verified_host, CertificateRequestHook,
};
#[cfg(feature = "tokio")]
pub(crate) use ssl::{detach_ssl, set_async_write_modes};
pub(crate) use trace::install_trace;
pub(crate) use verify_cache::{install_verify_cache, seal, unseal};
#[cfg(all(feature = "harness", ossl400))]
pub(crate) use verify_param::{add_ip, add_rfc822};
#[cfg(feature = "harness")]
pub(crate) use verify_param::{dane_enable_context, dane_tlsa, set_policies, set_trust};
