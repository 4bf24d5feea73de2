//! [`HandshakeSet`]: many handshakes, their deadlines and their results, with no I/O of its
//! own.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use crate::error::HandshakeError;
use crate::handshake::Handshake;
use crate::outcome::{HandshakeOutcome, Want};
use crate::stream::TlsStream;
use crate::wait;

use super::interest::{interest, Interest};
use super::policy::{self, AcceptAction, AcceptPolicy};
use super::slab::Slab;
use super::token::Token;

/// Steps of one handshake per call of [`HandshakeSet::step`] while its transport still holds
/// bytes read ahead (those do not make the socket readable again).
const STEPS_PER_CALL: usize = 64;

struct Entry<S, T> {
    handshake: Handshake<S>,
    user: T,
    added: Instant,
    deadline: Instant,
    want: Want,
    watching: Option<wait::Interest>,
}

/// How a handshake of a [`HandshakeSet`] ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome<S> {
    /// Completed: the stream, wrapped up as by [`Handshake::drive`] (the
    /// [`NodelayPolicy`](crate::NodelayPolicy)'s after-handshake part, and
    /// `stats().duration` from insertion to the step that completed it).
    Done(TlsStream<S>),
    /// [`HandshakeOutcome::Failed`], unless it was a controlled shutdown.
    Failed(HandshakeError),
    /// Shut down in a controlled way ([`HandshakeError::is_controlled_shutdown`]):
    /// [`HandshakeOutcome::Shutdown`] (return value 0), or the peer's close_notify in place
    /// of a handshake message (`SSL_ERROR_ZERO_RETURN`).
    Shutdown(HandshakeError),
    /// Its deadline passed ([`ErrorKind::Timeout`](crate::ErrorKind::Timeout)).
    TimedOut(HandshakeError),
    /// Removed to make room for a new connection (the set was full and this one had
    /// received nothing), or to free a descriptor when `accept(2)` ran out of them.
    Evicted,
}

/// One handshake that left the set, with the value the caller gave it.
pub struct Ended<S, T> {
    /// Its token (now stale).
    pub token: Token,
    /// The caller's value given to [`HandshakeSet::insert`].
    pub user: T,
    /// How it ended.
    pub outcome: Outcome<S>,
    /// From insertion to the `now` at which it ended.
    pub elapsed: Duration,
    /// Whether a runner was watching its socket when it ended.
    pub watched: Option<wait::Interest>,
    rest: Option<Handshake<S>>,
}

impl<S, T> Ended<S, T> {
    /// The handshake of an entry that did not complete, still holding its transport (so a
    /// runner can deregister the descriptor before it is closed). `None` for `Done`, or once
    /// taken. Dropping the `Ended` closes it.
    pub fn take_handshake(&mut self) -> Option<Handshake<S>> {
        self.rest.take()
    }
}

impl<S, T: fmt::Debug> fmt::Debug for Ended<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ended")
            .field("token", &self.token)
            .field("user", &self.user)
            .field("elapsed", &self.elapsed)
            .finish_non_exhaustive()
    }
}

/// What one [`HandshakeSet::step`] asks of the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Watch the socket for `interest`; `previous` is what was watched before (`None`: not
    /// registered yet), so the runner changes its registration only when they differ.
    Watch {
        /// What to wait for now.
        interest: wait::Interest,
        /// What was watched before.
        previous: Option<wait::Interest>,
    },
    /// A callback-driven want ([`Interest::Caller`]): stop watching the socket (`previous`
    /// says whether it was watched) and hand `want` to the caller, who calls
    /// [`HandshakeSet::step`] again when the callback can make progress. The deadline still
    /// runs.
    Callback {
        /// The want returned by the handshake function.
        want: Want,
        /// What was watched before.
        previous: Option<wait::Interest>,
    },
    /// The handshake ended; collect it with [`HandshakeSet::poll_ended`].
    Ended,
    /// The token names no handshake in the set.
    Stale,
}

/// Many handshakes in flight: a sans-IO state machine in the manner of quinn-proto.
///
/// * Entries live in a slab and are named by generational [`Token`]s.
/// * Deadlines sit in a min-heap: [`poll_timeout`](Self::poll_timeout) gives the earliest,
///   [`handle_timeout`](Self::handle_timeout) ends the entries that are due.
/// * [`step`](Self::step) calls the handshake function of one entry and maps its [`Want`] to
///   a [`Step`] through the one [`interest`] function: socket wants become a watch, callback
///   wants go back to the caller.
/// * The accept policy ([`AcceptPolicy`]): [`admit`](Self::admit) makes room or refuses,
///   [`accept_failed`](Self::accept_failed) turns an `accept(2)` error into an
///   [`AcceptAction`].
/// * Results are queued as they happen and collected with [`poll_ended`](Self::poll_ended).
///
/// The set reads no clock and waits for nothing: every method that needs the time takes
/// `now`. The only I/O is the handshake's own, on its transport, when it is stepped.
pub struct HandshakeSet<S, T = ()> {
    entries: Slab<Entry<S, T>>,
    deadlines: BinaryHeap<Reverse<(Instant, Token)>>,
    ended: VecDeque<Ended<S, T>>,
    policy: AcceptPolicy,
}

