//! Misuse gets a clear answer: an error from builders, a panic that names the fix in async code.

mod common;

use std::io::ErrorKind;
use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{panic_message, runtime};
use magpie::runtime::{Builder, Handle};

#[test]
fn zero_workers_is_an_invalid_input_error() {
    let err = Builder::new().worker_threads(0).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("worker_threads"), "{err}");
    let err = Builder::new().max_blocking_threads(0).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn spawn_outside_a_runtime_panics_with_the_fix() {
    let payload = catch_unwind(|| magpie::spawn(async {})).unwrap_err();
    let message = panic_message(payload);
    assert!(message.contains("no runtime"), "{message}");
    assert!(message.contains("Runtime::spawn"), "{message}");
    let payload = catch_unwind(Handle::current).unwrap_err();
    assert!(panic_message(payload).contains("block_on"));
    assert!(Handle::try_current().is_err());
}

#[test]
fn nested_block_on_is_refused_not_deadlocked() {
    let rt = runtime(1);
    let inner = runtime(1);
    let payload = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async { inner.block_on(async {}) })
    }))
    .unwrap_err();
    let message = panic_message(payload);
    assert!(message.contains("block_on"), "{message}");
    assert!(message.contains("spawn_blocking"), "{message}");
    // The refusal left the thread usable.
    assert_eq!(rt.block_on(async { 1 }), 1);
    let payload = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async { magpie::block_on(async {}) })
    }))
    .unwrap_err();
    assert!(panic_message(payload).contains("cannot call block_on"));
}

#[test]
fn block_on_inside_a_task_is_refused_and_reported_as_a_panic() {
    let rt = runtime(1);
    let err = rt.block_on(async {
        magpie::spawn(async { magpie::block_on(async {}) })
            .await
            .unwrap_err()
    });
    assert!(err.is_panic());
    assert!(err.to_string().contains("cannot call block_on"), "{err}");
}

#[test]
fn block_on_works_from_a_blocking_job() {
    let rt = runtime(1);
    let other = runtime(1);
    let handle = other.handle().clone();
    let value = rt.block_on(async move {
        magpie::task::spawn_blocking(move || {
            let rt = magpie::runtime::Runtime::new().unwrap();
            rt.block_on(handle.spawn(async { 5 })).unwrap()
        })
        .await
        .unwrap()
    });
    assert_eq!(value, 5);
}

#[test]
fn panics_in_block_on_propagate_to_the_caller() {
    let rt = runtime(1);
    let payload = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async { panic!("in block_on") })
    }))
    .unwrap_err();
    assert_eq!(panic_message(payload), "in block_on");
    assert_eq!(rt.block_on(async { 2 }), 2);
}
