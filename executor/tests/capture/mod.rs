//! A capturing `tracing` subscriber for the tracing tests.
//!
//! It is installed once as the process-wide default (workers, the timer thread and blocking
//! threads all report to it) and records every span and event with its fields (as strings: `%`
//! values through `Display`, the rest through `Debug`), the name of the thread that emitted it and,
//! for spans, how long each entry lasted. Nothing is ever removed, so a test reads everything
//! recorded since the start of the binary and picks out its own records.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One recorded event.
#[derive(Clone, Debug)]
pub struct EventRecord {
    pub level: Level,
    pub target: String,
    pub thread: String,
    pub fields: HashMap<String, String>,
}

impl EventRecord {
    pub fn message(&self) -> &str {
        self.field("message").unwrap_or("")
    }
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// One recorded span, with the duration of each time it was entered.
#[derive(Clone, Debug)]
pub struct SpanRecord {
    pub name: &'static str,
    pub level: Level,
    pub target: String,
    pub fields: HashMap<String, String>,
    pub entries: Vec<Duration>,
}

#[derive(Default)]
pub struct Capture {
    next_span: AtomicU64,
    spans: Mutex<HashMap<u64, SpanRecord>>,
    events: Mutex<Vec<EventRecord>>,
}

thread_local! {
    /// Spans entered on this thread, innermost last, with the instant of entry.
    static ENTERED: RefCell<Vec<(u64, Instant)>> = const { RefCell::new(Vec::new()) };
}

/// Stores every field as a string (`%` values through `Display`, the rest through `Debug`).
struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
}

/// The installed subscriber: forwards to the leaked, process-wide `Capture`.
struct Forward(&'static Capture);

impl Subscriber for Forward {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.0.next_span.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        let meta = attrs.metadata();
        let record = SpanRecord {
            name: meta.name(),
            level: *meta.level(),
            target: meta.target().to_owned(),
            fields,
            entries: Vec::new(),
        };
        self.0.spans.lock().unwrap().insert(id, record);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(record) = self.0.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(&mut record.fields));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let record = EventRecord {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            thread: std::thread::current().name().unwrap_or("").to_owned(),
            fields,
        };
        self.0.events.lock().unwrap().push(record);
    }
    fn enter(&self, span: &Id) {
        ENTERED.with(|entered| entered.borrow_mut().push((span.into_u64(), Instant::now())));
    }
    fn exit(&self, span: &Id) {
        let id = span.into_u64();
        let entered = ENTERED.with(|entered| {
            let mut entered = entered.borrow_mut();
            let at = entered.iter().rposition(|&(open, _)| open == id)?;
            Some(entered.remove(at).1)
        });
        if let Some(entered) = entered {
            if let Some(record) = self.0.spans.lock().unwrap().get_mut(&id) {
                record.entries.push(entered.elapsed());
            }
        }
    }
}

/// The capture, installed as the global default on first use.
pub fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::default());
        tracing::subscriber::set_global_default(Forward(capture))
            .expect("no other global subscriber in this test binary");
        capture
    })
}

pub fn events(filter: impl Fn(&EventRecord) -> bool) -> Vec<EventRecord> {
    let events = capture().events.lock().unwrap();
    events.iter().filter(|e| filter(e)).cloned().collect()
}

pub fn events_since(start: usize, filter: impl Fn(&EventRecord) -> bool) -> Vec<EventRecord> {
    let events = capture().events.lock().unwrap();
    events[start..]
        .iter()
        .filter(|e| filter(e))
        .cloned()
        .collect()
}

pub fn event_count() -> usize {
    capture().events.lock().unwrap().len()
}

pub fn spans(filter: impl Fn(&SpanRecord) -> bool) -> Vec<SpanRecord> {
    let spans = capture().spans.lock().unwrap();
    spans.values().filter(|s| filter(s)).cloned().collect()
}
