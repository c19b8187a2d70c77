//! Stress and fault tests: millions of cross-thread wakes with none lost, aborts racing completion,
//! and panics from `poll`, from `Drop` and from a waker's `wake` that must not escape into the
//! runtime (or the timer thread).
//!
//! Sizes: the full size in release builds (`cargo test --release --test stress`, as `.ci/run` does),
//! a tenth in debug builds, a few hundred under Miri; `MAGPIE_STRESS_DIVISOR=N` divides them
//! further (the sanitizer and valgrind steps use it). Every test runs under a watchdog, so a lost
//! wake fails the run instead of hanging it.
#![cfg(not(loom))]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use common::{runtime, with_watchdog, DropCounter};

/// `release` at full size, divided for debug builds, Miri and `MAGPIE_STRESS_DIVISOR`.
fn scaled(release: usize) -> usize {
    let mut size = if cfg!(miri) {
        (release / 100_000).max(1) * 10
    } else if cfg!(debug_assertions) {
        release / 10
    } else {
        release
    };
    if let Some(divisor) = std::env::var("MAGPIE_STRESS_DIVISOR")
        .ok()
        .and_then(|value| value.parse::<usize>().ok())
        .filter(|&divisor| divisor > 0)
    {
        size /= divisor;
    }
    size.max(1)
}

const WATCHDOG: Duration = Duration::from_secs(300);

/// One task's mailbox: the waking thread bumps `sent` only once the task acknowledged the previous
/// value, so every counted wake must be followed by a poll that sees it.
#[derive(Default)]
struct Mailbox {
    sent: AtomicU64,
    acked: AtomicU64,
    waker: Mutex<Option<Waker>>,
}

/// The task side: acknowledges what was sent, registers its waker, finishes at `target`.
struct Receiver {
    mailbox: Arc<Mailbox>,
    target: u64,
    polls: u64,
}

impl Future for Receiver {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        self.polls += 1;
        loop {
            let sent = self.mailbox.sent.load(Ordering::Acquire);
            // Release: the waking thread's Acquire load of `acked` sees the registration below
            // only after it, which is why the waker is registered before acknowledging.
            {
                let mut slot = self.mailbox.waker.lock().unwrap();
                match &*slot {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => *slot = Some(cx.waker().clone()),
                }
            }
            self.mailbox.acked.store(sent, Ordering::Release);
            if sent == self.target {
                return Poll::Ready(self.polls);
            }
            // A value sent after our load is only sent once we acknowledged `sent`, and its wake
            // finds the waker registered above: returning Pending cannot lose it.
            if self.mailbox.sent.load(Ordering::Acquire) == sent {
                return Poll::Pending;
            }
        }
    }
}

/// Sends `target` wakes to each mailbox, each only after the previous one was acknowledged; wakes
/// alternate between `wake_by_ref` on a clone and `wake` by value. Returns the wakes sent.
fn send_all(mailboxes: &[Arc<Mailbox>], target: u64) -> u64 {
    let mut sent_total = 0;
    let mut done = 0;
    let mut finished = vec![false; mailboxes.len()];
    while done < mailboxes.len() {
        let mut progress = false;
        for (index, mailbox) in mailboxes.iter().enumerate() {
            if finished[index] {
                continue;
            }
            let sent = mailbox.sent.load(Ordering::Relaxed);
            if mailbox.acked.load(Ordering::Acquire) != sent {
                continue;
            }
            if sent == target {
                finished[index] = true;
                done += 1;
                continue;
            }
            // No waker yet: the task's first poll has not happened (`acked` starts equal to `sent`).
            let Some(waker) = mailbox.waker.lock().unwrap().clone() else {
                continue;
            };
            mailbox.sent.store(sent + 1, Ordering::Release);
            if sent % 2 == 0 {
                waker.wake_by_ref();
            } else {
                waker.wake();
            }
            sent_total += 1;
            progress = true;
        }
        if !progress {
            std::thread::yield_now();
        }
    }
    sent_total
}

#[test]
fn ten_million_cross_thread_wakes_are_all_delivered() {
    let total = scaled(10_000_000) as u64;
    let tasks = 512.min(total as usize);
    let senders = 2;
    let target = (total / tasks as u64).max(1);
    let rt = runtime(4);
    let mailboxes: Vec<Arc<Mailbox>> = (0..tasks).map(|_| Arc::default()).collect();
    let handles: Vec<_> = mailboxes
        .iter()
        .map(|mailbox| {
            rt.spawn(Receiver {
                mailbox: Arc::clone(mailbox),
                target,
                polls: 0,
            })
        })
        .collect();
    // The first poll registers each waker and acknowledges 0.
    let sent = with_watchdog("cross-thread wakes", WATCHDOG, || {
        let chunks: Vec<Vec<Arc<Mailbox>>> = mailboxes
            .chunks(tasks.div_ceil(senders))
            .map(<[_]>::to_vec)
            .collect();
        let threads: Vec<_> = chunks
            .into_iter()
            .map(|chunk| std::thread::spawn(move || send_all(&chunk, target)))
            .collect();
        let sent: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        let polls: u64 = rt.block_on(async {
            let mut polls = 0;
            for handle in handles {
                polls += handle.await.unwrap();
            }
            polls
        });
        // A task is polled once at spawn and then only when woken (wakes may coalesce).
        assert!(
            polls <= sent + tasks as u64,
            "{polls} polls for {sent} wakes"
        );
        sent
    });
    assert_eq!(sent, target * tasks as u64);
    eprintln!("{sent} cross-thread wakes delivered to {tasks} tasks");
}

