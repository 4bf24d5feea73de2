//! [`HandshakeSet`]: many handshakes, their deadlines and their results, with no I/O of its
//! own.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::time::Instant;

use crate::handshake::Handshake;
use crate::outcome::{HandshakeOutcome, Want};
use crate::wait;

use super::ended::{Ended, Outcome, Step};
use super::interest::Interest;
use super::policy::{self, AcceptAction, AcceptPolicy};
use super::rules::next_wait;
use super::slab::Slab;
use super::timer::{Fired, RetransmitClock};
use super::token::Token;

/// Steps of one handshake per call of [`HandshakeSet::step`] while its transport still holds
/// bytes read ahead (those do not make the socket readable again).
const STEPS_PER_CALL: usize = 64;

struct Entry<S, T> {
    /// Begun at insertion: its start is the entry's.
    handshake: Handshake<S>,
    user: T,
    deadline: Instant,
    want: Want,
    watching: Option<wait::Interest>,
    /// DTLS: the retransmission timer, in the caller's time base.
    clock: RetransmitClock,
}

/// Many handshakes in flight: a sans-IO state machine in the manner of quinn-proto.
///
/// * Entries live in a slab and are named by generational [`Token`]s.
/// * Deadlines sit in a min-heap: [`poll_timeout`](Self::poll_timeout) gives the earliest,
///   [`handle_timeout`](Self::handle_timeout) ends the entries that are due.
/// * DTLS retransmission timers sit in a second min-heap, behind the same two methods:
///   `poll_timeout` gives the earlier of the next deadline and the next timer, and
///   `handle_timeout` first sends the last flight of every handshake whose timer is due
///   ([`DTLSv1_handle_timeout(3)`](https://docs.openssl.org/3.0/man3/DTLSv1_handle_timeout/)),
///   then ends the handshakes whose deadline passed. A timer is set at the `now` of the step
///   that started it plus the interval of the connection's
///   [`RetransmitPolicy`](crate::dtls::RetransmitPolicy): exact in the caller's time base.
/// * [`step`](Self::step) calls the handshake function of one entry and maps its [`Want`] to
///   a [`Step`] through the one [`interest`](super::interest) function: socket wants become a
///   watch, callback wants go back to the caller.
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
    timers: BinaryHeap<Reverse<(Instant, Token)>>,
    /// Steps made by `handle_timeout` that the runner must carry out.
    rewatch: VecDeque<(Token, Step)>,
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
            timers: BinaryHeap::new(),
            rewatch: VecDeque::new(),
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

    /// The earliest instant [`handle_timeout`](Self::handle_timeout) has work at: a
    /// handshake's deadline or a DTLS retransmission timer (stale heap entries are dropped
    /// on the way).
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let deadline = loop {
            match self.deadlines.peek().copied() {
                Some(Reverse((when, token))) => {
                    if self.entries.get(token).is_some_and(|e| e.deadline == when) {
                        break Some(when);
                    }
                    self.deadlines.pop();
                }
                None => break None,
            }
        };
        let timer = loop {
            match self.timers.peek().copied() {
                Some(Reverse((when, token))) => {
                    if self
                        .entries
                        .get(token)
                        .is_some_and(|e| e.clock.due() == Some(when))
                    {
                        break Some(when);
                    }
                    self.timers.pop();
                }
                None => break None,
            }
        };
        match (deadline, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When the DTLS retransmission timer of `token` fires next (`None`: none runs, or TLS).
    pub fn retransmit_at(&self, token: Token) -> Option<Instant> {
        self.entries.get(token).and_then(|e| e.clock.due())
    }

    /// A step that [`handle_timeout`](Self::handle_timeout) made on a handshake whose
    /// retransmission failed (a fatal error after too many, collected as an ended entry; or
    /// a write that would block, whose new watch the runner must set), oldest first. A
    /// runner drains these after each `handle_timeout`, as it carries out the steps of
    /// [`step`](Self::step).
    pub fn poll_watch(&mut self) -> Option<(Token, Step)> {
        self.rewatch.pop_front()
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
        self.timers.retain(|Reverse((when, token))| {
            entries
                .get(*token)
                .is_some_and(|e| e.clock.due() == Some(*when))
        });
    }
}

