//! The parking protocol: which workers are searching for work, which are asleep, and who wakes whom.
//!
//! # Counters
//! One atomic word, [`Idle::state`], packs two counters so both change in one read-modify-write:
//! - `searching` (low half): workers that are awake and looking for work (stealing) without having
//!   found any yet. A worker woken by [`Idle::wake_up_to`] is counted as searching *by its waker*, so a
//!   burst of pushes wakes one worker, not one per push.
//! - `sleeping` (high half): workers that have announced they are going to park. Each sleeping worker
//!   is also in the `sleepers` list (same mutex as the count changes) with its `parked` flag set.
//!
//! # Rules
//! 1. *Pusher* (work arriving from outside, in the injector): push, then `fence(SeqCst)`, then read
//!    `state` ([`Idle::wake_one_if_needed`]). If `searching == 0 && sleeping > 0` it wakes one sleeper
//!    (the woken worker becomes a searcher). If somebody is searching it wakes nobody: that searcher is
//!    responsible for the new work (rule 3 and 4).
//! 2. *Throttle*: a worker becomes a searcher only while `2 * searching < workers`
//!    ([`Idle::try_start_searching`]); the others skip straight to rule 3. Waking only when nobody
//!    searches plus this throttle keeps at most about half the workers spinning.
//! 3. *Going to sleep*: the worker, in one SeqCst read-modify-write under the sleepers mutex, stops
//!    searching (if it was) and increments `sleeping` ([`Idle::announce_sleep`]), then `fence(SeqCst)`,
//!    then re-checks every queue. If it finds work it takes itself off the list and counts itself as a
//!    searcher ([`Idle::cancel_sleep`]); otherwise it parks until its `parked` flag is cleared.
//! 4. *Last searcher hands off*: a searcher that finds work stops searching
//!    ([`Idle::stop_searching`]); if it was the last one it issues a SeqCst fence, looks at the queues
//!    (injector, its own queue, the siblings' queues) and, if any holds a task, wakes one sleeper
//!    (rule 1 check). A burst of work spreads one worker at a time (tokio #4383 was the bug when this
//!    hand-off was missing), and a searcher that took the only task wakes nobody (a park/unpark round
//!    trip costs tens of microseconds on the woken core).
//!
//! # Why no wakeup is lost
//! Take a pusher P that pushed task `t` and then read `state` (after its fence `F_P`) without waking
//! anyone. Either it saw `sleeping == 0` or it saw `searching > 0`.
//! - Consider any worker W whose sleep announcement (rule 3, SeqCst RMW then fence `F_W`) is *not*
//!   visible to P's read, i.e. comes later in `state`'s modification order than the value P read.
//!   In the single total order of SeqCst fences, `F_W` cannot precede `F_P` (otherwise P's read,
//!   sequenced after `F_P`, would see W's RMW, sequenced before `F_W`). So `F_P` precedes `F_W`, and
//!   W's re-check, sequenced after `F_W`, sees the push that was sequenced before `F_P`. W runs `t`
//!   (or finds the queue emptied by someone who took `t`).
//! - If P saw `sleeping == 0`, every worker is awake and announces before it ever parks, so by the
//!   previous point each of them sees `t` before parking. Awake workers check the injector in their
//!   normal loop before they go to sleep, so `t` is run once any of them finishes its current `run`.
//! - If P saw `searching > 0` with sleepers present, a searcher S exists whose next transition is
//!   later in `state`'s modification order than P's read. If S announces sleep, the first point
//!   applies to S. If S finds other work and is the last searcher, its `stop_searching` RMW is
//!   followed by a fence `F_S` and a look at the queues; by the same fence argument `F_P` precedes
//!   `F_S`, so S sees `t` and wakes a sleeper, which becomes a searcher with the same duty (every later
//!   announcement is ordered after P's read, so the first point applies to it). If S was not the last
//!   searcher, the remaining searcher inherits the duty. If nobody sleeps at that moment, the second
//!   point applies.
//!
//! A woken worker only stops waiting when its `parked` flag is cleared (under the mutex, before the
//! unpark), so a stale parker token (left by a [`Idle::cancel_sleep`] that raced a waker) only costs one
//! extra loop, never a missed wake.
//!
//! Local pushes (a worker scheduling onto its own queue) follow rule 1 too: push, `fence(SeqCst)`,
//! one load of `state`. The fence is a local barrier (no write to a shared cache line, unlike an RMW)
//! and makes the argument above cover sibling queues as well: a sleeper's re-check looks at every
//! sibling's queue, so a task pushed by a worker whose current `run` then blocks (waiting, say, for
//! that very task) is still taken by a sibling instead of being stranded (async-executor #104).
//! `schedule_yield` wakes nobody: the yielding task returns right away, so its worker gets to it.
//!
//! Shutdown clears every `parked` flag and unparks everyone ([`Idle::wake_all`]); a worker that
//! announces after that sees the shutdown flag in its re-check (the flag is set before the wake-all
//! takes the mutex that the announcement takes afterwards).

