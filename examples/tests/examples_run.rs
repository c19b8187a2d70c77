//! Runs every asyncio-port example so none of them rots.
//!
//! Each example file is compiled here as a module (`#[path = "../hello.rs"] mod hello;`), so the
//! test calls its functions directly instead of spawning `cargo run --example`. Every example is
//! exercised twice: its working function with millisecond sizes, checking the result, and its
//! `main` exactly as `cargo run --example NAME` runs it (about a second of sleeping each).
//!
//! No assertion depends on how fast the machine is: timers never fire early, so lower bounds on
//! elapsed time hold, and no upper bound is asserted.

#[path = "../bounded.rs"]
mod bounded;
#[path = "../cancel.rs"]
mod cancel;
#[path = "../fetch.rs"]
mod fetch;
#[path = "../gather.rs"]
mod gather;
#[path = "../hello.rs"]
mod hello;
#[path = "../timeout.rs"]
mod timeout;

use std::time::{Duration, Instant};

const SHORT: Duration = Duration::from_millis(20);

#[test]
fn hello_sleeps_at_least_the_pause() {
    let waited = magpie::block_on(hello::hello(SHORT));
    assert!(waited >= SHORT, "slept {waited:?}, less than {SHORT:?}");
}

#[test]
fn fetch_data_answers_after_the_latency() {
    let start = Instant::now();
    let data = magpie::block_on(fetch::fetch_data("https://example.com", SHORT));
    assert_eq!(data, "Data fetched successfully!");
    assert!(start.elapsed() >= SHORT);
}

#[test]
fn gather_keeps_the_order_of_the_inputs() {
    let urls = ["u0", "u1", "u2", "u3", "u4"];
    let start = Instant::now();
    let results = magpie::block_on(gather::gather(&urls, SHORT));
    // The first fetch is the slowest, so the gather waited at least that long.
    assert!(start.elapsed() >= SHORT);
    let expected: Vec<String> = urls.iter().map(|url| format!("{url}: done")).collect();
    assert_eq!(results, expected);
}

#[test]
fn as_completed_returns_every_result_once() {
    let urls = ["u0", "u1", "u2", "u3", "u4"];
    let mut results = magpie::block_on(gather::as_completed(&urls, SHORT));
    results.sort();
    let expected: Vec<String> = urls.iter().map(|url| format!("{url}: done")).collect();
    assert_eq!(results, expected);
}

#[test]
fn timeout_lets_a_fast_fetch_through() {
    // A budget far above the latency, so a slow machine cannot turn this into a timeout.
    let answer = magpie::block_on(timeout::fetch_within(
        "https://fast.example",
        Duration::from_millis(1),
        Duration::from_secs(30),
    ));
    assert_eq!(answer.as_deref(), Ok("https://fast.example: done"));
}

#[test]
fn timeout_gives_up_on_a_hung_fetch() {
    let start = Instant::now();
    let answer = magpie::block_on(timeout::fetch_within(
        "https://hung.example",
        Duration::from_secs(3600),
        SHORT,
    ));
    let error = answer.unwrap_err();
    assert_eq!(error.to_string(), "deadline has elapsed");
    assert!(
        start.elapsed() >= SHORT,
        "gave up early: {:?}",
        start.elapsed()
    );
}

#[test]
fn cancel_reports_the_cancellation_and_cleans_up() {
    let outcome = magpie::block_on(cancel::run(Duration::from_millis(2), SHORT));
    assert!(outcome.cancelled, "{outcome:?}");
    assert!(outcome.cleaned_up, "{outcome:?}");
}

#[test]
fn cancel_before_the_first_round_still_cleans_up() {
    let outcome = magpie::block_on(cancel::run(Duration::from_secs(3600), Duration::ZERO));
    assert!(outcome.cancelled, "{outcome:?}");
    assert!(outcome.cleaned_up, "{outcome:?}");
    assert!(outcome.rounds <= 1, "{outcome:?}");
}

#[test]
fn bounded_never_exceeds_the_limit() {
    let report = magpie::block_on(bounded::fan_out(200, 8, Duration::from_millis(2)));
    let expected: Vec<u64> = (0..200).map(|i| i * i).collect();
    assert_eq!(report.results, expected);
    assert!(report.peak_in_flight <= 8, "{report:?}");
    assert!(report.peak_in_flight >= 1, "{report:?}");
}

#[test]
fn bounded_with_a_limit_of_one_runs_the_fetches_one_by_one() {
    let report = magpie::block_on(bounded::fan_out(20, 1, Duration::from_millis(1)));
    assert_eq!(report.peak_in_flight, 1);
    assert_eq!(report.results.len(), 20);
}

// The mains at their real sizes: each sleeps about a second; a panic fails the test.
#[test]
fn hello_main_runs() {
    hello::main();
}

#[test]
fn fetch_main_runs() {
    fetch::main();
}

#[test]
fn gather_main_runs() {
    gather::main();
}

#[test]
fn timeout_main_runs() {
    timeout::main();
}

#[test]
fn cancel_main_runs() {
    cancel::main();
}

#[test]
fn bounded_main_runs() {
    bounded::main();
}
