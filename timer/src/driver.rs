//! The driver: state shared between registering threads and the timer thread ([`Shared`]), and the
//! timer thread's own state ([`Core`]) with one `turn` of its loop.
//!
//! Hand-off. Owners never touch the wheel. A new registration is pushed onto a lock-free Treiber stack
//! (`registrations`); a cancellation of an entry that sits in the wheel is pushed onto a second stack
//! (`cancels`). The timer thread takes a whole stack with one `swap` and applies it. Entries carry
//! their own stack link, so a push allocates nothing. Registrations are the hot path (every sleep that
//! waits pushes one), so there is one registration stack per shard, each on its own cache line, and
//! a thread always pushes to the same shard: workers registering at once do not pass one cache line
//! back and forth (a contended line cost about two thirds of a registration before). The timer thread
//! takes every shard each turn.
//!
//! Waking the timer thread. While it runs, the thread publishes `sleeping_until = AWAKE` (0) and
//! registrants never unpark it. Before parking it publishes the tick it will sleep until, then looks at
//! every registration shard once more; a registrant pushes, then reads `sleeping_until` and unparks only if
//! its deadline is earlier. Both sides put a SeqCst fence between their store and their load (Dekker
//! style), so either the registrant sees the new target or the thread sees the new registration: no
//! lost wake-up, and at most one unpark per parked period in the common case of later deadlines.
//! (Fences rather than SeqCst accesses: loom models SeqCst accesses as AcqRel but fences exactly.)
//!
//! Absorbing registration storms. Registrations due after the thread's wake-up tick do not unpark it,
//! so a burst of them would otherwise all be linked in one go right before the first of them is due,
//! delaying that fire. Instead, a turn that found registrations comes back [`ABSORB_TICKS`] later:
//! while registrations stream in the thread wakes at most every 5 ms and links them in small steps;
//! once they stop it sleeps until its deadline again. This costs registrants nothing.
//!
//! Prompt reclamation of cancelled entries. Cancellations do not need the thread at once, but their
//! memory must come back soon. Each cancellation bumps a counter; the first one of a batch unparks
//! the thread, which then schedules a sweep [`SWEEP_TICKS`] later (one unpark per sweep period), and
//! every [`CANCEL_BATCH`]-th one unparks it to sweep at once. So at most about one batch or one sweep
//! period of cancelled entries is ever waiting.
//!
//! Firing. `turn` collects the wakers of every due entry into a reusable buffer, then wakes them in
//! chunks of [`WAKE_CHUNK`] between the executor's batch hooks; no lock is held, so registrations and
//! cancellations proceed while wakers run. A panicking waker is caught so one bad waker cannot kill the
//! timer thread.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::task::Waker;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::entry::{Cancel, Dequeued, Entry, Fired};
use crate::hooks;
use crate::metrics::{MetricsCells, TimerMetrics};
use crate::prefetch::prefetch_read;
use crate::sync::{fence, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering, Unparker};
use crate::wheel::Wheel;

/// `sleeping_until` while the timer thread is running (no registration is earlier than tick 0).
pub(crate) const AWAKE: u64 = 0;
/// `sleeping_until` when the thread sleeps with no deadline at all.
pub(crate) const NEVER: u64 = u64::MAX;
/// Deadlines are clamped to this tick (about 146 million years) so tick arithmetic cannot overflow.
pub(crate) const MAX_TICK: u64 = 1 << 62;
/// Cancellations that make the timer thread sweep at once.
pub(crate) const CANCEL_BATCH: usize = 4096;
/// Longest time, in ticks, a cancelled entry waits for its sweep.
pub(crate) const SWEEP_TICKS: u64 = 10;
/// While registrations keep arriving, the timer thread returns at most this many ticks later to
/// absorb them (so a registration storm is not applied in one burst at its first deadline).
pub(crate) const ABSORB_TICKS: u64 = 5;
/// Wakers woken between one pair of batch hooks.
pub(crate) const WAKE_CHUNK: usize = 1024;
/// How many wakers ahead of the one being woken `wake_batch` prefetches.
const WAKE_AHEAD: usize = 8;

