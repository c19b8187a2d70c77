//! `cancel`: stop a running task, like `task.cancel()`, and clean up after it.
//!
//! The asyncio original:
//!
//! ```python
//! import asyncio
//!
//! async def worker():
//!     try:
//!         while True:
//!             print("working")
//!             await asyncio.sleep(0.25)
//!     finally:
//!         print("cleaning up")
//!
//! async def main():
//!     task = asyncio.create_task(worker())
//!     await asyncio.sleep(1)
//!     task.cancel()
//!     try:
//!         await task
//!     except asyncio.CancelledError:
//!         print("worker cancelled")
//!
//! asyncio.run(main())
//! ```
//!
//! [`JoinHandle::abort`](magpie::task::JoinHandle::abort) is `task.cancel()`. There is no
//! `CancelledError` raised inside the task: the task's future is simply dropped at the `.await`
//! where it was suspended, so nothing after that point runs. Clean-up goes in `Drop`, which runs
//! for every local alive at that point, the Rust spelling of `finally`. Awaiting the handle then
//! yields a [`JoinError`](magpie::task::JoinError) whose `is_cancelled()` is true.
//!
//! Run it with `cargo run --example cancel`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[magpie::main]
pub async fn main() {
    let outcome = run(Duration::from_millis(250), Duration::from_secs(1)).await;
    println!(
        "worker cancelled: {}, after {} rounds, cleaned up: {}",
        outcome.cancelled, outcome.rounds, outcome.cleaned_up
    );
}

/// What [`run`] observed.
#[derive(Debug)]
pub struct Outcome {
    /// Whether awaiting the aborted task reported a cancellation.
    pub cancelled: bool,
    /// How many rounds of work the task did before it was cancelled.
    pub rounds: usize,
    /// Whether the task's clean-up (its `Drop` guard) ran.
    pub cleaned_up: bool,
}

/// Runs the task's clean-up when the task's future is dropped, however it ends.
struct CleanUp(Arc<AtomicBool>);

impl Drop for CleanUp {
    fn drop(&mut self) {
        println!("cleaning up");
        // Relaxed: read by `run` only after joining the task, which orders the two.
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Works in rounds of `round`, forever: only cancellation stops it. The task owns `_clean_up`,
/// so dropping the task's future runs it, even if the task is cancelled before its first poll.
async fn worker(round: Duration, rounds: Arc<AtomicUsize>, _clean_up: CleanUp) {
    loop {
        println!("working");
        // Relaxed: read by `run` only after joining the task, which orders the two.
        rounds.fetch_add(1, Ordering::Relaxed);
        magpie::time::sleep(round).await;
    }
}

/// Starts [`worker`] with rounds of `round`, lets it run for `run_for`, cancels it and reports
/// what happened.
pub async fn run(round: Duration, run_for: Duration) -> Outcome {
    let rounds = Arc::new(AtomicUsize::new(0));
    let cleaned_up = Arc::new(AtomicBool::new(false));
    let clean_up = CleanUp(Arc::clone(&cleaned_up));
    let task = magpie::spawn(worker(round, Arc::clone(&rounds), clean_up));

    magpie::time::sleep(run_for).await;
    task.abort();
    let cancelled = match task.await {
        Ok(()) => false,
        Err(error) => error.is_cancelled(),
    };
    // Relaxed loads suffice: awaiting the handle above happens after the task's future was
    // dropped (the runtime drops it before it reports the cancellation), so they see its stores.
    Outcome {
        cancelled,
        rounds: rounds.load(Ordering::Relaxed),
        cleaned_up: cleaned_up.load(Ordering::Relaxed),
    }
}
