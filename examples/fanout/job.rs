//! The fan-out job on magpie: spawn N fetches, each sleeps its latency then checksums a response;
//! gather every result and measure.
//!
//! Per pending fetch the task holds only its index, an `Arc` of the shared run state and the timer
//! entry; the 1 KiB response exists only during the poll that finishes the fetch. Each fetch returns
//! a 12-byte [`FetchOutcome`]; the gatherer turns those into a `Vec<u32>` of lateness microseconds.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use async_lock::Semaphore;
use magpie::runtime::Builder;

use super::latency::{ideal_duration, LatencyModel};
use super::progress::Progress;
use super::report::{FanoutReport, RuntimeCounters};
use super::rusage::peak_rss_kib;
use super::stats::{micros_u32, LatenessSummary};
use super::work::respond_and_checksum;

/// What to run.
#[derive(Clone, Debug, PartialEq)]
pub struct FanoutConfig {
    /// Number of fetches (at least 1).
    pub fetches: u64,
    /// Latency model of the simulated network.
    pub latency: LatencyModel,
    /// At most this many fetches in flight.
    pub limit: Option<usize>,
    /// Worker threads (`None`: the runtime's default).
    pub workers: Option<usize>,
    /// Seed of the latency draws.
    pub seed: u64,
    /// Show a progress bar on a terminal for long runs.
    pub progress: bool,
}

/// What one fetch reports back to the gatherer.
#[derive(Clone, Copy, Debug)]
pub struct FetchOutcome {
    /// Microseconds between the deadline and the resumption.
    pub lateness_us: u32,
    /// Whether the fetch resumed before its deadline.
    pub early: bool,
    /// Checksum of the response.
    pub checksum: u32,
}

/// State shared by every fetch of a run.
struct Shared {
    latency: LatencyModel,
    seed: u64,
    semaphore: Option<Semaphore>,
    completed: Arc<AtomicU64>,
}

/// One simulated fetch: wait for a permit (if limited), sleep the latency, then do the work.
async fn fetch(shared: Arc<Shared>, index: u64) -> FetchOutcome {
    let _permit = match &shared.semaphore {
        Some(semaphore) => Some(semaphore.acquire().await),
        None => None,
    };
    let latency = shared.latency.sample(shared.seed, index);
    let deadline = Instant::now() + latency;
    magpie::time::sleep(latency).await;
    let resumed = Instant::now();
    let checksum = respond_and_checksum(index);
    // Relaxed: a progress display counter; the results travel through the join handles.
    shared.completed.fetch_add(1, Ordering::Relaxed);
    FetchOutcome {
        lateness_us: micros_u32(resumed.saturating_duration_since(deadline)),
        early: resumed < deadline,
        checksum,
    }
}

/// Runs the fan-out job on a new magpie runtime and measures it.
///
/// Errors only if the runtime cannot be built; a fetch that panics is a bug in this example and
/// panics the run with the join error.
pub fn run(config: &FanoutConfig) -> io::Result<FanoutReport> {
    let runtime = match config.workers {
        Some(workers) => Builder::new().worker_threads(workers).build()?,
        None => Builder::new().build()?,
    };
    let completed = Arc::new(AtomicU64::new(0));
    let shared = Arc::new(Shared {
        latency: config.latency,
        seed: config.seed,
        semaphore: config.limit.map(Semaphore::new),
        completed: Arc::clone(&completed),
    });
    let fetches = config.fetches;
    let progress = Progress::start(fetches, completed, config.progress);
    let started = Instant::now();
    let (mut lateness, early, checksum) = runtime.block_on(async move {
        let capacity = usize::try_from(fetches).unwrap_or(usize::MAX);
        let mut handles = Vec::with_capacity(capacity);
        for index in 0..fetches {
            handles.push(magpie::spawn(fetch(Arc::clone(&shared), index)));
        }
        drop(shared);
        let mut lateness = Vec::with_capacity(capacity);
        let (mut early, mut checksum) = (0u64, 0u64);
        for handle in handles {
            let outcome = handle.await.expect("a fetch task failed");
            lateness.push(outcome.lateness_us);
            early += u64::from(outcome.early);
            checksum = checksum.wrapping_add(u64::from(outcome.checksum));
        }
        (lateness, early, checksum)
    });
    let wall = started.elapsed();
    progress.finish();
    let peak_rss_kib = peak_rss_kib();
    let metrics = runtime.handle().metrics();
    let ideal = ideal_duration(&config.latency, config.seed, fetches, config.limit);
    let wall_s = wall.as_secs_f64();
    Ok(FanoutReport {
        tasks: fetches,
        workers: metrics.workers,
        latency: config.latency.to_string(),
        limit: config.limit,
        seed: config.seed,
        wall_s,
        ideal_s: ideal.as_secs_f64(),
        overhead_s: wall_s - ideal.as_secs_f64(),
        fetches_per_s: fetches as f64 / wall_s.max(f64::MIN_POSITIVE),
        lateness: LatenessSummary::from_samples(&mut lateness, early),
        peak_rss_kib,
        checksum,
        metrics: RuntimeCounters {
            steals: metrics.steals,
            parks: metrics.parks,
            unparks: metrics.unparks,
            timers_fired: metrics.timers_fired,
            polls: metrics.polls,
        },
    })
}