/// State shared by every thread that registers timers and the timer thread.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Tick 0: deadlines are milliseconds since this instant, rounded up.
    origin: Instant,
    /// Treiber stacks of new registrations, one per shard (a power of two of them), each on its own
    /// cache line; a thread pushes to the shard [`Shared::shard_for`] gives it.
    registrations: Box<[CachePadded<AtomicPtr<Entry>>]>,
    /// Where cancellations go (its own cache line: every cancelling owner writes it).
    cancels: CachePadded<CancelInbox>,
    /// Tick the parked timer thread will wake at ([`AWAKE`] while it runs, [`NEVER`] if no deadline).
    /// Read by every registrant, written twice per turn: kept off the registrants' written lines.
    sleeping_until: CachePadded<AtomicU64>,
    /// Wakes the timer thread.
    unparker: Unparker,
    /// Counters published by the timer thread.
    metrics: MetricsCells,
}

/// The cancellation side of the hand-off.
#[derive(Debug)]
struct CancelInbox {
    /// Treiber stack of cancelled entries that are linked in the wheel.
    stack: AtomicPtr<Entry>,
    /// Cancellations since the last sweep.
    count: AtomicUsize,
    /// The timer thread has scheduled a sweep (cancellations need not unpark it).
    sweep_armed: AtomicBool,
}

impl Shared {
    /// Shared state whose timer thread is woken through `unparker`.
    pub(crate) fn new(origin: Instant, unparker: Unparker) -> Self {
        Shared {
            origin,
            registrations: (0..registration_shards())
                .map(|_| CachePadded::new(AtomicPtr::new(std::ptr::null_mut())))
                .collect(),
            cancels: CachePadded::new(CancelInbox {
                stack: AtomicPtr::new(std::ptr::null_mut()),
                count: AtomicUsize::new(0),
                sweep_armed: AtomicBool::new(false),
            }),
            sleeping_until: CachePadded::new(AtomicU64::new(AWAKE)),
            unparker,
            metrics: MetricsCells::default(),
        }
    }

    /// The deadline `instant` in ticks, rounded up so a timer never fires early.
    pub(crate) fn tick_for(&self, instant: Instant) -> u64 {
        let Some(since) = instant.checked_duration_since(self.origin) else {
            return 0;
        };
        // ceil(nanos / 10^6) in u64 arithmetic (the whole seconds are exact milliseconds); a u128
        // division here was a visible part of every registration.
        let rounded_up = u64::from(since.subsec_nanos().div_ceil(1_000_000));
        since
            .as_secs()
            .saturating_mul(1000)
            .saturating_add(rounded_up)
            .min(MAX_TICK)
    }

