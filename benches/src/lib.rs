//! Benchmark support for magpie: the workloads, the runtimes they run on, and the comparison's
//! process driver, statistics and charts.
//!
//! - [`spawner`]: the small trait every workload is written against, so magpie, tokio and smol run
//!   identical code; [`runtimes`] implements it for each.
//! - [`workload`] names the workloads and their sizes; [`jobs`] holds them as generic async functions.
//! - [`worker`] runs one workload in the current process; [`driver`] starts one process per run,
//!   alternating runtimes; [`outcome`] is the JSON line between them.
//! - [`summary`] takes medians and ratios to magpie; [`plot`] draws the SVG charts.
//!
//! The `compare` binary ties these together; the criterion benches in `benches/` reuse [`jobs`].
#![deny(missing_docs)]

pub mod cli;
pub mod driver;
pub mod jobs;
pub mod outcome;
pub mod plot;
pub mod runtimes;
pub mod spawner;
pub mod summary;
pub mod worker;
pub mod workload;
