//! `gather`: run several fetches at once and collect their results, like `asyncio.gather`.
//!
//! The asyncio original:
//!
//! ```python
//! import asyncio
//!
//! async def fetch(url, delay):
//!     await asyncio.sleep(delay)
//!     return f"{url}: done"
//!
//! async def main():
//!     urls = ["https://a.example", "https://b.example", "https://c.example"]
//!     delays = [1.0, 0.66, 0.33]
//!     results = await asyncio.gather(*(fetch(u, d) for u, d in zip(urls, delays)))
//!     print(results)  # in the order of `urls`, after ~1 s rather than ~2 s
//!
//! asyncio.run(main())
//! ```
//!
//! `magpie::spawn` is `asyncio.create_task`: the task starts at once, on any worker thread.
//! Awaiting the handles one after another is `gather`: the results come back in the order the
//! tasks were started, whichever finished first, and the total time is the slowest fetch, not the
//! sum. A [`JoinSet`](magpie::task::JoinSet) gives them in completion order instead (asyncio's
//! `as_completed`); the second half of `main` shows it.
//!
//! Because tasks may run on other threads, a spawned future must own its data (`'static`) and be
//! `Send`: each task gets its own `String` rather than borrowing from `urls`.
//!
//! Run it with `cargo run --example gather`.

use std::time::{Duration, Instant};

use magpie::task::JoinSet;

#[magpie::main]
pub async fn main() {
    let urls = [
        "https://a.example",
        "https://b.example",
        "https://c.example",
    ];

    let start = Instant::now();
    let results = gather(&urls, Duration::from_secs(1)).await;
    println!("gathered in {:.2?}: {results:?}", start.elapsed());

    let start = Instant::now();
    for result in as_completed(&urls, Duration::from_secs(1)).await {
        println!("{result}");
    }
    println!("all completed in {:.2?}", start.elapsed());
}

/// Simulates fetching `url`: waits `delay`, then answers.
pub async fn fetch(url: String, delay: Duration) -> String {
    magpie::time::sleep(delay).await;
    format!("{url}: done")
}

/// The delay of the `index`th of `count` fetches: the first takes `longest`, later ones less, so
/// they finish in the reverse of the order they started.
fn delay_of(index: usize, count: usize, longest: Duration) -> Duration {
    longest * (count - index) as u32 / count as u32
}

/// Fetches every url concurrently and returns the answers in the order of `urls` (`gather`).
pub async fn gather(urls: &[&str], longest: Duration) -> Vec<String> {
    let handles: Vec<_> = urls
        .iter()
        .enumerate()
        .map(|(index, url)| {
            let delay = delay_of(index, urls.len(), longest);
            magpie::spawn(fetch(url.to_string(), delay))
        })
        .collect();
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        // `unwrap` re-raises a task's panic here, as `gather` re-raises a task's exception.
        results.push(handle.await.unwrap());
    }
    results
}

/// Fetches every url concurrently and returns the answers in the order they arrive
/// (`asyncio.as_completed`).
pub async fn as_completed(urls: &[&str], longest: Duration) -> Vec<String> {
    let mut set = JoinSet::new();
    for (index, url) in urls.iter().enumerate() {
        set.spawn(fetch(url.to_string(), delay_of(index, urls.len(), longest)));
    }
    let mut results = Vec::with_capacity(set.len());
    while let Some(result) = set.join_next().await {
        results.push(result.unwrap());
    }
    results
}
