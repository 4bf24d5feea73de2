//! A slab of entries named by generational [`Token`]s.

use super::token::{Token, LISTENER_BIT};

struct Slot<E> {
    generation: u32,
    value: Option<E>,
}

/// Entries in a `Vec`, reused through a free list; a reused slot gets a new generation, so an
/// old token never names the new entry.
pub(crate) struct Slab<E> {
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    len: usize,
    tag: u32,
}

impl<E> Slab<E> {
    /// A slab whose tokens are handshake tokens (`listeners == false`) or listener tokens.
    pub(crate) fn new(listeners: bool) -> Slab<E> {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            tag: if listeners { LISTENER_BIT } else { 0 },
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn insert(&mut self, value: E) -> Token {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            if let Some(slot) = self.slots.get_mut(index as usize) {
                slot.value = Some(value);
                return Token::new(index, slot.generation | self.tag);
            }
        }
        let index = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        self.slots.push(Slot {
            generation: 0,
            value: Some(value),
        });
        Token::new(index, self.tag)
    }

    fn slot(&self, token: Token) -> Option<&Slot<E>> {
        self.slots
            .get(token.index())
            .filter(|s| s.generation | self.tag == token.generation())
    }

    pub(crate) fn get(&self, token: Token) -> Option<&E> {
        self.slot(token)?.value.as_ref()
    }

    pub(crate) fn get_mut(&mut self, token: Token) -> Option<&mut E> {
        let tag = self.tag;
        self.slots
            .get_mut(token.index())
            .filter(|s| s.generation | tag == token.generation())?
            .value
            .as_mut()
    }

    /// Takes the entry out; its token goes stale.
    pub(crate) fn remove(&mut self, token: Token) -> Option<E> {
        let tag = self.tag;
        let slot = self
            .slots
            .get_mut(token.index())
            .filter(|s| s.generation | tag == token.generation())?;
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1) & !LISTENER_BIT;
        self.len -= 1;
        if let Ok(index) = u32::try_from(token.index()) {
            self.free.push(index);
        }
        Some(value)
    }

    /// Every live entry with its token.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Token, &E)> + '_ {
        self.slots.iter().enumerate().filter_map(move |(i, s)| {
            let index = u32::try_from(i).ok()?;
            Some((
                Token::new(index, s.generation | self.tag),
                s.value.as_ref()?,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_slot_gets_a_new_token() {
        let mut slab = Slab::new(false);
        let a = slab.insert("a");
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b");
        assert_eq!(a.index(), b.index());
        assert_ne!(a, b);
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.get(b), Some(&"b"));
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn listener_tokens_never_name_handshakes() {
        let mut handshakes = Slab::new(false);
        let mut listeners = Slab::new(true);
        let h = handshakes.insert(1);
        let l = listeners.insert(2);
        assert_eq!(h.index(), l.index());
        assert!(l.is_listener() && !h.is_listener());
        assert_eq!(handshakes.get(l), None);
        assert_eq!(listeners.get(h), None);
        assert_eq!(listeners.remove(l), Some(2));
        assert!(listeners.insert(3).is_listener());
    }
}
