//! `timeout`: give up on a slow operation, like `asyncio.wait_for`.
//!
//! The asyncio original:
//!
//! ```python
//! import asyncio
//!
//! async def fetch(url, latency):
//!     await asyncio.sleep(latency)
//!     return f"{url}: done"
//!
//! async def main():
//!     print(await asyncio.wait_for(fetch("https://fast.example", 0.5), timeout=1))
//!     try:
//!         await asyncio.wait_for(fetch("https://hung.example", 3600), timeout=1)
//!     except TimeoutError:
//!         print("https://hung.example: gave up after 1 s")
//!
//! asyncio.run(main())
//! ```
//!
//! `magpie::time::timeout(duration, future)` returns `Ok(output)` if the future finishes in time
//! and `Err(Elapsed)` if not. There is no exception: the error is a value to match on (or to
//! propagate with `?`). When time runs out, the inner future is dropped, which cancels it, as
//! `wait_for` cancels its task.
//!
//! Run it with `cargo run --example timeout`.

use std::time::Duration;

use magpie::time::{timeout, Elapsed};

#[magpie::main]
pub async fn main() {
    let budget = Duration::from_secs(1);
    let fast = fetch_within("https://fast.example", Duration::from_millis(500), budget).await;
    println!("{fast:?}");
    let hung = fetch_within("https://hung.example", Duration::from_secs(3600), budget).await;
    match hung {
        Ok(body) => println!("{body}"),
        Err(error) => println!("https://hung.example: gave up after {budget:?} ({error})"),
    }
}

/// Simulates fetching `url`: waits `latency`, then answers.
pub async fn fetch(url: &str, latency: Duration) -> String {
    magpie::time::sleep(latency).await;
    format!("{url}: done")
}

/// Fetches `url` (which takes `latency`), but gives up after `budget`.
pub async fn fetch_within(
    url: &str,
    latency: Duration,
    budget: Duration,
) -> Result<String, Elapsed> {
    timeout(budget, fetch(url, latency)).await
}