impl<S, T> Default for HandshakeSet<S, T> {
    fn default() -> HandshakeSet<S, T> {
        HandshakeSet::new(AcceptPolicy::default())
    }
}

impl<S, T> HandshakeSet<S, T> {
    /// An empty set with `policy`.
    pub fn new(policy: AcceptPolicy) -> HandshakeSet<S, T> {
        HandshakeSet {
            entries: Slab::new(false),
            deadlines: BinaryHeap::new(),
            ended: VecDeque::new(),
            policy,
        }
    }

    /// The accept policy.
    pub fn policy(&self) -> AcceptPolicy {
        self.policy
    }

    /// Handshakes in the set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no handshake is in the set.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// Ended entries not yet collected.
    pub fn ended_len(&self) -> usize {
        self.ended.len()
    }

    /// The deadline of a handshake in the set.
    pub fn deadline(&self, token: Token) -> Option<Instant> {
        self.entries.get(token).map(|e| e.deadline)
    }

    /// What a handshake in the set last asked for.
    pub fn want(&self, token: Token) -> Option<Want> {
        self.entries.get(token).map(|e| e.want)
    }

    /// The handshake of `token`, to look at (its transport, its `Ssl`).
    pub fn handshake(&self, token: Token) -> Option<&Handshake<S>> {
        self.entries.get(token).map(|e| &e.handshake)
    }

    /// The caller's value of `token`.
    pub fn user(&self, token: Token) -> Option<&T> {
        self.entries.get(token).map(|e| &e.user)
    }

    /// What the runner watches for `token` (`None`: nothing, or not in the set).
    pub fn watching(&self, token: Token) -> Option<wait::Interest> {
        self.entries.get(token).and_then(|e| e.watching)
    }

    /// The next ended handshake, oldest first.
    pub fn poll_ended(&mut self) -> Option<Ended<S, T>> {
        self.ended.pop_front()
    }

    /// The earliest deadline of a handshake in the set (stale heap entries are dropped on
    /// the way).
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(Reverse((when, token))) = self.deadlines.peek().copied() {
            if self.entries.get(token).is_some_and(|e| e.deadline == when) {
                return Some(when);
            }
            self.deadlines.pop();
        }
        None
    }

    /// Takes a handshake out without ending it (its transport still open), with its value.
    pub fn remove(&mut self, token: Token) -> Option<(Handshake<S>, T)> {
        let entry = self.entries.remove(token)?;
        self.compact();
        Some((entry.handshake, entry.user))
    }

    fn compact(&mut self) {
        let live = self.entries.len();
        if self.deadlines.len() <= 2 * live + 1024 {
            return;
        }
        let entries = &self.entries;
        self.deadlines.retain(|Reverse((when, token))| {
            entries.get(*token).is_some_and(|e| e.deadline == *when)
        });
    }
}

impl<S: Read + Write, T> HandshakeSet<S, T> {
    /// Adds a handshake to be finished by `deadline`, not stepped yet: the first
    /// [`Step`] comes from the runner's first [`step`](Self::step) (a client right away, to
    /// send its ClientHello; a server once the socket is readable).
    ///
    /// `first_want` is what it is taken to wait for until then (`Want::Read` for an
    /// accepted server connection, `Want::Write` for a connecting client).
    pub fn insert(
        &mut self,
        handshake: Handshake<S>,
        user: T,
        now: Instant,
        deadline: Instant,
        first_want: Want,
    ) -> Token {
        let token = self.entries.insert(Entry {
            handshake,
            user,
            added: now,
            deadline,
            want: first_want,
            watching: None,
        });
        self.deadlines.push(Reverse((deadline, token)));
        token
    }

    /// Records that the runner now watches `token`'s socket for `interest` without a step (an
    /// accepted connection waits for the ClientHello).
    pub fn set_watching(&mut self, token: Token, interest: Option<wait::Interest>) {
        if let Some(e) = self.entries.get_mut(token) {
            e.watching = interest;
        }
    }

    /// Ends every handshake whose deadline is `now` or earlier; returns how many ended.
    pub fn handle_timeout(&mut self, now: Instant) -> usize {
        let mut n = 0;
        while let Some(Reverse((when, token))) = self.deadlines.peek().copied() {
            if when > now {
                break;
            }
            self.deadlines.pop();
            if self.entries.get(token).is_none_or(|e| e.deadline != when) {
                continue;
            }
            if let Some(entry) = self.entries.remove(token) {
                let elapsed = now.saturating_duration_since(entry.added);
                let error = entry.handshake.timeout_error(entry.want, elapsed);
                self.push_end(token, entry, Outcome::TimedOut(error), elapsed);
                n += 1;
            }
        }
        n
    }

