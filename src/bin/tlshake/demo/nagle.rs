//! Nagle and the first response: TCP_NODELAY on both ends against Nagle left on.

use std::io::{Read, Write};
use std::time::Instant;

use openssl::ssl::SslContext;
use tlshake::client::{self, ClientConfig};
use tlshake::NodelayPolicy;

use crate::bundled;

use super::peers::tls_peer;
use super::setup::{url, SectionResult, NAGLE_BYTES, NAGLE_ROUNDS, PEER_TIMEOUT};
use crate::report::{percentile, AnyError, Failure};

/// p50 of the first-response latency, in ms, over `NAGLE_ROUNDS` fresh TLS 1.3 connections.
fn first_response_p50(ctx: &SslContext, nodelay: bool) -> Result<f64, AnyError> {
    let policy = if nodelay {
        NodelayPolicy::Always
    } else {
        NodelayPolicy::Leave
    };
    let addr = tls_peer(ctx, NAGLE_ROUNDS, policy)?;
    let config = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .protocols(tlshake::ProtocolSet::TLS1_3)
        .nodelay(policy)
        .build()?;
    let url = url(addr)?;
    let mut samples = Vec::with_capacity(NAGLE_ROUNDS);
    for _ in 0..NAGLE_ROUNDS {
        let mut conn = client::connect(&url, &config)?;
        let _ = conn.stream.get_ref().set_read_timeout(Some(PEER_TIMEOUT));
        let request = [b'x'; NAGLE_BYTES];
        let mut response = [0u8; NAGLE_BYTES];
        let t0 = Instant::now();
        conn.stream
            .write_all(&request)
            .and_then(|()| conn.stream.read_exact(&mut response))
            .map_err(|e| Failure::because("request/response failed", e))?;
        samples.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    Ok(percentile(&samples, 50.0))
}

pub(super) fn nagle(ctx: &SslContext) -> SectionResult {
    let on = first_response_p50(ctx, true)?;
    let off = first_response_p50(ctx, false)?;
    Ok(format!(
        "{NAGLE_BYTES}-byte request and response right after a TLS 1.3 handshake, \
         {NAGLE_ROUNDS} connections each\n\
         TCP_NODELAY on both ends (NodelayPolicy::Always): p50 {on:.3} ms\n\
         Nagle left on on both ends (NodelayPolicy::Leave):  p50 {off:.3} ms\n\
         {}",
        if off > on * 2.0 {
            format!(
                "Nagle costs {:.1}x on the first response",
                off / on.max(1e-3)
            )
        } else {
            String::from("no Nagle stall measured on this loopback (timing depends on the kernel)")
        }
    ))
}
