//! `bounded`: a fan-out with at most N fetches in flight, like `asyncio.Semaphore`.
//!
//! The asyncio original:
//!
//! ```python
//! import asyncio
//!
//! async def fetch(i, limit):
//!     async with limit:               # wait for one of the 10 permits
//!         await asyncio.sleep(0.1)    # the network
//!         return i * i
//!
//! async def main():
//!     limit = asyncio.Semaphore(10)
//!     results = await asyncio.gather(*(fetch(i, limit) for i in range(100)))
//!     print(sum(results))
//!
//! asyncio.run(main())
//! ```
//!
//! magpie has no semaphore of its own: any runtime-independent one works, here
//! `async_lock::Semaphore`. The tasks share it through an `Arc` (they may run on different
//! threads), and the permit is a guard: it is given back when it is dropped at the end of the
//! scope, however the scope ends, the Rust spelling of `async with`. All 100 tasks are spawned at
//! once; only 10 are ever past `acquire`, so 100 fetches of 100 ms take about 1 s.
//!
//! The same pattern at a million tasks is `cargo run --release --example fanout -- --limit N`.
//!
//! Run it with `cargo run --example bounded`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_lock::Semaphore;

#[magpie::main]
pub async fn main() {
    let start = Instant::now();
    let report = fan_out(100, 10, Duration::from_millis(100)).await;
    println!(
        "{} fetches, at most {} in flight, sum of results {}, in {:.2?}",
        report.results.len(),
        report.peak_in_flight,
        report.results.iter().sum::<u64>(),
        start.elapsed()
    );
}

/// What [`fan_out`] observed.
#[derive(Debug)]
pub struct Report {
    /// Each fetch's result, in the order the fetches were started.
    pub results: Vec<u64>,
    /// The most fetches that were ever in flight at once.
    pub peak_in_flight: usize,
}

/// Counts the fetches in flight, and the most there ever were.
#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    peak: AtomicUsize,
}

/// Simulates fetch number `i`: waits for a permit, then `latency`, and returns `i * i`.
async fn fetch(i: u64, limit: Arc<Semaphore>, in_flight: Arc<InFlight>, latency: Duration) -> u64 {
    let _permit = limit.acquire().await;
    // Relaxed: the counters only need to be exact per variable (each is one atomic); the final
    // read in `fan_out` comes after every task was joined, which orders it after these updates.
    let now = in_flight.now.fetch_add(1, Ordering::Relaxed) + 1;
    in_flight.peak.fetch_max(now, Ordering::Relaxed);
    magpie::time::sleep(latency).await;
    in_flight.now.fetch_sub(1, Ordering::Relaxed);
    i * i
}

/// Spawns `count` fetches of `latency` each, at most `limit` of them in flight at once, and
/// gathers their results.
pub async fn fan_out(count: u64, limit: usize, latency: Duration) -> Report {
    let semaphore = Arc::new(Semaphore::new(limit));
    let in_flight = Arc::new(InFlight::default());
    let handles: Vec<_> = (0..count)
        .map(|i| {
            let task = fetch(i, Arc::clone(&semaphore), Arc::clone(&in_flight), latency);
            magpie::spawn(task)
        })
        .collect();
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    Report {
        results,
        peak_in_flight: in_flight.peak.load(Ordering::Relaxed),
    }
}
