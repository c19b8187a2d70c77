//! Driving one future to completion on the calling thread (the heart of `block_on`).

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Wakes the blocked thread. `notified` makes a wake that lands between a `Pending` poll and the
/// `park` not get lost: the thread only parks while it is false.
struct Signal {
    thread: Thread,
    notified: AtomicBool,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Release pairs with the Acquire swap in `run`: what the waker wrote is seen by the poll.
        if !self.notified.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}

/// Polls `future` on this thread, parking between polls until woken.
pub(crate) fn run<F: Future>(future: F) -> F::Output {
    let signal = Arc::new(Signal {
        thread: thread::current(),
        notified: AtomicBool::new(false),
    });
    let waker = Waker::from(Arc::clone(&signal));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // `park` may return spuriously; only a wake sets the flag.
        while !signal.notified.swap(false, Ordering::Acquire) {
            thread::park();
        }
    }
}
