//! Shared helpers of the loom models (included with `#[path]`, not a test of its own).

use std::task::{Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;

/// A waker counting its wakes in a loom atomic.
pub struct CountingWaker {
    count: AtomicUsize,
}

impl CountingWaker {
    /// A waker and the handle to read its count.
    pub fn new() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker {
            count: AtomicUsize::new(0),
        });
        (counter.clone(), waker_for(counter))
    }

    /// Wakes so far.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// `std::task::Wake` needs a std `Arc`; wrap the loom one.
struct Bridge(Arc<CountingWaker>);

impl Wake for Bridge {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.count.fetch_add(1, Ordering::SeqCst);
    }
}

fn waker_for(counter: Arc<CountingWaker>) -> Waker {
    Waker::from(std::sync::Arc::new(Bridge(counter)))
}
