//! A progress bar for long runs, shown only on a terminal.
//!
//! A helper thread waits [`SHOW_AFTER`]; if the run is still going and stderr is a terminal it draws
//! `completed / total` with `indicatif`, refreshing ten times a second. Short runs and runs whose
//! output goes to a file or pipe print nothing. The counter is read with `Relaxed` loads: it is a
//! display hint and synchronizes with nothing.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Runs shorter than this show no progress.
pub const SHOW_AFTER: Duration = Duration::from_secs(2);

const REFRESH: Duration = Duration::from_millis(100);

/// A running progress reporter; [`Progress::finish`] stops it and clears the bar.
pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts reporting `completed` out of `total` if `enabled` and stderr is a terminal.
    pub fn start(total: u64, completed: Arc<AtomicU64>, enabled: bool) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        if !enabled || !std::io::stderr().is_terminal() {
            return Self { done, thread: None };
        }
        let stop = Arc::clone(&done);
        let thread = std::thread::Builder::new()
            .name("fanout-progress".into())
            .spawn(move || show(total, &completed, &stop))
            .ok();
        Self { done, thread }
    }

    /// Stops the reporter and waits for its thread.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        // Relaxed: the flag only ends a display loop; nothing is published through it.
        self.done.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

fn show(total: u64, completed: &AtomicU64, done: &AtomicBool) {
    let started = Instant::now();
    while started.elapsed() < SHOW_AFTER {
        if done.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep(REFRESH);
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed:>4} [{bar:40}] {pos}/{len} fetches ({per_sec})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    while !done.load(Ordering::Relaxed) {
        bar.set_position(completed.load(Ordering::Relaxed));
        std::thread::sleep(REFRESH);
    }
    bar.finish_and_clear();
}
