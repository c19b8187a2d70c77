//! The `tracing` instrumentation (issue 7), observed through a small capturing subscriber.
//!
//! The subscriber (`capture/mod.rs`) is the process-wide default and records every span and event
//! from every thread, with its fields and thread name. Tests run in parallel in this binary, so
//! each test finds its own records: by task id, by a task name no other test uses, by the source
//! lines of its spawn calls, or by the thread-name prefix of a runtime it built.
#![cfg(feature = "tracing")]

mod capture;
mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use magpie::runtime::{Builder, Handle};
use magpie::task::{self, JoinHandle, JoinSet};
use tracing::Level;

use capture::{capture, event_count, events, events_since, spans, EventRecord};
use common::{run_stealable_burst, with_watchdog};

const LIMIT: Duration = Duration::from_secs(60);

/// Events with `message` about the task `id`.
fn task_events(message: &str, id: task::Id) -> Vec<EventRecord> {
    let id = id.as_u64().to_string();
    events(|e| e.message() == message && e.field("task.id") == Some(&id))
}

/// Polls `check` until it holds (the watchdog bounds the wait).
fn eventually(what: &str, check: impl Fn() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < LIMIT, "never observed: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `f` on a fresh runtime of `workers` workers, under the capture and a watchdog.
fn run<F: Future>(name: &str, workers: usize, f: F) -> F::Output {
    capture();
    with_watchdog(name, LIMIT, || common::runtime(workers).block_on(f))
}

/// The `(file, line)` a "task spawned" event recorded.
fn spawn_location(event: &EventRecord) -> (String, u32) {
    let location = event
        .field("location")
        .expect("a spawn event records its location");
    let mut parts = location.rsplitn(3, ':');
    let _column = parts.next();
    let line = parts
        .next()
        .and_then(|l| l.parse().ok())
        .expect("file:line:column");
    (parts.next().unwrap().to_owned(), line)
}

/// Checks that exactly one task was spawned from this file between `lines.0` and `lines.1`, at
/// trace level, and that its event carries `id` when the entry point returned a handle.
fn check_spawned_here(entry: &str, lines: (u32, u32), id: Option<task::Id>) -> Result<(), String> {
    let here: Vec<_> = events(|e| {
        let (file, line) = match e.message() {
            "task spawned" => spawn_location(e),
            _ => return false,
        };
        file == file!() && lines.0 < line && line < lines.1
    });
    if here.len() != 1 {
        let recorded = id.map(|id| task_events("task spawned", id));
        return Err(format!(
            "{entry}: expected one \"task spawned\" event located in {} between lines {} and {}, \
             found {}; the spawn event of this task is {recorded:?}",
            file!(),
            lines.0,
            lines.1,
            here.len(),
        ));
    }
    let event = &here[0];
    let id = id.map(|id| id.as_u64().to_string());
    if id.is_some() && event.field("task.id") != id.as_deref() {
        return Err(format!(
            "{entry}: task.id {:?}, expected {id:?}",
            event.field("task.id")
        ));
    }
    if event.level != Level::TRACE || !event.target.starts_with("magpie") {
        return Err(format!(
            "{entry}: level {} target {}",
            event.level, event.target
        ));
    }
    Ok(())
}

fn assert_spawned_here(entry: &str, lines: (u32, u32), id: Option<task::Id>) {
    if let Err(message) = check_spawned_here(entry, lines, id) {
        panic!("{message}");
    }
}

#[test]
fn spawn_event_records_id_name_and_the_callers_location() {
    run("spawn_event", 2, async {
        let before = line!();
        let handle = task::Builder::new()
            .name("obs-fetch")
            .spawn(async { 7 })
            .unwrap();
        let after = line!();
        let id = handle.id();
        assert_eq!(handle.await.unwrap(), 7);
        assert_spawned_here("task::Builder::spawn", (before, after), Some(id));
        let spawned = task_events("task spawned", id);
        assert_eq!(spawned[0].field("task.name"), Some("obs-fetch"));
    });
}

#[test]
fn unnamed_tasks_record_no_name() {
    run("unnamed", 1, async {
        let handle = magpie::spawn(async {});
        let id = handle.id();
        handle.await.unwrap();
        let spawned = task_events("task spawned", id);
        assert_eq!(spawned.len(), 1, "one spawn event per task");
        assert_eq!(spawned[0].field("task.name"), None);
    });
}

/// Every public way to spawn records the user's call site, not a line of magpie's source (the
/// spawn paths are `#[track_caller]` all the way down; a closure on the way breaks the chain).
#[test]
fn every_spawn_entry_point_records_the_callers_location() {
    capture();
    let wrong = with_watchdog("spawn_entry_points", LIMIT, || {
        let rt = common::runtime(2);
        let handle: Handle = rt.handle().clone();
        let mut wrong = Vec::new();

        let before = line!();
        let joined: JoinHandle<()> = rt.spawn(async {});
        let after = line!();
        wrong.push(check_spawned_here(
            "Runtime::spawn",
            (before, after),
            Some(joined.id()),
        ));

        let before = line!();
        let joined = handle.spawn(async {});
        let after = line!();
        wrong.push(check_spawned_here(
            "Handle::spawn",
            (before, after),
            Some(joined.id()),
        ));

        let before = line!();
        let joined = task::Builder::new()
            .name("obs-on")
            .spawn_on(async {}, &handle);
        let after = line!();
        let id = Some(joined.id());
        wrong.push(check_spawned_here(
            "task::Builder::spawn_on",
            (before, after),
            id,
        ));

        let mut set = JoinSet::new();
        let before = line!();
        set.spawn_on(async {}, &handle);
        let after = line!();
        wrong.push(check_spawned_here(
            "JoinSet::spawn_on",
            (before, after),
            None,
        ));

        rt.block_on(async move {
            let before = line!();
            let joined = magpie::spawn(async {});
            let after = line!();
            wrong.push(check_spawned_here(
                "magpie::spawn",
                (before, after),
                Some(joined.id()),
            ));

            let before = line!();
            let joined = task::spawn(async {});
            let after = line!();
            wrong.push(check_spawned_here(
                "task::spawn",
                (before, after),
                Some(joined.id()),
            ));

            let before = line!();
            let joined = task::spawn_blocking(|| {});
            let after = line!();
            let id = Some(joined.id());
            wrong.push(check_spawned_here(
                "task::spawn_blocking",
                (before, after),
                id,
            ));

            let before = line!();
            set.spawn(async {});
            let after = line!();
            wrong.push(check_spawned_here("JoinSet::spawn", (before, after), None));
            while set.join_next().await.is_some() {}
            wrong
        })
    });
    let wrong: Vec<String> = wrong.into_iter().filter_map(Result::err).collect();
    assert!(
        wrong.is_empty(),
        "spawn locations not at the caller:\n{}",
        wrong.join("\n")
    );
}

/// Each poll is a span carrying the task's id and name, so a subscriber can time polls.
#[test]
fn each_poll_is_a_span_with_the_task_id_and_name() {
    run("poll_spans", 2, async {
        let handle = task::Builder::new()
            .name("obs-poller")
            .spawn(async {
                task::yield_now().await;
                task::yield_now().await;
                // A slow last poll, for the span timing below.
                std::thread::sleep(Duration::from_millis(20));
            })
            .unwrap();
        let id = handle.id().as_u64().to_string();
        handle.await.unwrap();

        let polls = spans(|s| s.name == "poll" && s.fields.get("task.id") == Some(&id));
        assert_eq!(polls.len(), 3, "two yields make three polls: {polls:?}");
        for poll in &polls {
            assert_eq!(poll.level, Level::TRACE);
            assert!(poll.target.starts_with("magpie"), "target {}", poll.target);
            assert_eq!(
                poll.fields.get("task.name").map(String::as_str),
                Some("obs-poller")
            );
            assert_eq!(
                poll.entries.len(),
                1,
                "each poll is one entry of its own span"
            );
        }
        let longest = polls.iter().map(|p| p.entries[0]).max().unwrap();
        assert!(
            longest >= Duration::from_millis(20),
            "the span must cover the whole poll: longest entry {longest:?}"
        );
    });
}

#[test]
fn completion_is_an_event() {
    run("completed", 2, async {
        let handle = task::Builder::new()
            .name("obs-done")
            .spawn(async { 1 })
            .unwrap();
        let id = handle.id();
        handle.await.unwrap();
        let completed = task_events("task completed", id);
        assert_eq!(completed.len(), 1, "{completed:?}");
        assert_eq!(completed[0].level, Level::TRACE);
        assert!(task_events("task cancelled", id).is_empty());
        assert!(task_events("task panicked", id).is_empty());
    });
}

/// A panic is reported once, at debug level, with the task's name; the `JoinError` names it too.
#[test]
fn a_panic_is_an_event_and_its_report_names_the_task() {
    run("panicked", 2, async {
        let handle = task::Builder::new()
            .name("obs-panicker")
            .spawn(async { panic!("obs boom") })
            .unwrap();
        let id = handle.id();
        let err = handle.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.name(), Some("obs-panicker"));
        let report = err.to_string();
        assert!(
            report.contains("obs-panicker") && report.contains("obs boom"),
            "{report}"
        );

        let panicked = task_events("task panicked", id);
        assert_eq!(panicked.len(), 1, "{panicked:?}");
        assert_eq!(panicked[0].level, Level::DEBUG);
        assert_eq!(panicked[0].field("task.name"), Some("obs-panicker"));
        assert!(
            task_events("task completed", id).is_empty(),
            "a panic is not a completion"
        );
    });
}

