//! `hello`: the smallest magpie program, an `async fn` run to completion.
//!
//! The asyncio original:
//!
//! ```python
//! import asyncio
//!
//! async def main():
//!     print("Hello")
//!     await asyncio.sleep(1)
//!     print("world")
//!
//! asyncio.run(main())
//! ```
//!
//! `#[magpie::main]` plays the part of `asyncio.run`: it starts a runtime, runs `main` on it to
//! completion and shuts the runtime down. `magpie::time::sleep(..).await` is `await
//! asyncio.sleep(..)`: the task is suspended and its thread runs other tasks meanwhile.
//!
//! Run it with `cargo run --example hello`.

use std::time::{Duration, Instant};

#[magpie::main]
pub async fn main() {
    let waited = hello(Duration::from_secs(1)).await;
    println!("(slept {waited:.2?})");
}

/// Prints "Hello", sleeps for `pause` without blocking the thread, prints "world", and returns how
/// long the sleep really took (never less than `pause`: magpie's timers never fire early).
pub async fn hello(pause: Duration) -> Duration {
    let start = Instant::now();
    println!("Hello");
    magpie::time::sleep(pause).await;
    println!("world");
    start.elapsed()
}
