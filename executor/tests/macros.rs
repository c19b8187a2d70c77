//! Tests of `#[magpie::main]` and `#[magpie::test]`.
//!
//! The run-pass tests below use the attributes the way users do. `ui` drives trybuild over
//! `tests/ui/pass` (programs that must compile and exit successfully, e.g. a `main` returning
//! `Result` that uses `?`) and `tests/ui/fail` (programs that must be refused, with the exact
//! messages kept in the `.stderr` files beside them). After changing a message, regenerate the
//! files with `TRYBUILD=overwrite cargo test -p magpie --test macros` and review the diff.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

extern crate magpie as renamed_runtime;

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}

#[magpie::test]
async fn spawned_task_is_awaited() {
    let handle = magpie::spawn(async { 40 + 2 });
    assert_eq!(handle.await.expect("the spawned task completes"), 42);
}

#[magpie::test]
async fn many_spawned_tasks_are_awaited() {
    let counter = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..100)
        .map(|index| {
            let counter = Arc::clone(&counter);
            magpie::spawn(async move {
                counter.fetch_add(1, Ordering::Relaxed);
                index
            })
        })
        .collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.expect("every spawned task completes");
    }
    assert_eq!(sum, (0..100).sum::<usize>());
    assert_eq!(counter.load(Ordering::Relaxed), 100);
}

#[magpie::test]
#[should_panic(expected = "boom from the test body")]
async fn should_panic_after_the_attribute() {
    panic!("boom from the test body");
}

#[should_panic(expected = "boom before the attribute")]
#[magpie::test]
async fn should_panic_before_the_attribute() {
    panic!("boom before the attribute");
}

#[magpie::test]
#[should_panic(expected = "assertion `left == right` failed")]
async fn failed_assertion_after_an_await_fails_the_test() {
    let value = magpie::spawn(async { 1 }).await.unwrap();
    assert_eq!(value, 2);
}

#[magpie::test(worker_threads = 1)]
async fn one_worker_runs_every_spawned_task() {
    assert_eq!(magpie::runtime::Handle::current().metrics().workers, 1);
    let mut handles = Vec::new();
    for index in 0..20_u64 {
        handles.push(magpie::spawn(async move {
            magpie::task::yield_now().await;
            (index * index, std::thread::current().id())
        }));
    }
    let mut squares = Vec::new();
    let mut threads = HashSet::new();
    for handle in handles {
        let (square, thread) = handle.await.expect("every spawned task completes");
        squares.push(square);
        threads.insert(thread);
    }
    let expected: Vec<u64> = (0..20).map(|index| index * index).collect();
    assert_eq!(squares, expected);
    assert_eq!(threads.len(), 1, "one worker thread runs all the tasks");
    assert!(!threads.contains(&std::thread::current().id()));
}

#[magpie::test(worker_threads = 3, crate = "renamed_runtime")]
async fn arguments_combine_with_a_renamed_crate() {
    let workers = renamed_runtime::runtime::Handle::current()
        .metrics()
        .workers;
    assert_eq!(workers, 3);
    assert_eq!(renamed_runtime::spawn(async { "ok" }).await.unwrap(), "ok");
}

#[magpie::test]
async fn test_may_return_a_result_and_use_question_mark() -> Result<(), std::num::ParseIntError> {
    let value: i64 = "-17".parse()?;
    assert_eq!(value, -17);
    Ok(())
}

/// The `main` attribute on a helper: a synchronous function that runs a runtime and returns.
#[magpie::main(worker_threads = 2)]
async fn sum_on_a_runtime() -> u64 {
    let first = magpie::spawn(async { 20_u64 });
    let second = magpie::spawn(async { 22_u64 });
    first.await.unwrap() + second.await.unwrap()
}

#[test]
fn main_on_a_helper_returns_the_body_output() {
    assert_eq!(sum_on_a_runtime(), 42);
    // A second call builds a second runtime.
    assert_eq!(sum_on_a_runtime(), 42);
}

static PENDING_TASK_DROPPED: AtomicBool = AtomicBool::new(false);

/// Sets [`PENDING_TASK_DROPPED`] when the future that owns it is dropped.
struct SetOnDrop;

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        PENDING_TASK_DROPPED.store(true, Ordering::SeqCst);
    }
}

/// Leaves a task that never finishes behind; the runtime's shutdown must drop it.
#[magpie::main(worker_threads = 2)]
async fn leave_a_pending_task() {
    let guard = SetOnDrop;
    drop(magpie::spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    }));
}

#[test]
fn main_shuts_the_runtime_down_when_the_body_returns() {
    leave_a_pending_task();
    assert!(
        PENDING_TASK_DROPPED.load(Ordering::SeqCst),
        "the runtime built by #[magpie::main] was not shut down: its pending task was not dropped"
    );
}

/// A function named like the expansion's local: the runtime local must not shadow it.
#[magpie::main(worker_threads = 1)]
async fn runtime() -> &'static str {
    magpie::spawn(async { "hygienic" }).await.unwrap()
}

#[test]
fn a_function_named_runtime_is_not_shadowed() {
    assert_eq!(runtime(), "hygienic");
}
