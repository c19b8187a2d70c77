//! `fetch`: one async function awaiting another, the asyncio tutorial's `fetch_data`.
//!
//! The asyncio original:
//!
//! ```python
//! import asyncio
//!
//! async def fetch_data(url):
//!     await asyncio.sleep(1)  # the network
//!     return "Data fetched successfully!"
//!
//! async def main():
//!     data = await fetch_data("https://example.com")
//!     print(data)
//!
//! asyncio.run(main())
//! ```
//!
//! The Rust version reads the same. The one addition is the `latency` parameter, which lets the
//! test suite (`examples/tests/examples_run.rs`) run this file with millisecond sleeps.
//!
//! Run it with `cargo run --example fetch`.

use std::time::Duration;

/// How long the simulated network takes to answer.
pub const LATENCY: Duration = Duration::from_secs(1);

#[magpie::main]
pub async fn main() {
    let data = fetch_data("https://example.com", LATENCY).await;
    println!("{data}");
}

/// Pretends to download `url`: waits `latency` (the network round trip), then returns the body.
pub async fn fetch_data(url: &str, latency: Duration) -> String {
    println!("fetching {url} ...");
    magpie::time::sleep(latency).await;
    "Data fetched successfully!".to_string()
}
