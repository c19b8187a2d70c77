//! Process memory measurements: peak resident set (from `getrusage`) and current resident set.
//!
//! `ru_maxrss` is the high-water mark of the whole process (all threads), in KiB on Linux. It never
//! goes down, so a benchmark process measures one workload per process.

/// The peak resident set size of this process so far, in KiB (0 if unavailable).
pub fn peak_rss_kib() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` points to writable memory of the right type and size; getrusage only writes
    // into it, and a zeroed rusage is a valid value of this plain C struct even if the call fails.
    let (rc, usage) = unsafe {
        (
            libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()),
            usage.assume_init(),
        )
    };
    if rc != 0 {
        return 0;
    }
    let max = u64::try_from(usage.ru_maxrss).unwrap_or(0);
    // macOS reports bytes, Linux and the BSDs KiB.
    if cfg!(target_os = "macos") {
        max / 1024
    } else {
        max
    }
}

/// The current resident set size in KiB, from `/proc/self/statm` (Linux only; `None` elsewhere).
pub fn current_rss_kib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let resident_pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(resident_pages * u64::try_from(page_size).ok()? / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_covers_a_large_touched_allocation() {
        assert!(peak_rss_kib() > 0);
        // Touch 64 MiB so it is resident: both the current and the peak resident set must include it.
        let block = vec![1u8; 64 << 20];
        assert_eq!(
            block.iter().step_by(4096).map(|&b| b as u64).sum::<u64>(),
            (64 << 20) / 4096
        );
        let peak = peak_rss_kib();
        assert!(peak >= 64 * 1024, "peak {peak} KiB");
        if let Some(current) = current_rss_kib() {
            assert!(
                current >= 64 * 1024 && current <= peak + 1024,
                "current {current} peak {peak}"
            );
        }
        drop(block);
    }
}
