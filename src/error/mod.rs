//! What went wrong, in OpenSSL's words and in a person's: [`HandshakeError`] (the return
//! value, the `SSL_get_error` code, the whole [`ErrorQueue`](queue::ErrorQueue), the X509
//! verify result, errno), the [`Hint`](hint::Hint) diagnosed from that evidence and the
//! [`Advice`](advice::Advice) it gives, and the record-layer reading of the peer's first
//! bytes that some hints quote.

pub(crate) mod advice;
pub(crate) mod diagnose;
mod handshake;
pub(crate) mod hint;
mod hint_text;
pub(crate) mod queue;
pub(crate) mod record;
mod root;

pub(crate) use handshake::ErrorInner;
pub use handshake::{ErrorKind, HandshakeError, HandshakeFunction, VerifyResult};
pub use queue::OpensslError;
pub use root::Error;

/// The rest of `{:#}` for an error whose `Display` wrote its own line: every cause in its
/// [`source`](std::error::Error::source) chain, each after `: `, so that the alternate form
/// tells the whole story while `{}` stays one line. A [`HandshakeError`] in the chain is
/// written in its own alternate form (its reasons and its hint) and ends the walk, since it
/// tells its causes itself. Writes nothing for `{}`.
pub(crate) fn write_causes(
    error: &(dyn std::error::Error + 'static),
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    if !f.alternate() {
        return Ok(());
    }
    let mut next = error.source();
    while let Some(cause) = next {
        if let Some(handshake) = cause.downcast_ref::<HandshakeError>() {
            return write!(f, ": {handshake:#}");
        }
        write!(f, ": {cause}")?;
        next = cause.source();
    }
    Ok(())
}
