//! [`Token`]: the name of one handshake (or listener) inside a
//! [`HandshakeSet`](super::HandshakeSet) or a runner over it.

use std::fmt;

/// The generation bit that marks a listener's token.
pub(crate) const LISTENER_BIT: u32 = 1 << 31;

/// Names one handshake or listener added to a [`HandshakeSet`](super::HandshakeSet) or to a
/// [`MultiDriver`](crate::MultiDriver).
///
/// A token is a slot index plus a generation count: when a slot is reused, the new token
/// differs from the old one, so a stale token never reaches a newer handshake. The top bit
/// tells a listener's token from a handshake's, so the two never collide in one epoll set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(u64);

impl Token {
    pub(crate) fn new(index: u32, generation: u32) -> Token {
        Token((u64::from(generation) << 32) | u64::from(index))
    }

    pub(crate) fn from_raw(raw: u64) -> Token {
        Token(raw)
    }

    /// The value kept in the epoll event's data field.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    pub(crate) fn index(self) -> usize {
        // The low 32 bits: always fits in usize on the 64-bit targets epoll exists on, and
        // u32 -> usize never truncates on 32-bit ones either.
        (self.0 & u64::from(u32::MAX)) as usize
    }

    pub(crate) fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// True for the token of a listener (the top bit of the generation).
    pub(crate) fn is_listener(self) -> bool {
        self.generation() & LISTENER_BIT != 0
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.index(), self.generation())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_generation_round_trip() {
        let t = Token::new(7, 3);
        assert_eq!(t.index(), 7);
        assert_eq!(t.generation(), 3);
        assert_eq!(Token::from_raw(t.as_u64()), t);
        assert_ne!(Token::new(7, 4), t);
        assert_eq!(t.to_string(), "#7.3");
        let max = Token::new(u32::MAX, u32::MAX);
        assert_eq!(max.index(), u32::MAX as usize);
        assert_eq!(max.generation(), u32::MAX);
    }
}
