//! `yield_now`: let the other tasks run.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields to the scheduler once: the task goes behind every task its worker already has queued,
/// like `await asyncio.sleep(0)`.
///
/// ```
/// # magpie::block_on(async {
/// magpie::task::yield_now().await;
/// # });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // A wake while running makes the task re-queue itself at the back when this poll ends.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
