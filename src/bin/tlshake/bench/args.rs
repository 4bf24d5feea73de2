//! The options of `tlshake bench`.

use clap::{Args, ValueEnum};

/// Protocol version of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchProto {
    /// TLS 1.2.
    #[value(name = "tls1.2")]
    Tls12,
    /// TLS 1.3.
    #[value(name = "tls1.3")]
    Tls13,
}

/// Server key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchKey {
    /// ECDSA P-256 (the bundled server certificate).
    Ecdsa,
    /// RSA (the bundled RSA server certificate).
    Rsa,
}

/// How the handshakes of the comparison wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchRuntime {
    /// The crate's own runners: the epoll engine (--concurrency) or blocking threads
    /// (--threads).
    Native,
    /// tokio: tlshake on tokio (a ClientConfig through upgrade_async, a ServerConfig's
    /// context through AsyncHandshake) against the plain crate through tokio-openssl, client
    /// and server each on a current_thread runtime of its own thread (needs a tlshake built
    /// with `--features bench-tokio`).
    Tokio,
}

/// Options of `tlshake bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Full handshakes per implementation.
    #[arg(long, value_name = "N", default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..))]
    pub(super) handshakes: u32,
    /// Handshakes in flight at once, all from one client thread (tlshake through its engine,
    /// the plain crate through `MidHandshakeSslStream` and poll), against a `tlshake serve`
    /// child process.
    #[arg(long, value_name = "C", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(super) concurrency: u32,
    /// Instead of --concurrency: T blocking client threads against T server threads, both
    /// in this process.
    #[arg(long, value_name = "T", conflicts_with = "concurrency", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub(super) threads: Option<u32>,
    /// How the handshakes wait. With `tokio`, --concurrency handshakes are in flight on the
    /// client's runtime and --groups applies to both implementations' client context.
    #[arg(long, value_name = "RT", default_value = "native", conflicts_with_all = ["threads", "first_response", "connect"])]
    pub(super) runtime: BenchRuntime,
    /// Protocol version.
    #[arg(long, value_name = "V", default_value = "tls1.3")]
    pub(super) proto: BenchProto,
    /// Server key type.
    #[arg(long, value_name = "KIND", default_value = "ecdsa")]
    pub(super) key: BenchKey,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub(super) json: bool,
    /// Measure the first 100-byte request and reply after a TLS 1.3 handshake, per
    /// TCP_NODELAY policy (`always`, `after`, `leave`, and `nagle-both`: Nagle on at both
    /// ends), instead of handshake throughput.
    #[arg(long)]
    pub(super) first_response: bool,
    /// Write an SVG histogram of the handshake latencies of both implementations.
    #[arg(long, value_name = "FILE.svg")]
    pub(super) plot: Option<std::path::PathBuf>,
    /// Key-exchange groups both implementations' clients offer (an OpenSSL list such as
    /// `X25519`; default: OpenSSL's), so that the comparison stays like for like. On
    /// OpenSSL 3.5 and newer the default leads with the post-quantum hybrid X25519MLKEM768:
    /// `X25519` alone is faster and gives that up.
    #[arg(long, value_name = "LIST")]
    pub(super) groups: Option<String>,
    /// Load-generate against this server (`tls://host:port`) instead of comparing the two
    /// implementations on loopback: --concurrency handshakes in flight from one thread,
    /// until --handshakes or --duration.
    #[arg(long, value_name = "URL", conflicts_with_all = ["threads", "first_response", "plot"])]
    pub(super) connect: Option<String>,
    /// With --connect: run this many seconds instead of --handshakes.
    #[arg(long, value_name = "SECS", requires = "connect")]
    pub(super) duration: Option<f64>,
    /// With --connect: seconds one handshake may take (connect included).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub(super) timeout: f64,
    /// With --connect: trusted CAs, PEM (default: the system's).
    #[arg(long, value_name = "FILE", requires = "connect")]
    pub(super) cafile: Option<std::path::PathBuf>,
    /// With --connect: the name sent as SNI and verified (default: the URL's host).
    #[arg(long, value_name = "NAME", requires = "connect")]
    pub(super) servername: Option<String>,
    /// With --connect: do not verify the server's certificate.
    #[arg(long, requires = "connect")]
    pub(super) insecure: bool,
    /// Connections per policy with `--first-response`.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub(super) iterations: u32,
    /// DTLS 1.2 client handshakes over UDP, one at a time, tlshake against the plain crate,
    /// both against one tlshake DTLS listener in this process.
    #[arg(long, conflicts_with_all = ["threads", "first_response", "connect", "runtime", "proto", "key", "concurrency", "groups", "plot"])]
    pub(super) dtls: bool,
}
