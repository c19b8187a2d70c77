//! Public-API tests: sleep, timeout, interval, metrics, from plain threads via `block_on`.

use std::time::{Duration, Instant};

use futures::executor::block_on;
use magpie_timer::{sleep, sleep_until, timeout, Elapsed};

#[test]
fn sleep_is_never_early() {
    for ms in [0u64, 1, 2, 3, 5, 8, 13] {
        let requested = Duration::from_millis(ms);
        let start = Instant::now();
        block_on(sleep(requested));
        assert!(
            start.elapsed() >= requested,
            "slept {:?} < {:?}",
            start.elapsed(),
            requested
        );
    }
}

#[test]
fn timeout_both_ways() {
    assert_eq!(
        block_on(timeout(Duration::from_secs(60), async { 5 })),
        Ok(5)
    );
    let result = block_on(timeout(
        Duration::from_millis(2),
        futures::future::pending::<()>(),
    ));
    assert_eq!(result, Err::<(), Elapsed>(result.unwrap_err()));
    let deadline = Instant::now() + Duration::from_millis(3);
    let _ = block_on(sleep_until(deadline));
    assert!(Instant::now() >= deadline);
}
