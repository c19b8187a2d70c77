//! A million sleepers on one plain thread: every one completes, none early. (Smaller under Miri.)

use std::time::{Duration, Instant};

use futures::executor::block_on;
use futures::stream::{FuturesUnordered, StreamExt};
use magpie_timer::sleep_until;

const SLEEPERS: u64 = if cfg!(miri) { 200 } else { 1_000_000 };

#[test]
fn a_million_sleepers_complete_never_early() {
    let mut sleepers: FuturesUnordered<_> = (0..SLEEPERS)
        .map(|i| {
            async move {
                // Deadlines 20 ms after the first poll, spread over 100 ms by index.
                let offset =
                    Duration::from_millis(20) + Duration::from_nanos(i * 100_000_000 / SLEEPERS);
                let deadline = Instant::now() + offset;
                sleep_until(deadline).await;
                Instant::now() >= deadline
            }
        })
        .collect();
    let (completed, early) = block_on(async {
        let (mut completed, mut early) = (0u64, 0u64);
        while let Some(on_time) = sleepers.next().await {
            completed += 1;
            if !on_time {
                early += 1;
            }
        }
        (completed, early)
    });
    assert_eq!(completed, SLEEPERS);
    assert_eq!(early, 0, "timers fired early");
    let metrics = magpie_timer::metrics();
    assert!(
        metrics.fired >= completed / 2,
        "most sleepers went through the wheel: {metrics:?}"
    );
}