impl<S: Read + Write + AsFd, T> HandshakeSet<S, T> {
    /// Records that the runner now watches `token`'s socket for `interest` without a step (an
    /// accepted connection waits for the ClientHello).
    pub fn set_watching(&mut self, token: Token, interest: Option<wait::Interest>) {
        if let Some(e) = self.entries.get_mut(token) {
            e.watching = interest;
        }
    }

    /// Ends every handshake whose deadline is `now` or earlier; returns how many ended.
    ///
    /// First, every DTLS handshake whose retransmission timer is due at `now` (and whose
    /// deadline is not) sends its last flight again; one whose retransmission fails is
    /// stepped (see [`poll_watch`](Self::poll_watch)) and counted when that ends it.
    pub fn handle_timeout(&mut self, now: Instant) -> usize {
        let mut n = self.fire_timers(now);
        while let Some(Reverse((when, token))) = self.deadlines.peek().copied() {
            if when > now {
                break;
            }
            self.deadlines.pop();
            if self.entries.get(token).is_none_or(|e| e.deadline != when) {
                continue;
            }
            if let Some(entry) = self.entries.remove(token) {
                let error = entry.handshake.timeout_error(entry.want, now);
                self.push_end(token, entry, Outcome::TimedOut(error), now);
                n += 1;
            }
        }
        n
    }

    /// Sends the last flight again for every timer due at `now`; returns how many
    /// handshakes that ended.
    fn fire_timers(&mut self, now: Instant) -> usize {
        let mut ended = 0;
        while let Some(Reverse((when, token))) = self.timers.peek().copied() {
            if when > now {
                break;
            }
            self.timers.pop();
            let Some(entry) = self.entries.get_mut(token) else {
                continue;
            };
            // Stale, or the deadline is due too: the deadline ends it instead.
            if entry.clock.due() != Some(when) || entry.deadline <= now {
                continue;
            }
            match entry.clock.fire(&mut entry.handshake, now) {
                Fired::Waiting => {
                    if let Some(due) = entry.clock.due() {
                        self.timers.push(Reverse((due, token)));
                    }
                }
                Fired::Step => match self.step(token, now) {
                    Step::Ended => ended += 1,
                    Step::Watch { interest, previous } if previous == Some(interest) => {}
                    Step::Stale => {}
                    step => self.rewatch.push_back((token, step)),
                },
            }
        }
        ended
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

    /// Ends a handshake that returned a callback-driven want ([`Step::Callback`]) its runner
    /// cannot wait for: it leaves the set as [`Outcome::Failed`] with an
    /// [`ErrorKind::Callback`](crate::ErrorKind::Callback) error, as
    /// [`Handshake::drive`] ends such a handshake. False when the token names no handshake
    /// in the set.
    pub fn fail_callback(&mut self, token: Token, now: Instant) -> bool {
        let Some(entry) = self.entries.remove(token) else {
            return false;
        };
        let error = entry.handshake.callback_error(entry.want, now);
        self.push_end(token, entry, Outcome::Failed(error), now);
        true
    }

    /// Evicts the pending connection with the fewest bytes received (the oldest among
    /// equals) if it received nothing at all.
    fn evict_idle(&mut self, now: Instant) -> bool {
        let idlest = self
            .entries
            .iter()
            .map(|(t, e)| {
                let received = e.handshake.transport().bytes_received();
                ((received, e.handshake.started()), t)
            })
            .min_by_key(|(key, _)| *key);
        match idlest {
            Some(((0, _), token)) => {
                if let Some(entry) = self.entries.remove(token) {
                    self.push_end(token, entry, Outcome::Evicted, now);
                }
                true
            }
            _ => false,
        }
    }

    /// Queues the end of an entry that left the set at `now` without completing.
    fn push_end(&mut self, token: Token, entry: Entry<S, T>, outcome: Outcome<S>, now: Instant) {
        let elapsed = entry.handshake.elapsed(now).unwrap_or_default();
        self.push_ended(Ended {
            token,
            user: entry.user,
            outcome,
            elapsed,
            watched: entry.watching,
            rest: Some(entry.handshake),
        });
    }

    fn push_ended(&mut self, ended: Ended<S, T>) {
        self.ended.push_back(ended);
        self.compact();
    }
}

impl<S: Read + Write + AsFd, T> HandshakeSet<S, T> {
    /// Adds a handshake to be finished by `deadline`, not stepped yet: the first
    /// [`Step`] comes from the runner's first [`step`](Self::step) (a client right away, to
    /// send its ClientHello; a server once the socket is readable).
    ///
    /// `first_want` is what it is taken to wait for until then (`Want::Read` for an
    /// accepted server connection, `Want::Write` for a connecting client). The set begins
    /// the handshake's run at `now`, as every runner does: its
    /// [`NodelayPolicy`](crate::NodelayPolicy) is applied, and its errors and its stream's
    /// duration count from `now`.
    pub fn insert(
        &mut self,
        mut handshake: Handshake<S>,
        user: T,
        now: Instant,
        deadline: Instant,
        first_want: Want,
    ) -> Token {
        handshake.begin(now);
        let token = self.entries.insert(Entry {
            handshake,
            user,
            deadline,
            want: first_want,
            watching: None,
            clock: RetransmitClock::default(),
        });
        self.deadlines.push(Reverse((deadline, token)));
        token
    }

