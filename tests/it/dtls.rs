//! DTLS on the same engine: tlshake's client against `openssl s_server -dtls1_2` and
//! `gnutls-serv --udp`, `openssl s_client -dtls1_2` and `gnutls-cli --udp` against the
//! [`DtlsListener`], the retransmission timer through a lossy relay, junk datagrams and a
//! flood of cookieless ClientHellos.

mod cli;
mod gnutls;
mod junk;
mod peers;
mod policy;
mod relay;
mod srtp;
mod sweep;
mod timer;
