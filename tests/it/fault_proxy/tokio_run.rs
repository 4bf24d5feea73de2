//! One fault case through the tokio runner: the same proxy, peer, `Ssl` and deadline as the
//! blocking [`run_case`](super::run_case), the handshake awaited on a `current_thread`
//! runtime (`tlshake::tokio::handshake` / `AsyncHandshake::server`), the application data
//! through `AsyncRead` / `AsyncWrite`.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use openssl::ssl::Ssl;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

use tlshake::harness::OpensslClient;
use tlshake::tokio::{AsyncHandshake, AsyncTlsStream};
use tlshake::HandshakeError;

use super::proxy::{self, Chunk, Fault, Proxy};
use super::{accept_within, common, judge, Bench, Case, Ours, Ran, Recording, Verdict};

/// Runs `case` through the tokio runner, with `allowed` from the handshake's start;
/// `check_data` asks for application data both ways after a `Done`. Returns the traffic the
/// proxy read beside the result.
pub fn run_case(
    rt: &Runtime,
    bench: &mut Bench,
    case: Case,
    allowed: Duration,
    check_data: bool,
) -> (Ran, Vec<Chunk>) {
    let scn = case.scn;
    match scn.ours {
        Ours::Client => {
            let upstream = bench.s_server(scn.version);
            let proxy = Proxy::start(upstream, case.dir, case.fault);
            let ssl = common::client_ssl(&bench.client_ctx, "localhost");
            let ran = rt.block_on(async {
                let tcp = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
                let start = Instant::now();
                let result =
                    tlshake::tokio::handshake(ssl, tcp, std::time::Instant::now() + allowed).await;
                let took = start.elapsed();
                let mut ran = ran(took, allowed);
                match result {
                    Ok(mut stream) if check_data => {
                        // s_server -rev answers every line reversed.
                        ran.data_ok = Some(
                            stream.write_all(b"ping\n").await.is_ok()
                                && read_until(&mut stream, b"gnip").await,
                        );
                    }
                    Ok(_) => {}
                    Err(e) => ran.fail(e),
                }
                ran
            });
            (ran, proxy.finish())
        }
        Ours::Server => {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.set_nonblocking(true).unwrap();
            let proxy = Proxy::start(listener.local_addr().unwrap(), case.dir, case.fault);
            let mut builder = OpensslClient::builder(proxy.addr())
                .servername("localhost")
                .ca_file(crate::common::cert("ca.pem"))
                .verify_return_error()
                .version(scn.version)
                .keep_stdin_open();
            if check_data {
                builder = builder.send(b"ping\n".to_vec());
            }
            let client = builder.spawn().expect("s_client");
            let tcp = accept_within(&listener, Duration::from_secs(10));
            let ssl = Ssl::new(&bench.server_ctx).unwrap();
            let ran = rt.block_on(async {
                let tcp = tokio::net::TcpStream::from_std(tcp).unwrap();
                let start = Instant::now();
                let hs =
                    AsyncHandshake::server(ssl, tcp, Some(std::time::Instant::now() + allowed))
                        .unwrap();
                let result = hs.await;
                let took = start.elapsed();
                let mut ran = ran(took, allowed);
                match result {
                    Ok(mut stream) if check_data => {
                        let ok = read_until(&mut stream, b"ping\n").await
                            && stream.write_all(b"pong\n").await.is_ok();
                        ran.data_ok =
                            Some(ok && client.wait_for_output("pong", Duration::from_secs(3)));
                    }
                    Ok(_) => {}
                    Err(e) => ran.fail(e),
                }
                ran
            });
            drop(client);
            (ran, proxy.finish())
        }
    }
}

/// The `Ran` of a handshake done after `took` ([`Ran::fail`] when it failed).
fn ran(took: Duration, allowed: Duration) -> Ran {
    Ran {
        result: Ok(()),
        took,
        allowed,
        data_ok: None,
        received: 0,
    }
}

impl Ran {
    fn fail(&mut self, e: HandshakeError) {
        self.received = e.bytes_received();
        self.result = Err(e);
    }
}

/// Reads until `want` appears, the stream ends or fails, or 3 s pass.
async fn read_until(stream: &mut AsyncTlsStream, want: &[u8]) -> bool {
    let reading = async {
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            if got.windows(want.len()).any(|w| w == want) {
                return true;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(3), reading)
        .await
        .unwrap_or(false)
}

/// The tokio run of `case` is judged by the same rules as the blocking run, and its verdict
/// (kind, `SSL_get_error` code, queue reasons, verify result, timeout, want, hint, data)
/// is the blocking run's. A flipped byte is the same fault in both runs only when it fell on
/// the same byte of the same record ([`proxy::landing`]); when the layout moved between the
/// two runs, the verdicts are not compared, and the tally says so.
pub fn agrees(
    case: &Case,
    rec: &Recording,
    blocking: (&Ran, &[Chunk]),
    tokio: (&Ran, &[Chunk]),
) -> Result<&'static str, String> {
    judge(case, rec, tokio.0).map_err(|why| format!("tokio runner: {why}"))?;
    if let Fault::Flip(k) = case.fault {
        if proxy::landing(blocking.1, case.dir, k) != proxy::landing(tokio.1, case.dir, k) {
            return Ok(" (the flip fell elsewhere in the tokio run: judged alone)");
        }
    }
    let (b, t) = (Verdict::of(blocking.0), Verdict::of(tokio.0));
    if b == t {
        Ok("")
    } else {
        Err(format!(
            "the tokio runner's verdict differs:\n  blocking {b:?}\n  tokio    {t:?}"
        ))
    }
}
