//! Handshake throughput on loopback: tlshake, the plain `openssl` crate and rustls (ring) in
//! the same run. Full TLS 1.3 and 1.2 handshakes with ECDSA P-256 and RSA-2048 certificates,
//! resumed TLS 1.3 handshakes, and 1 and 2 client threads against as many server threads.
//! The time of one iteration is the wall time of one handshake (all threads together).
//!
//! `cargo bench --bench handshake`. The plain crate has no resumed case: offering a saved
//! session needs `unsafe` `SslRef::set_session`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod perf_support;
use perf_support::{pair, run, Case, Impl};

const IMPLS: [Impl; 3] = [Impl::Tlshake, Impl::OpensslCrate, Impl::Rustls];

fn bench_case(c: &mut Criterion, case: Case, threads: usize) {
    let mut group = c.benchmark_group(format!("handshake/{}/{}x{}", case.name(), threads, threads));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(1));
    for imp in IMPLS {
        if case.resume && imp == Impl::OpensslCrate {
            continue;
        }
        let (client, server) = pair(imp, case);
        group.bench_function(imp.name(), |b| {
            b.iter_custom(|iters| {
                let n = usize::try_from(iters).unwrap_or(usize::MAX).max(threads);
                let wall = run(&client, &server, n, threads);
                wall.mul_f64(iters as f64 / n as f64)
            })
        });
    }
    group.finish();
}

fn handshakes(c: &mut Criterion) {
    let full = |tls13, rsa| Case {
        tls13,
        rsa,
        resume: false,
    };
    bench_case(c, full(true, false), 1);
    bench_case(c, full(true, false), 2);
    bench_case(c, full(false, false), 1);
    bench_case(c, full(true, true), 1);
    bench_case(c, full(false, true), 1);
    bench_case(
        c,
        Case {
            tls13: true,
            rsa: false,
            resume: true,
        },
        1,
    );
}

criterion_group!(benches, handshakes);
criterion_main!(benches);
