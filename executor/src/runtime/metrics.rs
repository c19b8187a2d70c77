//! A snapshot of a runtime's counters.

/// Counters of one runtime (and of the process-wide timer), read without blocking the workers.
/// Each counter is monotonic except the depths, gauges and `tasks_alive`; counters kept per worker
/// are summed, so a snapshot taken while the runtime runs is plausible rather than exact.
///
/// ```
/// let rt = magpie::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     for i in 0..10 {
///         magpie::spawn(async move { i }).await.unwrap();
///     }
/// });
/// let metrics = rt.handle().metrics();
/// assert!(metrics.tasks_spawned >= 10);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Worker threads.
    pub workers: usize,
    /// Tasks spawned (including `spawn_blocking` jobs).
    pub tasks_spawned: u64,
    /// Tasks alive: spawned and not yet finished.
    pub tasks_alive: u64,
    /// Tasks finished (completed, panicked or cancelled).
    pub tasks_completed: u64,
    /// Task runs by the workers (polls, and cancellations they carried out).
    pub polls: u64,
    /// Successful steals from sibling workers (pulls from the injector are not counted here).
    pub steals: u64,
    /// Tasks moved by those steals.
    pub stolen_tasks: u64,
    /// Times a worker parked for lack of work.
    pub parks: u64,
    /// Times a parked worker was woken.
    pub unparks: u64,
    /// Tasks waiting in the shared injector queue.
    pub injector_depth: usize,
    /// Tasks in each worker's local queue.
    pub local_queue_depths: Vec<usize>,
    /// Threads of the blocking pool alive now.
    pub blocking_threads: usize,
    /// Timers registered and not yet fired or cancelled (process-wide).
    pub timers_pending: u64,
    /// Timers fired since the process started (process-wide).
    pub timers_fired: u64,
}
