//! The fan-out example's logic, as a library so it can be tested without building the example.
//!
//! `job` runs the workload on magpie; everything else (latency models, statistics, report, command
//! line, memory measurement) is runtime-independent and shared with `magpie-benches`, which runs the
//! same fan-out on tokio and smol.

pub mod cli;
pub mod duration;
pub mod job;
pub mod latency;
pub mod progress;
pub mod report;
pub mod rng;
pub mod rusage;
pub mod stats;
pub mod work;