    /// The current time in ticks, rounded down.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn now_tick(&self) -> u64 {
        let since = Instant::now().saturating_duration_since(self.origin);
        since
            .as_secs()
            .saturating_mul(1000)
            .saturating_add(u64::from(since.subsec_millis()))
            .min(MAX_TICK)
    }

    /// The instant at which tick `tick` begins, if representable.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn instant_of(&self, tick: u64) -> Option<Instant> {
        self.origin.checked_add(Duration::from_millis(tick))
    }

    /// Hands a new (or re-armed) registration to the timer thread; unparks it only if `tick` is earlier
    /// than the deadline it sleeps for.
    pub(crate) fn push_registration(&self, entry: NonNull<Entry>, tick: u64) {
        push(&self.registrations[self.shard_for(tick)], entry);
        // The fence orders our push before the load below, against the timer thread's fence between
        // its store of `sleeping_until` and its loads of `registrations` (Dekker, see the module doc).
        fence(Ordering::SeqCst);
        // Relaxed: ordered by the fences.
        if tick < self.sleeping_until.load(Ordering::Relaxed) {
            self.unparker.unpark();
        }
    }

    /// The owner gave up an entry; finishes the hand-off [`Entry::cancel_by_owner`] asked for.
    pub(crate) fn cancelled(&self, entry: NonNull<Entry>, action: Cancel) {
        match action {
            Cancel::Push => push(&self.cancels.stack, entry),
            Cancel::Note => {}
            Cancel::Nothing => return,
        }
        // AcqRel: our push happens before the sweep's swap of the count that sees this increment;
        // Acquire pairs with that swap (AcqRel), which the timer did after clearing `sweep_armed`, so
        // a count of 1 after a sweep sees the flag clear and unparks.
        let count = self.cancels.count.fetch_add(1, Ordering::AcqRel) + 1;
        // Relaxed: ordered by the RMW chain on the counter above.
        if count.is_multiple_of(CANCEL_BATCH)
            || (count == 1 && !self.cancels.sweep_armed.load(Ordering::Relaxed))
        {
            self.unparker.unpark();
        }
    }

    /// A snapshot of the counters.
    pub(crate) fn metrics(&self) -> TimerMetrics {
        self.metrics.read()
    }

    /// Marks the timer thread as running: registrants will not unpark it.
    pub(crate) fn enter_awake(&self) {
        // Relaxed: a registrant that reads AWAKE skips the unpark, which is fine because the thread
        // runs the parking handshake (`prepare_to_park`) before it sleeps again.
        self.sleeping_until.store(AWAKE, Ordering::Relaxed);
    }

    /// Publishes the tick the thread is about to sleep until and returns false if a registration
    /// arrived meanwhile (the thread must then run another turn instead of parking).
    pub(crate) fn prepare_to_park(&self, until: Option<u64>) -> bool {
        // Store, SeqCst fence, load: the timer half of the Dekker pair in `push_registration`.
        // Relaxed accesses: ordered by the fences.
        self.sleeping_until
            .store(until.unwrap_or(NEVER).max(AWAKE + 1), Ordering::Relaxed);
        fence(Ordering::SeqCst);
        self.registrations
            .iter()
            .all(|stack| stack.load(Ordering::Relaxed).is_null())
    }

    /// The registration shard the calling thread pushes to: threads take consecutive shards in the
    /// order of their first registration, so the first workers never share one.
    #[cfg(not(loom))]
    fn shard_for(&self, _tick: u64) -> usize {
        /// Next shard to hand out (any thread that registers takes one).
        static NEXT_SHARD: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        std::thread_local! {
            /// This thread's shard, or `usize::MAX` before its first registration.
            static SHARD: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
        }
        let index = SHARD
            .try_with(|shard| {
                if shard.get() == usize::MAX {
                    // Relaxed: only spreads threads over shards; any value is correct.
                    shard.set(NEXT_SHARD.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
                }
                shard.get()
            })
            // A registration from a thread-local destructor: any shard is correct.
            .unwrap_or(0);
        index & (self.registrations.len() - 1)
    }

    /// Under loom: the shard from the deadline, so the models' registrations still spread over
    /// several shards, deterministically (loom cannot model the std thread-local above, and an
    /// address would differ between executions).
    #[cfg(loom)]
    fn shard_for(&self, tick: u64) -> usize {
        tick as usize & (self.registrations.len() - 1)
    }
}

/// Number of registration shards: four per core, rounded up to a power of two, at most 64 (two
/// under loom, to keep the models small while still covering more than one shard).
fn registration_shards() -> usize {
    if cfg!(loom) {
        return 2;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores * 4).next_power_of_two().min(64)
}

/// Pushes `entry` onto a Treiber stack.
fn push(stack: &AtomicPtr<Entry>, entry: NonNull<Entry>) {
    // SAFETY: the pusher holds a reference to the entry until the CAS succeeds, and QUEUED (set by
    // the caller) gives it `inbox_next`.
    let link = &unsafe { entry.as_ref() }.inbox_next;
    // Relaxed load: the CAS below validates it.
    let mut head = stack.load(Ordering::Relaxed);
    loop {
        // Relaxed: published by the CAS's release.
        link.store(head, Ordering::Relaxed);
        // Release: publishes the entry (and its link) to the timer's Acquire swap.
        match stack.compare_exchange_weak(
            head,
            entry.as_ptr(),
            Ordering::Release,
            Ordering::Relaxed,
        ) {
            Ok(_) => return,
            Err(actual) => head = actual,
        }
    }
}