#[test]
fn an_abort_is_a_cancelled_event() {
    run("aborted", 2, async {
        let handle = task::Builder::new()
            .name("obs-aborted")
            .spawn(std::future::pending::<()>())
            .unwrap();
        let id = handle.id();
        handle.abort();
        let err = handle.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(task_events("task cancelled", id).len(), 1);
        assert!(task_events("task completed", id).is_empty());
    });
}

#[test]
fn tasks_left_at_shutdown_are_cancelled_events() {
    capture();
    with_watchdog("shutdown_cancel", LIMIT, || {
        let rt = common::runtime(2);
        let handle = rt.spawn(std::future::pending::<()>());
        let id = handle.id();
        // Let a worker poll it once, so the cancellation drops a started future.
        let polled = id.as_u64().to_string();
        eventually("the first poll", || {
            !spans(|s| s.name == "poll" && s.fields.get("task.id") == Some(&polled)).is_empty()
        });
        drop(rt);
        assert_eq!(task_events("task cancelled", id).len(), 1);
        assert!(futures::executor::block_on(handle)
            .unwrap_err()
            .is_cancelled());
    });
}

/// Idle workers report parking at trace level; a spawn from outside reports the unpark it causes.
#[test]
fn parks_and_unparks_are_trace_events() {
    capture();
    with_watchdog("park_unpark", LIMIT, || {
        let rt = Builder::new()
            .worker_threads(2)
            .thread_name("obs-park")
            .build()
            .unwrap();
        let parked = |e: &EventRecord| {
            e.message() == "magpie-scheduler: park" && e.thread.starts_with("obs-park-")
        };
        eventually("both idle workers parking", || events(parked).len() >= 2);
        for park in events(parked) {
            assert_eq!(park.level, Level::TRACE);
            let worker = park.field("worker").expect("a park names its worker");
            assert_eq!(park.thread, format!("obs-park-{worker}"));
        }

        let start = event_count();
        let me = std::thread::current().name().unwrap().to_owned();
        // Every worker is parked: the push to the injector must wake one, from this thread.
        rt.block_on(rt.spawn(async {})).unwrap();
        let unparks = events_since(start, |e| {
            e.message() == "magpie-scheduler: unpark" && e.thread == me
        });
        assert!(
            !unparks.is_empty(),
            "a spawn onto parked workers unparks one"
        );
        let worker: usize = unparks[0].field("worker").unwrap().parse().unwrap();
        assert!(worker < 2);
    });
}

