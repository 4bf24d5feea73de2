//! `tlshake bench --concurrency C`: C handshakes in flight from this thread against a
//! `tlshake serve` child, for each implementation ([`events`] runs them).

use openssl::ssl::{SslConnector, SslMethod, SslVersion};
use openssl::x509::X509;
use tlshake::client::ClientConfig;
use tlshake::ProtocolSet;
use tlshake::ProtocolVersion;

use crate::bundled;

use super::args::{BenchArgs, BenchKey};
use super::events;
use super::stats::{cpu_us, Run};
use crate::report::{AnyError, Failure};

/// C handshakes in flight from this thread against a `tlshake serve` child, in alternating
/// rounds; the CPU time is this process's plus the server's.
pub(super) fn runs(
    a: &BenchArgs,
    version: ProtocolVersion,
    n: usize,
    c: usize,
    rounds: usize,
) -> Result<(Run, Run), AnyError> {
    let _ = tlshake::raise_nofile_limit();
    // s_server reads the RSA pair from files, which live as long as this run.
    let files =
        bundled::CertsDir::write().map_err(|e| Failure::because("bundled certificates", e))?;
    let cert = match a.key {
        BenchKey::Ecdsa => None,
        BenchKey::Rsa => Some((
            files.path("server-rsa.pem").display().to_string(),
            files.path("server-rsa.key").display().to_string(),
        )),
    };
    let server = events::ServerChild::start(cert, version.cli_name())?;
    let mut builder = ClientConfig::builder()
        .ca_pem(bundled::CA_PEM.as_bytes())
        .peer_name("localhost")
        .protocols(ProtocolSet::of(version));
    if let Some(list) = &a.groups {
        builder = builder.groups(list);
    }
    let config = builder.build()?;
    let connector = plain_connector(version, a.groups.as_deref())?;
    let (mut t, mut o) = (Run::default(), Run::default());
    let measured = |run: &dyn Fn() -> Run| {
        let (cpu0, server0) = (cpu_us(), server.cpu_us());
        let mut r = run();
        r.cpu = cpu_us() - cpu0 + server.cpu_us() - server0;
        r
    };
    for r in 0..rounds {
        let chunk = n / rounds + usize::from(r < n % rounds);
        let c = c.min(chunk).max(1);
        t.merge(measured(&|| {
            events::tlshake(&config, server.addr, chunk, c)
        }));
        o.merge(measured(&|| {
            events::openssl(&connector, server.addr, chunk, c)
        }));
    }
    t.verify_cache = Some(config.verify_cache_stats());
    Ok((t, o))
}

fn plain_connector(
    v: ProtocolVersion,
    groups: Option<&str>,
) -> Result<SslConnector, openssl::error::ErrorStack> {
    let version = match v {
        ProtocolVersion::Tls1_2 => SslVersion::TLS1_2,
        _ => SslVersion::TLS1_3,
    };
    let mut cb = SslConnector::builder(SslMethod::tls())?;
    cb.cert_store_mut()
        .add_cert(X509::from_pem(bundled::CA_PEM.as_bytes())?)?;
    cb.set_min_proto_version(Some(version))?;
    cb.set_max_proto_version(Some(version))?;
    if let Some(list) = groups {
        cb.set_groups_list(list)?;
    }
    Ok(cb.build())
}
