//! The stateless cookie of the DTLS server: an HMAC of the client's address under a secret
//! that rotates (RFC 6347 section 4.2.1).

use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use openssl::ssl::{Ssl, SslContextBuilder, SslRef};

/// Bytes of a cookie: a truncated HMAC-SHA256, ample against guessing within a secret's life.
const COOKIE_LEN: usize = 16;
/// Bytes of a secret.
const SECRET_LEN: usize = 32;

/// The secrets cookies are made and checked with: the current one, and the one before it,
/// so that a client whose cookie was made just before a rotation still gets in.
#[derive(Debug)]
pub(crate) struct CookieSecret {
    inner: Mutex<Secrets>,
}

#[derive(Debug)]
struct Secrets {
    current: [u8; SECRET_LEN],
    previous: Option<[u8; SECRET_LEN]>,
    rotated_at: Instant,
    period: Duration,
    rotations: u64,
}

impl CookieSecret {
    /// A random secret made at `now`, rotated every `period`.
    pub(crate) fn new(now: Instant, period: Duration) -> Result<CookieSecret, ErrorStack> {
        Ok(CookieSecret {
            inner: Mutex::new(Secrets {
                current: random()?,
                previous: None,
                rotated_at: now,
                period,
                rotations: 0,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Secrets> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the next rotation is due.
    pub(crate) fn next_rotation(&self) -> Instant {
        let s = self.lock();
        s.rotated_at + s.period
    }

    /// Rotates now: the current secret becomes the previous one, a new one is drawn.
    pub(crate) fn rotate(&self, now: Instant) -> Result<(), ErrorStack> {
        let fresh = random()?;
        let mut s = self.lock();
        s.previous = Some(s.current);
        s.current = fresh;
        s.rotated_at = now;
        s.rotations += 1;
        Ok(())
    }

    /// Rotates when a rotation is due at `now`; true when it did.
    pub(crate) fn rotate_if_due(&self, now: Instant) -> Result<bool, ErrorStack> {
        if now < self.next_rotation() {
            return Ok(false);
        }
        self.rotate(now)?;
        Ok(true)
    }

    /// Rotations so far.
    pub(crate) fn rotations(&self) -> u64 {
        self.lock().rotations
    }

    /// The cookie for `peer` under the current secret.
    pub(crate) fn cookie(&self, peer: SocketAddr) -> Result<[u8; COOKIE_LEN], ErrorStack> {
        let secret = self.lock().current;
        mac(&secret, peer)
    }

    /// True when `cookie` is `peer`'s under the current or the previous secret (compared in
    /// constant time).
    pub(crate) fn verify(&self, peer: SocketAddr, cookie: &[u8]) -> bool {
        if cookie.len() != COOKIE_LEN {
            return false;
        }
        let (current, previous) = {
            let s = self.lock();
            (s.current, s.previous)
        };
        let matches = |secret: &[u8; SECRET_LEN]| {
            mac(secret, peer).is_ok_and(|expected| openssl::memcmp::eq(&expected, cookie))
        };
        matches(&current) || previous.as_ref().is_some_and(matches)
    }
}

fn random() -> Result<[u8; SECRET_LEN], ErrorStack> {
    let mut secret = [0u8; SECRET_LEN];
    openssl::rand::rand_bytes(&mut secret)?;
    Ok(secret)
}

/// HMAC-SHA256 of the address (IP bytes, then port) under `secret`, truncated.
fn mac(secret: &[u8; SECRET_LEN], peer: SocketAddr) -> Result<[u8; COOKIE_LEN], ErrorStack> {
    let key = PKey::hmac(secret)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
    match peer.ip() {
        std::net::IpAddr::V4(ip) => signer.update(&ip.octets())?,
        std::net::IpAddr::V6(ip) => signer.update(&ip.octets())?,
    }
    signer.update(&peer.port().to_be_bytes())?;
    let full = signer.sign_to_vec()?;
    let mut cookie = [0u8; COOKIE_LEN];
    cookie.copy_from_slice(full.get(..COOKIE_LEN).unwrap_or(&[0u8; COOKIE_LEN]));
    Ok(cookie)
}

/// What the cookie callbacks of one listening `Ssl` need: the listener's secret and the
/// address of the datagram being read. Lives in the `Ssl`'s ex_data.
#[derive(Debug)]
pub(crate) struct CookieJar {
    pub(crate) secret: std::sync::Arc<CookieSecret>,
    pub(crate) peer: Mutex<Option<SocketAddr>>,
}

fn jar_index() -> Result<Index<Ssl, CookieJar>, ErrorStack> {
    static INDEX: OnceLock<Index<Ssl, CookieJar>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index::<CookieJar>()?;
    Ok(*INDEX.get_or_init(|| index))
}

/// Gives `ssl` its jar.
pub(crate) fn set_jar(ssl: &mut SslRef, jar: CookieJar) -> Result<(), ErrorStack> {
    ssl.set_ex_data(jar_index()?, jar);
    Ok(())
}

/// The jar of `ssl`, if it has one.
pub(crate) fn jar(ssl: &SslRef) -> Option<&CookieJar> {
    ssl.ex_data(jar_index().ok()?)
}

/// Installs the cookie callbacks on a DTLS server context
/// ([`SSL_CTX_set_cookie_generate_cb(3)`](https://docs.openssl.org/3.0/man3/SSL_CTX_set_cookie_generate_cb/)):
/// the cookie of the current datagram's address, from the `Ssl`'s [`CookieJar`]. An `Ssl`
/// without a jar makes no cookie and accepts none.
pub(crate) fn install(b: &mut SslContextBuilder) {
    b.set_cookie_generate_cb(|ssl, out| {
        let jar = jar(ssl).ok_or_else(ErrorStack::get)?;
        let peer = (*jar.peer.lock().unwrap_or_else(PoisonError::into_inner))
            .ok_or_else(ErrorStack::get)?;
        let cookie = jar.secret.cookie(peer)?;
        let n = cookie.len().min(out.len());
        out.get_mut(..n)
            .ok_or_else(ErrorStack::get)?
            .copy_from_slice(cookie.get(..n).unwrap_or_default());
        Ok(n)
    });
    b.set_cookie_verify_cb(|ssl, cookie| {
        let Some(jar) = jar(ssl) else {
            return false;
        };
        let peer = *jar.peer.lock().unwrap_or_else(PoisonError::into_inner);
        peer.is_some_and(|peer| jar.secret.verify(peer, cookie))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_survives_one_rotation_not_two() {
        let t0 = Instant::now();
        let secret = CookieSecret::new(t0, Duration::from_secs(30)).unwrap();
        let peer: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let other: SocketAddr = "192.0.2.1:5001".parse().unwrap();
        let cookie = secret.cookie(peer).unwrap();
        assert!(secret.verify(peer, &cookie));
        assert!(!secret.verify(other, &cookie));
        assert!(!secret.verify(peer, &cookie[..8]));
        assert!(!secret.rotate_if_due(t0 + Duration::from_secs(29)).unwrap());
        assert!(secret.rotate_if_due(t0 + Duration::from_secs(30)).unwrap());
        assert!(
            secret.verify(peer, &cookie),
            "the previous secret still verifies"
        );
        assert_ne!(secret.cookie(peer).unwrap(), cookie);
        secret.rotate(t0 + Duration::from_secs(60)).unwrap();
        assert!(
            !secret.verify(peer, &cookie),
            "two rotations later it does not"
        );
        assert_eq!(secret.rotations(), 2);
    }
}
