//! The client's certificate-verification cache: chains that verified before, keyed by their
//! exact bytes and the verification parameters, skip `X509_verify_cert` for a bounded time.
//!
//! Only the chain check is cached. The TLS 1.3 CertificateVerify signature (the proof that the
//! peer holds the leaf's private key) and the TLS 1.2 key exchange signature are checked by
//! libssl on every handshake, after this cache is consulted. The OpenSSL side (the callback
//! installed with `SSL_CTX_set_cert_verify_callback`) is in `crate::sys::verify_cache`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use openssl::asn1::Asn1Time;
use openssl::sha::Sha256;
use openssl::stack::StackRef;
use openssl::x509::{X509Ref, X509};

/// The cache key: SHA-256 over the chain and the verification parameters.
pub(crate) type CacheKey = [u8; 32];

/// How many verified chains one configuration remembers; the oldest is evicted first.
pub(crate) const CAPACITY: usize = 1024;

/// The default lifetime of an entry (it also ends at the earliest notAfter of its chain).
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(3600);

#[derive(Debug)]
struct Entry {
    inserted: Instant,
    /// The earliest notAfter of the verified chain, in seconds since the Unix epoch.
    not_after_unix: i64,
    /// The chain `X509_verify_cert` built (leaf first, trust anchor last), handed to OpenSSL
    /// again on a hit so that `SSL_get0_verified_chain` is the same as on a miss.
    chain: Vec<X509>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<CacheKey, Entry>,
    /// Insertion order; every key of `map` is in it.
    order: VecDeque<CacheKey>,
}

/// Verified chains of one `ClientConfig` (thread-safe, bounded).
#[derive(Debug)]
pub(crate) struct VerifyCache {
    entries: Mutex<Entries>,
    ttl: Duration,
    /// The address of the `X509_STORE` the configuration's context verifies against; a
    /// connection verifying against another store (set per connection) is never cached.
    store_addr: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl VerifyCache {
    /// An empty cache whose entries live at most `ttl`.
    pub(crate) fn new(ttl: Duration, store_addr: usize) -> VerifyCache {
        VerifyCache {
            entries: Mutex::new(Entries::default()),
            ttl,
            store_addr,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The store address given at construction.
    pub(crate) fn store_addr(&self) -> usize {
        self.store_addr
    }

    /// The verified chain of `key`, when it names a chain that verified and whose entry is
    /// still valid now. Counts a hit or a miss; an expired entry is removed.
    pub(crate) fn lookup(&self, key: &CacheKey) -> Option<Vec<X509>> {
        let hit = self.entries.lock().ok().and_then(|mut entries| {
            let valid = entries
                .map
                .get(key)
                .map(|e| e.inserted.elapsed() < self.ttl && unix_now() < e.not_after_unix);
            if valid == Some(false) {
                entries.map.remove(key);
            }
            entries
                .map
                .get(key)
                .filter(|_| valid == Some(true))
                .map(|e| e.chain.clone())
        });
        let counter = if hit.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        hit
    }

    /// Counts a verification that could not use the cache at all.
    pub(crate) fn count_miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Remembers a chain that verified, until `not_after_unix` or the TTL, whichever is first.
    pub(crate) fn insert(&self, key: CacheKey, not_after_unix: i64, chain: Vec<X509>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let entry = Entry {
            inserted: Instant::now(),
            not_after_unix,
            chain,
        };
        if let Some(old) = entries.map.get_mut(&key) {
            *old = entry;
            return;
        }
        while entries.order.len() >= CAPACITY {
            if let Some(oldest) = entries.order.pop_front() {
                entries.map.remove(&oldest);
            }
        }
        entries.order.push_back(key);
        entries.map.insert(key, entry);
    }

    /// `(hits, misses)` so far.
    pub(crate) fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// How many entries are held (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().map(|e| e.map.len()).unwrap_or(0)
    }
}

/// The key of a verification: the DER of the leaf and of every untrusted certificate the peer
/// sent, in order, each length-prefixed, then the serialized verification parameters.
pub(crate) fn chain_key(
    leaf: &X509Ref,
    untrusted: Option<&StackRef<X509>>,
    params: &[u8],
) -> Option<CacheKey> {
    let mut hasher = Sha256::new();
    let mut add = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    add(&leaf.to_der().ok()?);
    for cert in untrusted.into_iter().flatten() {
        add(&cert.to_der().ok()?);
    }
    add(params);
    Some(hasher.finish())
}

/// The earliest notAfter of `chain`, in seconds since the Unix epoch.
pub(crate) fn earliest_not_after<'a>(chain: impl IntoIterator<Item = &'a X509Ref>) -> Option<i64> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let mut earliest: Option<i64> = None;
    for cert in chain {
        let diff = epoch.diff(cert.not_after()).ok()?;
        let secs = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
        earliest = Some(earliest.map_or(secs, |e| e.min(secs)));
    }
    earliest
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u16) -> CacheKey {
        let mut k = [0u8; 32];
        k[..2].copy_from_slice(&n.to_be_bytes());
        k
    }

    #[test]
    fn hits_only_valid_entries_and_counts() {
        let cache = VerifyCache::new(DEFAULT_TTL, 0);
        assert!(cache.lookup(&key(1)).is_none());
        cache.insert(key(1), unix_now() + 100, Vec::new());
        assert!(cache.lookup(&key(1)).is_some());
        cache.insert(key(2), unix_now() - 1, Vec::new());
        assert!(
            cache.lookup(&key(2)).is_none(),
            "an expired certificate is never a hit"
        );
        assert_eq!(cache.stats(), (1, 2));
        assert_eq!(cache.len(), 1, "the expired entry is removed");
    }

    #[test]
    fn zero_ttl_never_hits() {
        let cache = VerifyCache::new(Duration::ZERO, 0);
        cache.insert(key(1), unix_now() + 100, Vec::new());
        assert!(cache.lookup(&key(1)).is_none());
    }

    #[test]
    fn evicts_the_oldest_beyond_capacity() {
        let cache = VerifyCache::new(DEFAULT_TTL, 0);
        for n in 0..=CAPACITY as u16 {
            cache.insert(key(n), unix_now() + 100, Vec::new());
        }
        assert_eq!(cache.len(), CAPACITY);
        assert!(cache.lookup(&key(0)).is_none());
        assert!(cache.lookup(&key(1)).is_some());
        assert!(cache.lookup(&key(CAPACITY as u16)).is_some());
    }

    #[test]
    fn key_depends_on_chain_and_params() {
        let ca = X509::from_pem(crate::bundled::CA_PEM.as_bytes()).unwrap();
        let a = chain_key(&ca, None, b"host:localhost").unwrap();
        assert_eq!(a, chain_key(&ca, None, b"host:localhost").unwrap());
        assert_ne!(a, chain_key(&ca, None, b"host:127.0.0.1").unwrap());
        let earliest = earliest_not_after([ca.as_ref()]).unwrap();
        assert!(earliest > unix_now());
    }
}