/// A worker that runs dry steals from a busy sibling, and says so at trace level.
#[test]
fn steals_are_trace_events() {
    capture();
    with_watchdog("steals", LIMIT, || {
        let rt = Builder::new()
            .worker_threads(4)
            .thread_name("obs-steal")
            .build()
            .unwrap();
        let stolen = |e: &EventRecord| {
            e.message() == "magpie-scheduler: steal" && e.thread.starts_with("obs-steal-")
        };
        // Scheduling decides who steals when; repeat the burst until someone has.
        for _ in 0..50 {
            run_stealable_burst(&rt);
            if !events(stolen).is_empty() {
                break;
            }
        }
        let steals = events(stolen);
        assert!(
            !steals.is_empty(),
            "no steal in 50 bursts of 256 tasks over 4 workers"
        );
        for steal in steals {
            assert_eq!(steal.level, Level::TRACE);
            let field = |name| -> usize { steal.field(name).unwrap().parse().unwrap() };
            let (worker, victim, tasks) = (field("worker"), field("victim"), field("tasks"));
            assert_eq!(steal.thread, format!("obs-steal-{worker}"));
            assert!(victim < 4 && victim != worker, "{steal:?}");
            assert!(tasks >= 1, "{steal:?}");
        }
    });
}

/// The timer thread reports each turn at trace level, with how many timers fired.
#[test]
fn timer_ticks_are_trace_events_with_the_fired_count() {
    const SLEEPERS: usize = 50;
    capture();
    let start = event_count();
    run("timer_ticks", 2, async {
        // A loaded machine may reach the deadline before every sleep has registered (a late sleep
        // completes without the timer): retry until all registered in time.
        loop {
            let deadline = Instant::now() + Duration::from_millis(100);
            let mut sleepers: Vec<_> = (0..SLEEPERS)
                .map(|_| Box::pin(magpie::time::sleep_until(deadline)))
                .collect();
            for sleeper in &mut sleepers {
                assert!(futures::poll!(sleeper.as_mut()).is_pending());
            }
            let in_time = Instant::now() < deadline;
            futures::future::join_all(sleepers).await;
            if in_time {
                break;
            }
        }
    });
    let ticks = || events_since(start, |e| e.message() == "magpie-timer tick");
    let fired = |ticks: &[EventRecord]| -> usize {
        let fired = ticks
            .iter()
            .map(|tick| tick.field("fired").unwrap().parse::<usize>());
        fired.map(Result::unwrap).sum()
    };
    // The timer thread reports a turn after waking its sleepers: wait for the report. Other tests'
    // timers can only add to the count.
    eventually("ticks reporting the fired sleepers", || {
        fired(&ticks()) >= SLEEPERS
    });
    for tick in ticks() {
        assert_eq!(tick.level, Level::TRACE);
        assert_eq!(tick.thread, "magpie-timer");
        assert!(
            tick.field("pending").is_some() && tick.field("now").is_some(),
            "{tick:?}"
        );
    }
}