    /// Makes room for one more connection under [`AcceptPolicy::max_pending`]: true when
    /// there is room (possibly after evicting the idlest pending connection, which is then
    /// among the ended entries), false when the new connection should be refused.
    pub fn admit(&mut self, now: Instant) -> bool {
        match self.policy.max_pending {
            Some(max) if self.entries.len() >= max => self.evict_idle(now),
            _ => true,
        }
    }

    /// What to do after `accept(2)` failed with `error` at `now`: on `EMFILE` / `ENFILE`
    /// evict the idlest pending connection that has received nothing and retry; with none,
    /// or after any other error, back off for [`AcceptPolicy::backoff`].
    pub fn accept_failed(&mut self, error: &io::Error, now: Instant) -> AcceptAction {
        if error.kind() == io::ErrorKind::WouldBlock {
            AcceptAction::Drained
        } else if policy::is_transient(error) {
            AcceptAction::Next
        } else if policy::is_shortage(error) && self.evict_idle(now) {
            AcceptAction::Retry
        } else {
            AcceptAction::Backoff(now + self.policy.backoff)
        }
    }

    /// Evicts the pending connection with the fewest bytes received (the oldest among
    /// equals) if it received nothing at all.
    fn evict_idle(&mut self, now: Instant) -> bool {
        let idlest = self
            .entries
            .iter()
            .map(|(t, e)| ((e.handshake.transport().bytes_received(), e.added), t))
            .min_by_key(|(key, _)| *key);
        match idlest {
            Some(((0, _), token)) => {
                if let Some(entry) = self.entries.remove(token) {
                    let elapsed = now.saturating_duration_since(entry.added);
                    self.push_end(token, entry, Outcome::Evicted, elapsed);
                }
                true
            }
            _ => false,
        }
    }

    fn push_end(
        &mut self,
        token: Token,
        entry: Entry<S, T>,
        outcome: Outcome<S>,
        elapsed: Duration,
    ) {
        self.ended.push_back(Ended {
            token,
            user: entry.user,
            outcome,
            elapsed,
            watched: entry.watching,
            rest: Some(entry.handshake),
        });
        self.compact();
    }
}

impl<S: Read + Write + AsFd, T> HandshakeSet<S, T> {
    /// Calls the handshake function of `token` (again while bytes read ahead wait in its
    /// transport) and says what the runner should do next. A handshake that ends is moved
    /// to the ended queue, with `now - inserted` as its duration.
    #[must_use = "the step says what the runner should do next"]
    pub fn step(&mut self, token: Token, now: Instant) -> Step {
        let Some(entry) = self.entries.get_mut(token) else {
            return Step::Stale;
        };
        let outcome = 'steps: {
            for _ in 0..STEPS_PER_CALL {
                match entry.handshake.step() {
                    HandshakeOutcome::Want(want) => {
                        entry.want = want;
                        match interest(want) {
                            Interest::Socket(wait::Interest::Readable)
                                if entry.handshake.transport().buffered() > 0 => {}
                            Interest::Socket(interest) => {
                                let previous = entry.watching.replace(interest);
                                return Step::Watch { interest, previous };
                            }
                            Interest::Caller(want) => {
                                let previous = entry.watching.take();
                                return Step::Callback { want, previous };
                            }
                        }
                    }
                    other => break 'steps other,
                }
            }
            // Still bytes read ahead after many steps: watch for readable meanwhile.
            let interest = wait::Interest::Readable;
            let previous = entry.watching.replace(interest);
            return Step::Watch { interest, previous };
        };
        let Some(mut entry) = self.entries.remove(token) else {
            return Step::Stale;
        };
        let elapsed = now.saturating_duration_since(entry.added);
        let watched = entry.watching;
        let outcome = match outcome {
            HandshakeOutcome::Done => {
                let stream = entry.handshake.established(Some(elapsed));
                self.ended.push_back(Ended {
                    token,
                    user: entry.user,
                    outcome: Outcome::Done(stream),
                    elapsed,
                    watched,
                    rest: None,
                });
                self.compact();
                return Step::Ended;
            }
            HandshakeOutcome::Failed(mut e) => {
                e.inner_mut().elapsed = Some(elapsed);
                // The peer's close_notify in place of a handshake message comes as
                // SSL_ERROR_ZERO_RETURN with -1 (OpenSSL 3): a controlled shutdown too.
                if e.is_controlled_shutdown() {
                    Outcome::Shutdown(e)
                } else {
                    Outcome::Failed(e)
                }
            }
            HandshakeOutcome::Shutdown(mut e) => {
                e.inner_mut().elapsed = Some(elapsed);
                Outcome::Shutdown(e)
            }
            HandshakeOutcome::Want(_) => return Step::Stale,
        };
        entry.watching = watched;
        self.push_end(token, entry, outcome, elapsed);
        Step::Ended
    }
}

impl<S, T> fmt::Debug for HandshakeSet<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeSet")
            .field("len", &self.entries.len())
            .field("ended", &self.ended.len())
            .field("deadlines", &self.deadlines.len())
            .field("policy", &self.policy)
            .finish()
    }
}