    /// Calls the handshake function of `token` (again while bytes read ahead wait in its
    /// transport: they count as readable) and says what the runner should do next. A
    /// handshake that ends is moved to the ended queue, with `now - inserted` as its
    /// duration.
    #[must_use = "the step says what the runner should do next"]
    pub fn step(&mut self, token: Token, now: Instant) -> Step {
        let Some(entry) = self.entries.get_mut(token) else {
            return Step::Stale;
        };
        let outcome = 'steps: {
            for _ in 0..STEPS_PER_CALL {
                let want = match entry.handshake.step_timed(|| now) {
                    HandshakeOutcome::Want(want) => want,
                    other => break 'steps other,
                };
                entry.want = want;
                match next_wait(&entry.handshake, want) {
                    None => {}
                    Some(Interest::Socket(interest)) => {
                        if let Some(due) = entry.clock.rearm(&entry.handshake, now) {
                            self.timers.push(Reverse((due, token)));
                        }
                        let previous = entry.watching.replace(interest);
                        return Step::Watch { interest, previous };
                    }
                    Some(Interest::Caller(want)) => {
                        if let Some(due) = entry.clock.rearm(&entry.handshake, now) {
                            self.timers.push(Reverse((due, token)));
                        }
                        let previous = entry.watching.take();
                        return Step::Callback { want, previous };
                    }
                }
            }
            // Still bytes read ahead after many steps: watch for readable meanwhile.
            let interest = wait::Interest::Readable;
            let previous = entry.watching.replace(interest);
            return Step::Watch { interest, previous };
        };
        let Some(entry) = self.entries.remove(token) else {
            return Step::Stale;
        };
        let outcome = match outcome {
            HandshakeOutcome::Done => {
                let elapsed = entry.handshake.elapsed(now).unwrap_or_default();
                self.push_ended(Ended {
                    token,
                    user: entry.user,
                    outcome: Outcome::Done(entry.handshake.established(now)),
                    elapsed,
                    watched: entry.watching,
                    rest: None,
                });
                return Step::Ended;
            }
            HandshakeOutcome::Failed(e) => Outcome::Failed(e),
            HandshakeOutcome::Shutdown(e) => Outcome::Shutdown(e),
            HandshakeOutcome::Want(_) => return Step::Stale,
        };
        self.push_end(token, entry, outcome, now);
        Step::Ended
    }
}

impl<S, T> fmt::Debug for HandshakeSet<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeSet")
            .field("len", &self.entries.len())
            .field("ended", &self.ended.len())
            .field("deadlines", &self.deadlines.len())
            .field("timers", &self.timers.len())
            .field("policy", &self.policy)
            .finish()
    }
}
