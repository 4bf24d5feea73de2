//! `tlshake demo`: a self-contained tour on loopback, with the certificates embedded in the
//! binary. Every section checks what it shows; the exit code says whether all behaved.

mod by_hash;
mod failures;
mod handshakes;
mod nagle;
mod peers;
mod resumption;
mod setup;
mod starttls;
mod timeline;
#[cfg(feature = "tokio")]
mod tokio_runner;

use std::time::Instant;

use openssl::ssl::SslContext;

use self::by_hash::by_hash;
use self::failures::{plaintext_peer, stall, untrusted_ca, wrong_name};
use self::handshakes::{blocking, memory_bios, nonblocking};
use self::nagle::nagle;
use self::resumption::resumed_reconnection;
use self::setup::{server_context, SectionResult};
use self::starttls::starttls;
use self::timeline::timeline;
#[cfg(feature = "tokio")]
use self::tokio_runner::tokio_runner;
use crate::report::{self, AnyError, Outcome};

/// One section of the demo: it gets the shared server context.
type Section = Box<dyn Fn(&SslContext) -> SectionResult>;

/// Runs the demo.
pub(crate) fn run() -> Outcome {
    let started = Instant::now();
    let ctx = match server_context() {
        Ok(ctx) => ctx,
        Err(e) => {
            report::fail("tlshake demo: cannot build the server context", &*e);
            return Outcome::Failed;
        }
    };
    #[allow(unused_mut)]
    let mut sections: Vec<(&str, Section)> = vec![
        ("blocking handshake", Box::new(blocking)),
        (
            "nonblocking handshake (readiness loop)",
            Box::new(nonblocking),
        ),
        ("memory BIOs (sans-IO, no socket)", Box::new(memory_bios)),
        ("STARTTLS (SMTP dialogue, then TLS)", Box::new(starttls)),
        (
            "resumed reconnection (session ticket)",
            Box::new(resumed_reconnection),
        ),
        ("handshake timeline (--trace)", Box::new(timeline)),
        (
            "server certificate chosen by hash",
            Box::new(|_: &SslContext| by_hash()),
        ),
        ("failure: wrong host name", Box::new(wrong_name)),
        ("failure: untrusted CA", Box::new(untrusted_ca)),
        (
            "failure: plaintext peer",
            Box::new(|_: &SslContext| plaintext_peer()),
        ),
        (
            "failure: peer stalls past a 300 ms deadline",
            Box::new(|_: &SslContext| stall()),
        ),
        ("Nagle and the first response", Box::new(nagle)),
    ];
    // Built with the feature `tokio`: the async runner beside the blocking ones.
    #[cfg(feature = "tokio")]
    sections.insert(
        3,
        (
            "async handshake and STARTTLS (tokio)",
            Box::new(tokio_runner),
        ),
    );
    let mut failed = Vec::new();
    for (i, (title, section)) in sections.iter().enumerate() {
        println!("== {}. {title}", i + 1);
        match section(&ctx) {
            Ok(text) => {
                for line in text.lines() {
                    println!("   {line}");
                }
                println!("   -> as expected");
            }
            Err(e) => {
                for line in report::chain(&*e).lines() {
                    println!("   {line}");
                }
                println!("   -> NOT as expected");
                failed.push(*title);
            }
        }
        println!();
    }
    println!("demo finished in {:.2} s", started.elapsed().as_secs_f64());
    if failed.is_empty() {
        println!("every section behaved as expected");
        Outcome::Done
    } else {
        let sections = AnyError::from(failed.join("; "));
        report::fail("tlshake demo: not as expected", &*sections);
        Outcome::Failed
    }
}