use crate::sync::{fence, AtomicBool, AtomicUsize, Mutex, Ordering, Unparker};
use crossbeam_utils::CachePadded;

/// Bits of `state` that hold the `searching` count (the low half of the word).
const SEARCHING_BITS: u32 = usize::BITS / 2;
/// One searching worker in `state`.
const ONE_SEARCHING: usize = 1;
/// One sleeping worker in `state` (the high half of the word).
const ONE_SLEEPING: usize = 1 << SEARCHING_BITS;
/// Mask of the `searching` count in `state`.
const SEARCHING_MASK: usize = ONE_SLEEPING - 1;
/// Largest pool the packed counters can describe.
pub(crate) const MAX_WORKERS: usize = SEARCHING_MASK;

/// The number of searching workers in a `state` value.
fn searching(state: usize) -> usize {
    state & SEARCHING_MASK
}

/// The number of sleeping workers in a `state` value.
fn sleeping(state: usize) -> usize {
    state >> SEARCHING_BITS
}

/// Sleep/search bookkeeping for one pool. Not generic: the batch machinery and the tests use it
/// without knowing the task type.
pub(crate) struct Idle {
    /// `searching` and `sleeping` counts, packed (see the module doc). Changed with SeqCst RMWs; the
    /// count of sleepers only changes under `sleepers`. In its own cache line: it is written on every
    /// search/sleep transition and must not evict the fields the workers read on every pick.
    state: CachePadded<AtomicUsize>,
    /// Indexes of the workers that announced sleep and were not yet woken, most recent last.
    sleepers: Mutex<Vec<usize>>,
    /// Per worker: true while it is in `sleepers` (it may park). Written under `sleepers`; the worker
    /// reads it with Acquire, pairing with the Release store of the waker (who then unparks).
    parked: Box<[AtomicBool]>,
    /// Per worker: the handle that wakes its parker.
    unparkers: Box<[Unparker]>,
    /// Most workers allowed to search at once (about half, at least one).
    max_searching: usize,
}

impl Idle {
    /// Bookkeeping for a pool whose worker `i` parks on the parker of `unparkers[i]`.
    pub(crate) fn new(unparkers: Vec<Unparker>) -> Idle {
        let workers = unparkers.len();
        Idle {
            state: CachePadded::new(AtomicUsize::new(0)),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            parked: (0..workers).map(|_| AtomicBool::new(false)).collect(),
            unparkers: unparkers.into_boxed_slice(),
            max_searching: workers.div_ceil(2).max(1),
        }
    }

