//! `Builder`: configure and start a runtime.

use std::fmt;
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use magpie_scheduler::{Config, Pool};

use super::blocking::BlockingPool;
use super::shared::Shared;
use super::{context, Handle, Runtime};

/// Configures a runtime. Misuse (zero threads) is reported by [`build`](Builder::build) as an
/// `InvalidInput` error, never a panic.
///
/// ```
/// let rt = magpie::runtime::Builder::new()
///     .worker_threads(2)
///     .thread_name("fetcher")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 7 }), 7);
///
/// let err = magpie::runtime::Builder::new().worker_threads(0).build().unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// ```
pub struct Builder {
    worker_threads: Option<usize>,
    thread_name: String,
    thread_stack_size: Option<usize>,
    max_blocking_threads: usize,
    blocking_keep_alive: Duration,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Default settings: one worker per core, up to 512 blocking threads kept alive 10 s when idle.
    pub fn new() -> Builder {
        Builder {
            worker_threads: None,
            thread_name: "magpie-worker".to_owned(),
            thread_stack_size: None,
            max_blocking_threads: 512,
            blocking_keep_alive: Duration::from_secs(10),
        }
    }

    /// The number of worker threads (default: the number of cores). Zero makes `build` fail.
    pub fn worker_threads(mut self, count: usize) -> Builder {
        self.worker_threads = Some(count);
        self
    }

    /// The name prefix of the runtime's threads: workers are `NAME-0`, `NAME-1`, ...; blocking
    /// threads `NAME-blocking-N`. Default `magpie-worker`.
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = name.into();
        self
    }

    /// The stack size of the runtime's threads, in bytes (default: the platform's).
    pub fn thread_stack_size(mut self, bytes: usize) -> Builder {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// The most threads the blocking pool starts (default 512). Zero makes `build` fail.
    pub fn max_blocking_threads(mut self, count: usize) -> Builder {
        self.max_blocking_threads = count;
        self
    }

    /// How long an idle blocking thread waits for work before it exits (default 10 s).
    pub fn blocking_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.blocking_keep_alive = keep_alive;
        self
    }

    /// Starts the runtime's worker threads.
    pub fn build(self) -> io::Result<Runtime> {
        let workers =
            match self.worker_threads {
                Some(0) => return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "magpie: worker_threads must be at least 1 (got 0); leave it unset for one \
                     worker per core",
                )),
                Some(count) => count,
                None => num_cpus::get().max(1),
            };
        if self.max_blocking_threads == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "magpie: max_blocking_threads must be at least 1 (got 0)",
            ));
        }
        install_timer_batch_hooks();

        // Workers start before the handle exists; they read it from here at first use.
        let handle_cell: Arc<OnceLock<Handle>> = Arc::new(OnceLock::new());
        let on_start = Arc::clone(&handle_cell);
        let name = self.thread_name.clone();
        let config = Config {
            worker_threads: workers,
            thread_name: Arc::new(move |index| format!("{name}-{index}")),
            stack_size: self.thread_stack_size,
            on_thread_start: Some(Arc::new(move |_| {
                context::enter_worker(Arc::clone(&on_start))
            })),
            on_thread_stop: Some(Arc::new(|_| context::exit_worker())),
        };
        let pool = Pool::start(config)?;
        let blocking = BlockingPool::new(
            self.max_blocking_threads,
            self.blocking_keep_alive,
            format!("{}-blocking", self.thread_name),
            self.thread_stack_size,
        );
        let handle = Handle {
            shared: Arc::new(Shared::new(Arc::clone(pool.shared()), blocking)),
        };
        let _ = handle_cell.set(handle.clone());
        Ok(Runtime {
            handle,
            pool: Some(pool),
        })
    }
}

/// Lets the timer thread queue a whole batch of expired sleepers before waking any worker.
fn install_timer_batch_hooks() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        magpie_timer::set_wake_batch_hooks(
            magpie_scheduler::begin_remote_batch,
            magpie_scheduler::end_remote_batch,
        );
    });
}
