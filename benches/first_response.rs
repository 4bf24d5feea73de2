//! First response after a TLS 1.3 handshake: one 100-byte request and 100-byte reply on a
//! fresh connection, timed from the request's write to the reply's last byte. The tlshake
//! client runs each [`NodelayPolicy`] against a tlshake server at its default policy;
//! `nagle-both` leaves Nagle on at both ends; `openssl_crate` is the plain crate as its docs
//! show it (which also leaves Nagle on at both ends, and sends OpenSSL's two tickets);
//! `nagle-both-2-tickets` is `nagle-both` with a tlshake server sending two tickets.
//!
//! `cargo bench --bench first_response`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use tlshake::NodelayPolicy;

mod perf_support;
use perf_support::{first_response_openssl, first_response_tlshake};

fn total(times: Vec<Duration>) -> Duration {
    times.into_iter().sum()
}

fn first_response(c: &mut Criterion) {
    let mut group = c.benchmark_group("first_response/tls13-p256");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    let server = NodelayPolicy::default();
    for policy in [
        NodelayPolicy::Always,
        NodelayPolicy::AfterHandshake,
        NodelayPolicy::Leave,
    ] {
        group.bench_function(policy.name(), |b| {
            b.iter_custom(|iters| {
                total(first_response_tlshake(iters as usize, policy, server, None))
            })
        });
    }
    group.bench_function("nagle-both", |b| {
        b.iter_custom(|iters| {
            total(first_response_tlshake(
                iters as usize,
                NodelayPolicy::Leave,
                NodelayPolicy::Leave,
                None,
            ))
        })
    });
    // OpenSSL's default of two TLS 1.3 tickets: the second ticket's record waits behind
    // Nagle for the ACK of the first, and the reply waits behind it.
    group.bench_function("nagle-both-2-tickets", |b| {
        b.iter_custom(|iters| {
            total(first_response_tlshake(
                iters as usize,
                NodelayPolicy::Leave,
                NodelayPolicy::Leave,
                Some(2),
            ))
        })
    });
    group.bench_function("openssl_crate", |b| {
        b.iter_custom(|iters| total(first_response_openssl(iters as usize)))
    });
    group.finish();
}

criterion_group!(benches, first_response);
criterion_main!(benches);
