//! Task ids: unique for the life of the process, handed out in blocks so that spawning from several
//! threads does not contend on one counter.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A task's id, unique among all tasks of the process. Shown in `JoinError`, tracing events and
/// panic reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u64);

const BLOCK: u64 = 1024;
static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The next id of this thread's block, and the end of the block.
    static LOCAL: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

impl Id {
    pub(crate) fn next() -> Id {
        // `try_with`: spawning from a thread-local destructor still works, from the global counter.
        LOCAL
            .try_with(|local| {
                let (mut next, mut end) = local.get();
                if next == end {
                    // Relaxed: uniqueness needs only the atomicity of the RMW, not any ordering.
                    next = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
                    end = next + BLOCK;
                }
                local.set((next + 1, end));
                Id(next)
            })
            .unwrap_or_else(|_| Id(NEXT_BLOCK.fetch_add(1, Ordering::Relaxed)))
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_across_threads() {
        let ids: Vec<Vec<Id>> = (0..4)
            .map(|_| std::thread::spawn(|| (0..3000).map(|_| Id::next()).collect()))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let all: HashSet<Id> = ids.iter().flatten().copied().collect();
        assert_eq!(all.len(), 4 * 3000);
    }
}
