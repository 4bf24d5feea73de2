//! Scripted plain-text servers on 127.0.0.1 for the STARTTLS tests.
//!
//! A [`Peer`] accepts one connection on an ephemeral port and plays a fixed script of sends
//! and expected client bytes, with timeouts on every wait so that no test can hang. Its thread
//! reports whether the client sent exactly what the script expected.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long the peer waits for the client to connect or to send something.
const PEER_WAIT: Duration = Duration::from_secs(5);

/// One step of a peer's script.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes in one `write_all`.
    Send(Vec<u8>),
    /// Write these bytes, ignoring a client that has already gone away.
    Flood(Vec<u8>),
    /// Write these bytes one at a time with a pause before each; stops quietly when the
    /// client has gone away.
    Drip(Vec<u8>, Duration),
    /// Read exactly these bytes from the client.
    Expect(Vec<u8>),
    /// Wait until the client closes the connection, without sending anything; fails if the
    /// client sends a byte.
    AwaitClose,
}

/// `Step::Send` from text.
pub fn send(text: &str) -> Step {
    Step::Send(text.as_bytes().to_vec())
}

/// `Step::Expect` from text.
pub fn expect(text: &str) -> Step {
    Step::Expect(text.as_bytes().to_vec())
}

/// A scripted server running in its own thread.
#[derive(Debug)]
pub struct Peer {
    addr: SocketAddr,
    thread: JoinHandle<Result<(), String>>,
}

impl Peer {
    /// Binds 127.0.0.1:0 and starts playing `script` for the first client.
    pub fn spawn(script: Vec<Step>) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let thread = thread::spawn(move || play(&listener, &script));
        Peer { addr, thread }
    }

    /// Connects a client with the given read and write timeout.
    pub fn connect(&self, timeout: Duration) -> TcpStream {
        let stream = TcpStream::connect_timeout(&self.addr, PEER_WAIT).expect("connect");
        stream.set_read_timeout(Some(timeout)).expect("timeout");
        stream.set_write_timeout(Some(timeout)).expect("timeout");
        stream
    }

    /// Waits for the script to end; `Err` says how the client deviated from it.
    pub fn join(self) -> Result<(), String> {
        self.thread
            .join()
            .unwrap_or_else(|_| Err("peer thread panicked".into()))
    }
}

fn play(listener: &TcpListener, script: &[Step]) -> Result<(), String> {
    let mut stream = accept(listener)?;
    stream
        .set_read_timeout(Some(PEER_WAIT))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(PEER_WAIT))
        .map_err(|e| e.to_string())?;
    for (i, step) in script.iter().enumerate() {
        run(&mut stream, step).map_err(|e| format!("step {i} {step:?}: {e}"))?;
    }
    Ok(())
}

fn accept(listener: &TcpListener) -> Result<TcpStream, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + PEER_WAIT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).map_err(|e| e.to_string())?;
                return Ok(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    }
}

fn run(stream: &mut TcpStream, step: &Step) -> Result<(), String> {
    match step {
        Step::Send(bytes) => stream.write_all(bytes).map_err(|e| e.to_string()),
        Step::Flood(bytes) => {
            let _ = stream.write_all(bytes);
            Ok(())
        }
        Step::Drip(bytes, pause) => {
            for byte in bytes {
                thread::sleep(*pause);
                if stream.write_all(&[*byte]).is_err() {
                    break;
                }
            }
            Ok(())
        }
        Step::Expect(wanted) => {
            let mut got = vec![0u8; wanted.len()];
            stream.read_exact(&mut got).map_err(|e| e.to_string())?;
            if &got == wanted {
                Ok(())
            } else {
                Err(format!(
                    "client sent {:?}",
                    String::from_utf8_lossy(&got).into_owned()
                ))
            }
        }
        Step::AwaitClose => {
            let mut byte = [0u8; 1];
            match stream.read(&mut byte) {
                Ok(0) => Ok(()),
                Ok(_) => Err(format!("client sent {:?} instead of closing", byte[0])),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}
