//! The executor's wake-batch hooks: two plain function pointers the timer thread calls around each
//! chunk of wakes. Stored once in a `OnceLock`; when unset, the timer pays one acquire load per turn.

use std::sync::OnceLock;

/// The installed pair of hooks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WakeBatchHooks {
    /// Called before the first `Waker::wake` of a chunk.
    pub(crate) begin: fn(),
    /// Called after the last `Waker::wake` of a chunk.
    pub(crate) end: fn(),
}

/// The process-wide hooks (plain std: loom models never install hooks).
static HOOKS: OnceLock<WakeBatchHooks> = OnceLock::new();

/// Install functions the timer thread calls around each batch of wakes it performs: `begin()` before the
/// first `Waker::wake` of a batch, `end()` after the last. magpie uses them to defer unparking its workers
/// until the whole batch is queued (one notification per batch). Set once (later calls are ignored and
/// return false). Plain fn pointers: zero cost when unset.
///
/// A batch holds up to 1024 wakes. The hooks run on the timer thread: keep them short and never block
/// in them. A panic in a hook is caught and does not stop the timer thread.
///
/// ```
/// fn begin() {}
/// fn end() {}
/// let first = magpie_timer::set_wake_batch_hooks(begin, end);
/// assert!(first);
/// assert!(!magpie_timer::set_wake_batch_hooks(begin, end));
/// ```
pub fn set_wake_batch_hooks(begin: fn(), end: fn()) -> bool {
    let mut installed = false;
    HOOKS.get_or_init(|| {
        installed = true;
        WakeBatchHooks { begin, end }
    });
    installed
}

/// The installed hooks, if any.
pub(crate) fn get() -> Option<&'static WakeBatchHooks> {
    HOOKS.get()
}