    /// Rule 2: the calling worker becomes a searcher unless about half the workers already search.
    pub(crate) fn try_start_searching(&self) -> bool {
        // SeqCst: the count takes part in the pusher/sleeper argument of the module doc.
        let mut current = self.state.load(Ordering::SeqCst);
        loop {
            if searching(current) >= self.max_searching {
                return false;
            }
            match self.state.compare_exchange_weak(
                current,
                current + ONE_SEARCHING,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }

    /// Rule 4: a searcher found work. Returns true when it was the last searcher, in which case the
    /// caller must call [`Idle::wake_one_if_needed`] so the work spreads.
    pub(crate) fn stop_searching(&self) -> bool {
        let previous = self.state.fetch_sub(ONE_SEARCHING, Ordering::SeqCst);
        debug_assert!(searching(previous) > 0, "stop_searching without a searcher");
        searching(previous) == 1
    }

    /// Rule 3, first half: worker `index` (searching or not) announces it is going to sleep. The
    /// caller must then re-check every queue and either [`Idle::cancel_sleep`] or park until
    /// [`Idle::is_parked`] is false.
    pub(crate) fn announce_sleep(&self, index: usize, was_searching: bool) {
        let mut sleepers = self.sleepers.lock().unwrap();
        sleepers.push(index);
        // Release: paired with the Acquire in `is_parked`; the flag is only cleared by a waker.
        self.parked[index].store(true, Ordering::Release);
        let delta = if was_searching {
            ONE_SLEEPING.wrapping_sub(ONE_SEARCHING)
        } else {
            ONE_SLEEPING
        };
        // Wrapping add of `ONE_SLEEPING - 1` is "sleeping += 1, searching -= 1" since searching >= 1.
        self.state.fetch_add(delta, Ordering::SeqCst);
        drop(sleepers);
        // The announcement must be ordered before the re-check of the queues (module doc).
        fence(Ordering::SeqCst);
    }

    /// Rule 3, second half: worker `index`'s re-check found work. Afterwards it is a searcher, whether
    /// it took itself off the list or a waker already had (and counted it as searching).
    pub(crate) fn cancel_sleep(&self, index: usize) {
        let mut sleepers = self.sleepers.lock().unwrap();
        // Relaxed: only written under `sleepers`, which we hold.
        if self.parked[index].load(Ordering::Relaxed) {
            if let Some(position) = sleepers.iter().rposition(|&i| i == index) {
                sleepers.swap_remove(position);
            }
            // Relaxed: we are the worker itself, not a waker; nobody waits on this flag but us.
            self.parked[index].store(false, Ordering::Relaxed);
            self.state
                .fetch_add(ONE_SEARCHING.wrapping_sub(ONE_SLEEPING), Ordering::SeqCst);
        }
    }

    /// True while worker `index` is on the sleeper list and must keep parking.
    pub(crate) fn is_parked(&self, index: usize) -> bool {
        // Acquire: paired with the Release store of the waker that clears the flag.
        self.parked[index].load(Ordering::Acquire)
    }

    /// Rule 1 (and rule 4): wake one sleeper if nobody searches. The caller already made its work
    /// visible and issued a SeqCst fence (or is a local push, see the module doc). Returns whether a
    /// worker was woken.
    pub(crate) fn wake_one_if_needed(&self) -> bool {
        let state = self.state.load(Ordering::SeqCst);
        if searching(state) != 0 || sleeping(state) == 0 {
            return false;
        }
        self.wake_up_to(1, false) == 1
    }

    /// A batch of `tasks` became visible (and the caller issued a SeqCst fence): wake as many sleepers
    /// as useful, at most one per task and never more searchers than the throttle allows; the
    /// searchers' hand-off (rule 4) spreads the rest. Returns how many were woken.
    pub(crate) fn wake_for_batch(&self, tasks: usize) -> usize {
        let state = self.state.load(Ordering::SeqCst);
        if sleeping(state) == 0 || tasks == 0 {
            return 0;
        }
        let room = self.max_searching.saturating_sub(searching(state));
        let wanted = tasks.min(room);
        if wanted == 0 {
            return 0;
        }
        self.wake_up_to(wanted, true)
    }

    /// Wakes up to `count` sleepers, each becoming a searcher. Unless `batch` is set, re-checks under
    /// the lock that nobody started searching meanwhile (that searcher is then responsible).
    fn wake_up_to(&self, count: usize, batch: bool) -> usize {
        let mut woken = 0;
        while woken < count {
            let mut sleepers = self.sleepers.lock().unwrap();
            let state = self.state.load(Ordering::SeqCst);
            if !batch && searching(state) != 0 {
                break;
            }
            if batch && searching(state) >= self.max_searching {
                break;
            }
            let Some(index) = sleepers.pop() else { break };
            self.state
                .fetch_add(ONE_SEARCHING.wrapping_sub(ONE_SLEEPING), Ordering::SeqCst);
            // Release: paired with the Acquire in `is_parked` of the woken worker.
            self.parked[index].store(false, Ordering::Release);
            drop(sleepers);
            self.unparkers[index].unpark();
            woken += 1;
            trace_unpark(index);
        }
        woken
    }

    /// Shutdown: takes every sleeper off the list and unparks it.
    pub(crate) fn wake_all(&self) {
        let drained: Vec<usize> = {
            let mut sleepers = self.sleepers.lock().unwrap();
            let drained: Vec<usize> = sleepers.drain(..).collect();
            for &index in &drained {
                self.state
                    .fetch_add(ONE_SEARCHING.wrapping_sub(ONE_SLEEPING), Ordering::SeqCst);
                // Release: paired with the Acquire in `is_parked`.
                self.parked[index].store(false, Ordering::Release);
            }
            drained
        };
        for index in drained {
            self.unparkers[index].unpark();
        }
    }

    /// How many workers are on the sleeper list right now (a snapshot).
    pub(crate) fn sleeping_count(&self) -> usize {
        // Relaxed: a statistic; nothing is synchronised through it.
        sleeping(self.state.load(Ordering::Relaxed))
    }

    /// How many workers are searching right now (a snapshot).
    pub(crate) fn searching_count(&self) -> usize {
        // Relaxed: a statistic; nothing is synchronised through it.
        searching(self.state.load(Ordering::Relaxed))
    }
}

/// Emits a trace event for an unpark when the `tracing` feature is on.
fn trace_unpark(index: usize) {
    #[cfg(feature = "tracing")]
    tracing::trace!(worker = index, "magpie-scheduler: unpark");
    #[cfg(not(feature = "tracing"))]
    let _ = index;
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Parker;

    fn idle(workers: usize) -> (Idle, Vec<Parker>) {
        let parkers: Vec<Parker> = (0..workers).map(|_| Parker::new()).collect();
        let idle = Idle::new(parkers.iter().map(|p| p.unparker().clone()).collect());
        (idle, parkers)
    }

    #[test]
    fn at_most_half_the_workers_search() {
        let (idle, _parkers) = idle(4);
        assert!(idle.try_start_searching());
        assert!(idle.try_start_searching());
        assert!(!idle.try_start_searching());
        assert_eq!(idle.searching_count(), 2);
        assert!(!idle.stop_searching(), "one searcher is left");
        assert!(idle.stop_searching(), "the last searcher");
        assert_eq!(idle.searching_count(), 0);
    }

    #[test]
    fn one_worker_may_search() {
        let (idle, _parkers) = idle(1);
        assert!(idle.try_start_searching());
        assert!(!idle.try_start_searching());
    }

    #[test]
    fn announcing_moves_a_searcher_to_the_sleepers_and_cancelling_back() {
        let (idle, _parkers) = idle(2);
        assert!(idle.try_start_searching());
        idle.announce_sleep(1, true);
        assert_eq!((idle.searching_count(), idle.sleeping_count()), (0, 1));
        assert!(idle.is_parked(1));
        idle.cancel_sleep(1);
        assert_eq!((idle.searching_count(), idle.sleeping_count()), (1, 0));
        assert!(!idle.is_parked(1));
        // A second cancel (the waker got there first) changes nothing.
        idle.cancel_sleep(1);
        assert_eq!((idle.searching_count(), idle.sleeping_count()), (1, 0));
    }

    #[test]
    fn a_push_wakes_one_sleeper_only_when_nobody_searches() {
        let (idle, parkers) = idle(3);
        idle.announce_sleep(0, false);
        idle.announce_sleep(2, false);
        assert!(idle.try_start_searching());
        assert!(!idle.wake_one_if_needed(), "a searcher is responsible");
        assert!(idle.stop_searching());
        assert!(idle.wake_one_if_needed());
        // The most recent sleeper is woken, counted as searching, and has a token to consume.
        assert!(!idle.is_parked(2));
        assert!(idle.is_parked(0));
        assert_eq!((idle.searching_count(), idle.sleeping_count()), (1, 1));
        parkers[2].park();
        // The woken worker is searching, so the next push wakes nobody.
        assert!(!idle.wake_one_if_needed());
    }

    #[test]
    fn a_batch_wakes_up_to_the_search_limit_once() {
        let (idle, _parkers) = idle(4);
        for index in 0..4 {
            idle.announce_sleep(index, false);
        }
        assert_eq!(idle.wake_for_batch(0), 0);
        assert_eq!(idle.wake_for_batch(1), 1);
        assert_eq!(idle.wake_for_batch(100), 1, "two searchers at most");
        assert_eq!(idle.wake_for_batch(100), 0);
        assert_eq!((idle.searching_count(), idle.sleeping_count()), (2, 2));
    }

    #[test]
    fn wake_all_clears_every_sleeper() {
        let (idle, parkers) = idle(3);
        for index in 0..3 {
            idle.announce_sleep(index, false);
        }
        idle.wake_all();
        assert_eq!(idle.sleeping_count(), 0);
        for (index, parker) in parkers.iter().enumerate() {
            assert!(!idle.is_parked(index));
            parker.park(); // each has a token: returns at once
        }
    }

    #[test]
    fn packed_counters_do_not_bleed_into_each_other() {
        let state = 5 * ONE_SLEEPING + 3 * ONE_SEARCHING;
        assert_eq!((searching(state), sleeping(state)), (3, 5));
        let moved = state.wrapping_add(ONE_SLEEPING.wrapping_sub(ONE_SEARCHING));
        assert_eq!((searching(moved), sleeping(moved)), (2, 6));
    }
}
