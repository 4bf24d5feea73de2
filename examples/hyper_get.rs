//! An HTTPS GET with hyper 1.x over a tlshake async stream (feature `tokio`): the
//! handshake is `client::connect_async` (resolution, connect and handshake under one
//! deadline), the stream goes to hyper through hyper-util's `TokioIo`, and the request is
//! `hyper::client::conn::http1`'s.
//!
//! ```text
//! tlshake serve --port 4433 --reply http
//! cargo run --features tokio --example hyper_get -- tls://localhost:4433 certs/ca.pem
//! ```
//!
//! Prints the status line, then the body.
use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tlshake::client::{self, ClientConfig};
use tlshake::url::TransportUrl;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<ExitCode, Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let url: TransportUrl = args
        .next()
        .unwrap_or_else(|| "tls://localhost:4433".into())
        .parse()?;
    let ca = args.next().unwrap_or_else(|| "certs/ca.pem".into());
    let config = ClientConfig::builder()
        .ca_file(ca)
        .alpn(["http/1.1"])
        .connect_timeout(Duration::from_secs(5))
        .handshake_timeout(Duration::from_secs(5))
        .build()?;

    let conn = match client::connect_async(&url, &config).await {
        Ok(conn) => conn,
        Err(e) => {
            // One line per level, as anyhow prints a chain.
            eprint!("{e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprint!(": {s}");
                source = s.source();
            }
            eprintln!();
            return Ok(ExitCode::FAILURE);
        }
    };
    let host = conn.sni.clone().unwrap_or_else(|| "localhost".into());

    // hyper drives the connection; the request is answered while `connection` runs.
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(conn.stream)).await?;
    let driver = tokio::spawn(connection);

    let request = Request::get("/")
        .header(hyper::header::HOST, host)
        .body(Empty::<Bytes>::new())?;
    let response = tokio::time::timeout(Duration::from_secs(5), sender.send_request(request))
        .await
        .map_err(|_| "no response within 5 s")??;
    println!("{:?} {}", response.version(), response.status());
    let body = tokio::time::timeout(Duration::from_secs(5), response.into_body().collect())
        .await
        .map_err(|_| "no complete body within 5 s")??
        .to_bytes();
    print!("{}", String::from_utf8_lossy(&body));
    drop(sender);
    // The server closes after its reply (`Connection: close`): the connection task ends.
    match tokio::time::timeout(Duration::from_secs(5), driver).await {
        Ok(Ok(Ok(()))) => Ok(ExitCode::SUCCESS),
        Ok(Ok(Err(e))) => Err(e.into()),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err("the connection did not end within 5 s".into()),
    }
}