/// The timer thread's private state.
#[derive(Debug)]
pub(crate) struct Core {
    /// The timing wheel.
    wheel: Wheel,
    /// Wakers collected during a turn, woken at its end.
    batch: Vec<Waker>,
    /// Tick of the scheduled cancellation sweep, if any.
    sweep_at: Option<u64>,
    /// Counters, published to `Shared` after each turn.
    totals: TimerMetrics,
}

impl Core {
    /// A timer core whose wheel starts at tick `now`.
    pub(crate) fn new(now: u64) -> Self {
        Core {
            wheel: Wheel::new(now),
            batch: Vec::new(),
            sweep_at: None,
            totals: TimerMetrics::default(),
        }
    }

    /// One iteration of the timer loop at time `now` (ticks): applies registrations and due
    /// cancellations, fires every deadline `<= now`, wakes the owners. Returns the tick to wake at next.
    pub(crate) fn turn(&mut self, shared: &Shared, now: u64) -> Option<u64> {
        let now = now.max(self.wheel.elapsed());
        let drained = self.drain_registrations(shared);
        self.maybe_sweep(shared, now);
        let batch = &mut self.batch;
        let fired_before = self.totals.fired;
        let totals = &mut self.totals;
        // SAFETY: the wheel hands over unlinked entries with the timer's reference.
        self.wheel
            .advance(now, |entry| unsafe { fire(entry, batch, totals) });
        let fired = self.totals.fired - fired_before;
        self.totals.ticks += 1;
        self.totals.pending = self.wheel.len() as u64;
        // Published before waking, so a woken task already sees its own fire counted.
        shared.metrics.publish(&self.totals);
        self.wake_batch();
        #[cfg(feature = "tracing")]
        tracing::trace!(
            now,
            fired,
            pending = self.totals.pending,
            "magpie-timer tick"
        );
        #[cfg(not(feature = "tracing"))]
        let _ = fired;
        // While registrations stream in, come back soon to absorb them in small steps instead of
        // all at once at the first deadline.
        let absorb_at = (drained > 0).then(|| now.saturating_add(ABSORB_TICKS));
        [
            self.wheel.next_expiration().map(|e| e.tick),
            self.sweep_at,
            absorb_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Takes every registration shard and links each live entry into the wheel (or fires it if due).
    fn drain_registrations(&mut self, shared: &Shared) -> usize {
        let mut drained = 0;
        for stack in shared.registrations.iter() {
            // Relaxed peek: a swap of an empty shard would take its cache line exclusively for
            // nothing. A push this misses is taken next turn, and the parking handshake re-checks
            // every shard.
            if stack.load(Ordering::Relaxed).is_null() {
                continue;
            }
            // Acquire pairs with the pushers' release CAS: the entries' fields are visible.
            let head = stack.swap(std::ptr::null_mut(), Ordering::Acquire);
            drained += self.apply_registrations(head);
        }
        drained
    }

    /// Links each live entry of a taken registration stack into the wheel (or fires it if due).
    fn apply_registrations(&mut self, head: *mut Entry) -> usize {
        let mut drained = 0;
        let mut cursor = head;
        while let Some(entry) = NonNull::new(cursor) {
            drained += 1;
            // SAFETY: popped entries are alive (TIMER_REF); read the link before `dequeue` lets the
            // owner push the entry again. Relaxed: ordered by the swap above.
            cursor = unsafe { entry.as_ref() }.inbox_next.load(Ordering::Relaxed);
            // SAFETY: we popped it and hold TIMER_REF.
            match unsafe { Entry::dequeue(entry) } {
                Dequeued::Register(_) => {
                    // SAFETY: alive, not linked (fresh registration), timer holds the reference.
                    if let Err(due) = unsafe { self.wheel.insert(entry) } {
                        // SAFETY: unlinked, timer reference held.
                        unsafe { fire(due, &mut self.batch, &mut self.totals) };
                    }
                }
                Dequeued::Cancelled => self.discard(entry),
            }
        }
        drained
    }

    /// Unlinks (if needed) and releases an entry whose owner cancelled it.
    fn discard(&mut self, entry: NonNull<Entry>) {
        // SAFETY: alive (TIMER_REF); timer thread.
        if unsafe { self.wheel.is_linked(entry) } {
            // SAFETY: alive and linked.
            unsafe { self.wheel.remove(entry) };
        }
        self.totals.cancelled += 1;
        // SAFETY: unlinked, out of every stack, timer reference held.
        unsafe { Entry::release_by_timer(entry) };
    }

    /// Sweeps the cancellation stack when a batch is full or the scheduled sweep is due; otherwise
    /// schedules a sweep if cancellations are waiting.
    fn maybe_sweep(&mut self, shared: &Shared, now: u64) {
        // Relaxed: only a hint; the sweep itself synchronises through the swaps below.
        let waiting = shared.cancels.count.load(Ordering::Relaxed);
        let due = self.sweep_at.is_some_and(|at| now >= at);
        if waiting >= CANCEL_BATCH || due {
            self.sweep_at = None;
            // Relaxed store, then AcqRel swap: a cancellation whose increment follows the swap acquires
            // it and so sees the flag clear (see `Shared::cancelled`).
            shared.cancels.sweep_armed.store(false, Ordering::Relaxed);
            shared.cancels.count.swap(0, Ordering::AcqRel);
            // Acquire pairs with the pushers' release CAS.
            let mut cursor = shared
                .cancels
                .stack
                .swap(std::ptr::null_mut(), Ordering::Acquire);
            while let Some(entry) = NonNull::new(cursor) {
                // SAFETY: popped entries are alive (TIMER_REF). Relaxed: ordered by the swap.
                cursor = unsafe { entry.as_ref() }.inbox_next.load(Ordering::Relaxed);
                // SAFETY: we popped it and hold TIMER_REF.
                match unsafe { Entry::dequeue(entry) } {
                    Dequeued::Cancelled => self.discard(entry),
                    Dequeued::Register(_) => unreachable!("a cancellation without CANCELLED"),
                }
            }
        } else if waiting > 0 && self.sweep_at.is_none() {
            self.sweep_at = Some(now.saturating_add(SWEEP_TICKS));
            // Relaxed: only saves cancellations an unpark; a stale `false` costs one spurious unpark.
            shared.cancels.sweep_armed.store(true, Ordering::Relaxed);
        }
    }

    /// Wakes the collected wakers in chunks between the executor's batch hooks.
    ///
    /// A wake usually writes to the memory its waker points at (a task's state word), which the
    /// timer thread has not touched: a cache miss per wake. The waker [`WAKE_AHEAD`] places on has
    /// its data pointer prefetched, so those misses overlap instead of following one another.
    fn wake_batch(&mut self) {
        let hooks = hooks::get();
        let mut wakers = self.batch.drain(..);
        while !wakers.as_slice().is_empty() {
            if let Some(hooks) = hooks {
                guarded(hooks.begin);
            }
            for _ in 0..WAKE_CHUNK {
                let Some(waker) = wakers.next() else { break };
                if let Some(ahead) = wakers.as_slice().get(WAKE_AHEAD) {
                    prefetch_read(ahead.data());
                }
                guarded(move || waker.wake());
            }
            if let Some(hooks) = hooks {
                guarded(hooks.end);
            }
        }
    }
}

/// Fires one entry, collecting its waker and counting it.
///
/// # Safety
/// Timer thread only; `entry` is unlinked and the timer holds its reference, which this gives up.
unsafe fn fire(entry: NonNull<Entry>, batch: &mut Vec<Waker>, totals: &mut TimerMetrics) {
    // SAFETY: forwarded contract.
    match unsafe { Entry::fire(entry) } {
        Fired::Wake(waker) => {
            totals.fired += 1;
            batch.push(waker);
        }
        Fired::Seen => totals.fired += 1,
        Fired::Cancelled => {}
    }
}

/// Runs `f`, containing a panic so the timer thread survives a misbehaving waker or hook (and a
/// waker dropped with a freed entry cannot unwind out of the timer's bookkeeping).
pub(crate) fn guarded(f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        #[cfg(feature = "tracing")]
        tracing::error!("magpie-timer: a waker or wake hook panicked; the panic was contained");
    }
}

#[cfg(test)]
#[path = "driver_tests.rs"]
mod tests;