#[test]
fn abort_racing_completion_a_million_times() {
    let rounds = scaled(1_000_000);
    let batch = 1_000.min(rounds);
    let rt = runtime(4);
    let futures = DropCounter::default();
    let outputs = DropCounter::default();
    let (finished, cancelled) = with_watchdog("abort vs completion", WATCHDOG, || {
        rt.block_on(async {
            let (mut finished, mut cancelled) = (0usize, 0usize);
            for start in (0..rounds).step_by(batch) {
                let handles: Vec<_> = (start..(start + batch).min(rounds))
                    .map(|i| {
                        let token = futures.token();
                        let output = outputs.token();
                        magpie::spawn(async move {
                            let _token = token;
                            if i % 3 == 0 {
                                magpie::task::yield_now().await;
                            }
                            (i, output)
                        })
                    })
                    .collect();
                for handle in &handles {
                    handle.abort();
                }
                for (offset, handle) in handles.into_iter().enumerate() {
                    match handle.await {
                        Ok((i, _output)) => {
                            assert_eq!(i, start + offset);
                            finished += 1;
                        }
                        Err(err) => {
                            assert!(err.is_cancelled(), "{err}");
                            cancelled += 1;
                        }
                    }
                }
            }
            (finished, cancelled)
        })
    });
    assert_eq!(finished + cancelled, rounds);
    assert_eq!(futures.count(), rounds, "every future dropped exactly once");
    assert_eq!(
        outputs.count(),
        rounds,
        "every output (or unstarted one) dropped once"
    );
    eprintln!("{finished} finished, {cancelled} cancelled");
}

#[test]
fn aborts_from_plain_threads_race_wakes_and_completion() {
    let rounds = scaled(100_000);
    let rt = runtime(4);
    let drops = DropCounter::default();
    with_watchdog("abort from threads", WATCHDOG, || {
        let handles: Vec<_> = (0..rounds)
            .map(|i| {
                let token = drops.token();
                rt.spawn(async move {
                    let _token = token;
                    for _ in 0..i % 4 {
                        magpie::task::yield_now().await;
                    }
                    i
                })
            })
            .collect();
        let handles = Arc::new(handles);
        let aborter = {
            let handles = Arc::clone(&handles);
            std::thread::spawn(move || {
                for handle in handles.iter().step_by(2) {
                    handle.abort();
                }
            })
        };
        aborter.join().unwrap();
        let handles = Arc::into_inner(handles).unwrap();
        rt.block_on(async {
            for (i, handle) in handles.into_iter().enumerate() {
                match handle.await {
                    Ok(value) => assert_eq!(value, i),
                    Err(err) => {
                        assert!(err.is_cancelled());
                        assert_eq!(i % 2, 0, "only even tasks were aborted");
                    }
                }
            }
        });
    });
    assert_eq!(drops.count(), rounds);
}

/// A future that panics in `Drop`.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("drop panics on purpose");
    }
}

