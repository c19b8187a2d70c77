//! A read prefetch hint, used to overlap the cache misses of a walk over many timer entries (and of
//! the wakes that follow: `driver::Core::wake_batch` prefetches what the next wakers point at).
//!
//! A wheel slot holds pointers to entries allocated all over the heap; reading them one after the
//! other costs a cache miss each, one at a time. Because a slot is an array, the timer thread knows
//! the entries it will read next and asks for them a few steps early, so their misses overlap. The
//! hint never faults and changes no value. On targets without a stable prefetch intrinsic, and under
//! loom and Miri, it does nothing.

/// Hints the CPU to bring the cache line at `ptr` into cache for a read.
#[inline(always)]
pub(crate) fn prefetch_read<T>(ptr: *const T) {
    #[cfg(all(target_arch = "x86_64", not(loom), not(miri)))]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is a hint: it reads no memory architecturally and cannot fault, whatever
        // the address, and SSE (which provides it) is part of the x86_64 baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(ptr.cast::<i8>()) };
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom), not(miri))))]
    let _ = ptr;
}
