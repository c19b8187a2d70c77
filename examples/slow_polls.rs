//! Finding slow polls: a `tracing-subscriber` layer that prints every poll longer than 1 ms, with
//! the task's name.
//!
//! magpie wraps each poll of a task in a trace-level span named `poll`, with the fields `task.id`
//! and `task.name` (set with `magpie::task::Builder::new().name(..)`). A poll that runs long holds
//! its worker thread: every other task queued there waits. This layer
//! - keeps only `poll` spans from magpie (a per-layer filter, decided once per callsite, so
//!   magpie's other trace events are never even built),
//! - notes the task's id and name when the span is created and the instant it is entered,
//! - on exit, prints the poll if it lasted longer than the threshold.
//!
//! The demo runs a few well-behaved tasks (they await sleeps), two that compute for 3 ms between
//! awaits, and one that calls the blocking `std::thread::sleep`. It exits with an error if one of
//! the three culprits was not reported. Run it with
//! `cargo run --release -p magpie-examples --example slow_polls`.

use std::collections::BTreeSet;
use std::fmt;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{filter, Layer};

/// Prints polls longer than `threshold` and remembers the names of their tasks.
struct SlowPolls {
    threshold: Duration,
    culprits: Arc<Mutex<BTreeSet<String>>>,
}

/// The task a `poll` span belongs to (stored in the span's extensions).
struct PolledTask {
    id: u64,
    name: Option<String>,
}

/// When the poll span was entered.
struct EnteredAt(Instant);

impl Visit for PolledTask {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "task.id" {
            self.id = value;
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "task.name" {
            self.name = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {}
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for SlowPolls {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut task = PolledTask { id: 0, name: None };
        attrs.record(&mut task);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(task);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().replace(EnteredAt(Instant::now()));
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let Some(EnteredAt(entered)) = extensions.remove::<EnteredAt>() else {
            return;
        };
        let took = entered.elapsed();
        if took <= self.threshold {
            return;
        }
        let Some(task) = extensions.get_mut::<PolledTask>() else {
            return;
        };
        let name = task.name.as_deref().unwrap_or("<unnamed>");
        println!(
            "slow poll: task {name:?} (id {}) ran {:.1} ms without yielding",
            task.id,
            took.as_secs_f64() * 1e3
        );
        self.culprits.lock().unwrap().insert(name.to_owned());
    }
}

/// Busy for `duration`: stands for parsing, hashing, compressing... done inline in a task.
fn compute(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

fn main() -> ExitCode {
    let culprits = Arc::new(Mutex::new(BTreeSet::new()));
    let slow_polls = SlowPolls {
        threshold: Duration::from_millis(1),
        culprits: Arc::clone(&culprits),
    }
    .with_filter(filter::filter_fn(|meta| {
        meta.is_span() && meta.name() == "poll" && meta.target().starts_with("magpie::")
    }));
    let subscriber = tracing_subscriber::registry().with(slow_polls);
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    magpie::block_on(async {
        let mut handles = Vec::new();
        for i in 0..8 {
            let fetch = async {
                for _ in 0..5 {
                    magpie::time::sleep(Duration::from_millis(2)).await;
                }
            };
            handles.push(spawn_named(format!("fetch-{i}"), fetch));
        }
        for i in 0..2 {
            let parse = async {
                for _ in 0..3 {
                    compute(Duration::from_millis(3));
                    magpie::task::yield_now().await;
                }
            };
            handles.push(spawn_named(format!("parse-{i}"), parse));
        }
        // The classic mistake: a blocking call inside async code (use spawn_blocking instead).
        let blocking = async { std::thread::sleep(Duration::from_millis(5)) };
        handles.push(spawn_named("compress".to_owned(), blocking));
        for handle in handles {
            handle.await.expect("the demo tasks do not fail");
        }
    });

    let culprits = culprits.lock().unwrap();
    let missed: Vec<_> = ["parse-0", "parse-1", "compress"]
        .into_iter()
        .filter(|name| !culprits.contains(*name))
        .collect();
    if missed.is_empty() {
        println!("found every slow task: {culprits:?}");
        ExitCode::SUCCESS
    } else {
        eprintln!("slow tasks not reported: {missed:?}");
        ExitCode::FAILURE
    }
}

fn spawn_named(
    name: String,
    future: impl std::future::Future<Output = ()> + Send + 'static,
) -> magpie::task::JoinHandle<()> {
    magpie::task::Builder::new()
        .name(name)
        .spawn(future)
        .expect("inside the runtime")
}