#[test]
fn panics_in_poll_and_in_drop_come_back_as_join_errors() {
    let rt = runtime(2);
    with_watchdog("panics", WATCHDOG, || {
        rt.block_on(async {
            // In poll.
            let err = magpie::spawn(async { panic!("poll panics on purpose") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            // In the future's Drop after it returned Ready: the output is kept.
            let value = magpie::spawn(async {
                let _bomb = PanicOnDrop;
                5
            });
            let err = value.await.unwrap_err();
            assert!(
                err.is_panic(),
                "the drop at the end of the async block is part of its poll"
            );
            // In the future's Drop when aborted: reported as the panic, not as a cancellation.
            let (started, has_started) = futures::channel::oneshot::channel();
            let pending = magpie::spawn(async move {
                let _bomb = PanicOnDrop;
                started.send(()).unwrap();
                std::future::pending::<()>().await
            });
            has_started.await.unwrap();
            pending.abort();
            assert!(pending.await.unwrap_err().is_panic());
            // In the output's Drop, with nobody to take the output: dropped (and caught) by the
            // worker that completed the task.
            let (tx, rx) = std::sync::mpsc::channel();
            drop(magpie::spawn(async move {
                magpie::task::yield_now().await;
                tx.send(()).unwrap();
                PanicOnDrop
            }));
            magpie::task::spawn_blocking(move || rx.recv().unwrap())
                .await
                .unwrap();
        });
        // The workers survived all of it.
        let sum = rt.block_on(async {
            let handles: Vec<_> = (0..100u64)
                .map(|i| magpie::spawn(async move { i }))
                .collect();
            let mut sum = 0;
            for handle in handles {
                sum += handle.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 4950);
    });
}

/// A waker whose `wake` panics, counting the calls.
#[derive(Default)]
struct PanickingWaker(AtomicUsize);

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("wake panics on purpose");
    }
}

#[test]
fn a_join_waker_that_panics_does_not_kill_the_worker() {
    let rt = runtime(1);
    with_watchdog("panicking join waker", WATCHDOG, || {
        let release = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&release);
        let mut handle = rt.spawn(async move {
            while !flag.load(Ordering::SeqCst) {
                magpie::task::yield_now().await;
            }
            11
        });
        let bad = Arc::new(PanickingWaker::default());
        let waker = Waker::from(Arc::clone(&bad));
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut handle).poll(&mut cx).is_pending());
        release.store(true, Ordering::SeqCst);
        while !handle.is_finished() {
            std::thread::yield_now();
        }
        // The completion woke the registered waker, which panicked on the worker and was caught.
        while bad.0.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        assert_eq!(futures::executor::block_on(handle).unwrap(), 11);
        // The single worker still runs tasks.
        assert_eq!(
            rt.block_on(async { magpie::spawn(async { 3 }).await.unwrap() }),
            3
        );
    });
}

/// Polls `inner` once with a panicking waker and completes; `registered` says whether that poll
/// was pending (so the waker was handed to the timer).
struct PollWithBadWakerOnce<F> {
    inner: Pin<Box<F>>,
    bad: Waker,
    registered: bool,
}

impl<F: Future> Future for PollWithBadWakerOnce<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let bad = self.bad.clone();
        self.registered = self
            .inner
            .as_mut()
            .poll(&mut Context::from_waker(&bad))
            .is_pending();
        Poll::Ready(())
    }
}

#[test]
fn a_sleep_waker_that_panics_does_not_kill_the_timer_thread() {
    with_watchdog("panicking timer waker", WATCHDOG, || {
        let bad = Arc::new(PanickingWaker::default());
        // Register with the panicking waker; on a slow machine (valgrind) a short sleep may have
        // elapsed before its first poll, so lengthen it until the poll registers.
        // (The registered sleep is kept alive: dropping it would cancel the timer.)
        let mut duration = Duration::from_millis(1);
        let _registered = loop {
            let mut sleep = PollWithBadWakerOnce {
                inner: Box::pin(magpie::time::sleep(duration)),
                bad: Waker::from(Arc::clone(&bad)),
                registered: false,
            };
            futures::executor::block_on(&mut sleep);
            if sleep.registered {
                break sleep;
            }
            duration *= 4;
        };
        // The timer thread fires it and calls the panicking waker.
        while bad.0.load(Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        // Timers still fire afterwards.
        let rt = runtime(1);
        rt.block_on(async {
            for _ in 0..3 {
                magpie::time::sleep(Duration::from_millis(2)).await;
            }
        });
        futures::executor::block_on(magpie::time::sleep(Duration::from_millis(2)));
    });
}

#[test]
fn tasks_wake_each_other_in_a_ring() {
    // Each task waits for its predecessor's token and passes it on: a lost wake stops the ring.
    let laps = scaled(20_000);
    let size = 8;
    for workers in common::FLAVOURS {
        let rt = runtime(workers);
        let mailboxes: Vec<Arc<Mailbox>> = (0..size).map(|_| Arc::default()).collect();
        with_watchdog("ring", WATCHDOG, || {
            let handles: Vec<_> = (0..size)
                .map(|index| {
                    let mine = Arc::clone(&mailboxes[index]);
                    let next = Arc::clone(&mailboxes[(index + 1) % size]);
                    rt.spawn(async move {
                        for lap in 0..laps as u64 {
                            // Task 0 starts the first lap; every other turn waits for a token.
                            let need = lap + u64::from(index != 0);
                            if need > 0 {
                                Turn(&mine, need).await;
                            }
                            next.sent.fetch_add(1, Ordering::Release);
                            let waker = next.waker.lock().unwrap().take();
                            if let Some(waker) = waker {
                                waker.wake();
                            }
                        }
                    })
                })
                .collect();
            rt.block_on(async {
                for handle in handles {
                    handle.await.unwrap();
                }
            });
        });
    }
}

/// Waits until `mailbox.sent` reaches `value`.
struct Turn<'a>(&'a Mailbox, u64);

impl Future for Turn<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.sent.load(Ordering::Acquire) >= self.1 {
            return Poll::Ready(());
        }
        *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.0.sent.load(Ordering::Acquire) >= self.1 {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}
