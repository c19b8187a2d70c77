//! Pool configuration: how many workers, their names, stack size and start/stop hooks.

use std::fmt;
use std::sync::Arc;

/// Pool configuration, given to `Pool::start`.
///
/// `Config::default()` uses one worker per available core and names the threads
/// `magpie-worker-{index}`.
#[derive(Clone)]
pub struct Config {
    /// Number of worker threads; at least 1 (`Pool::start` returns `InvalidInput` for 0).
    pub worker_threads: usize,
    /// Maps a worker index to its thread name.
    pub thread_name: Arc<dyn Fn(usize) -> String + Send + Sync>,
    /// Stack size of each worker thread in bytes; `None` keeps the platform default.
    pub stack_size: Option<usize>,
    /// Called on each worker thread (with its index) before it starts running tasks.
    pub on_thread_start: Option<Arc<dyn Fn(usize) + Send + Sync>>,
    /// Called on each worker thread (with its index) after it stopped running tasks.
    pub on_thread_stop: Option<Arc<dyn Fn(usize) + Send + Sync>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            worker_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            thread_name: Arc::new(|index| format!("magpie-worker-{index}")),
            stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("worker_threads", &self.worker_threads)
            .field("stack_size", &self.stack_size)
            .field("on_thread_start", &self.on_thread_start.is_some())
            .field("on_thread_stop", &self.on_thread_stop.is_some())
            .finish_non_exhaustive()
    }
}
