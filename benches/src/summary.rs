//! Aggregation of many runs: medians per (workload, runtime), ratios to magpie, and the text table.
//!
//! The median (not the mean) is reported because a 2-core machine shared with builds produces
//! occasional outliers; each peer's ratio is `peer median / magpie median`, so a ratio above 1 means
//! magpie was faster (or leaner). A runtime that could not run is listed with its reason, never with
//! numbers.

use std::fmt::Write as _;

use magpie_examples::fanout::duration::format_micros;
use magpie_examples::fanout::stats::{median, LatenessSummary};
use serde::{Deserialize, Serialize};

use crate::outcome::RunOutcome;

/// The runtime every ratio is relative to.
pub const BASELINE: &str = "magpie";

/// One attempted run, successful or not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Round number (0-based).
    pub round: usize,
    /// Runtime name.
    pub runtime: String,
    /// Workload name.
    pub workload: String,
    /// The measurement, or why there is none.
    pub result: Result<RunOutcome, String>,
}

/// Medians of one workload on one runtime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Runtime name.
    pub runtime: String,
    /// Successful, complete runs.
    pub runs: usize,
    /// Median wall time, seconds.
    pub wall_s: Option<f64>,
    /// Median peak resident set, KiB.
    pub peak_rss_kib: Option<f64>,
    /// Median resident set after the workload, KiB.
    pub rss_after_kib: Option<f64>,
    /// Lateness of the run with the median wall time.
    pub lateness: Option<LatenessSummary>,
    /// Lateness CDF of that run.
    pub lateness_cdf: Vec<(u32, f64)>,
    /// `wall_s / magpie's wall_s`.
    pub wall_ratio: Option<f64>,
    /// `peak_rss_kib / magpie's peak_rss_kib`.
    pub memory_ratio: Option<f64>,
    /// `wall_s` minus the workload's ideal time, where it has one.
    pub overhead_s: Option<f64>,
    /// `overhead_s / magpie's overhead_s`.
    pub overhead_ratio: Option<f64>,
    /// Why some runs failed (first reason), if any did.
    pub failure: Option<String>,
}

/// One workload's row group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSummary {
    /// Workload name.
    pub workload: String,
    /// The wall time a perfect runtime would need (timer workloads only), seconds.
    pub ideal_s: Option<f64>,
    /// One cell per runtime, in the order asked for.
    pub cells: Vec<Cell>,
}

impl WorkloadSummary {
    /// Records the workload's ideal time and derives each runtime's overhead over it.
    pub fn set_ideal(&mut self, ideal_s: f64) {
        self.ideal_s = Some(ideal_s);
        for cell in &mut self.cells {
            cell.overhead_s = cell.wall_s.map(|wall| wall - ideal_s);
        }
        let base = self
            .cells
            .iter()
            .find(|c| c.runtime == BASELINE)
            .and_then(|c| c.overhead_s);
        for cell in &mut self.cells {
            cell.overhead_ratio = ratio(cell.overhead_s, base);
        }
    }
}

/// The run whose wall time is the median (the lower middle one for an even count).
fn median_run<'a>(runs: &[&'a RunOutcome]) -> Option<&'a RunOutcome> {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

/// Summarises `records` per workload (in `workloads` order) and runtime (in `runtimes` order).
pub fn summarize(
    records: &[RunRecord],
    workloads: &[String],
    runtimes: &[String],
) -> Vec<WorkloadSummary> {
    workloads
        .iter()
        .map(|workload| {
            let mut cells: Vec<Cell> = runtimes
                .iter()
                .map(|runtime| {
                    let mine: Vec<&RunRecord> = records
                        .iter()
                        .filter(|r| &r.workload == workload && &r.runtime == runtime)
                        .collect();
                    let ok: Vec<&RunOutcome> = mine
                        .iter()
                        .filter_map(|r| r.result.as_ref().ok())
                        .filter(|o| o.is_complete())
                        .collect();
                    let failure = mine.iter().find_map(|r| match &r.result {
                        Err(reason) => Some(reason.clone()),
                        Ok(o) if !o.is_complete() => {
                            Some(format!("did {} of {} operations", o.ops, o.expected_ops))
                        }
                        Ok(_) => None,
                    });
                    let walls: Vec<f64> = ok.iter().map(|o| o.wall_s).collect();
                    let peaks: Vec<f64> = ok.iter().map(|o| o.peak_rss_kib as f64).collect();
                    let afters: Vec<f64> = ok
                        .iter()
                        .filter_map(|o| o.rss_after_kib.map(|k| k as f64))
                        .collect();
                    let middle = median_run(&ok);
                    Cell {
                        runtime: runtime.clone(),
                        runs: ok.len(),
                        wall_s: median(&walls),
                        peak_rss_kib: median(&peaks),
                        rss_after_kib: median(&afters),
                        lateness: middle.and_then(|o| o.lateness),
                        lateness_cdf: middle.map(|o| o.lateness_cdf.clone()).unwrap_or_default(),
                        wall_ratio: None,
                        memory_ratio: None,
                        overhead_s: None,
                        overhead_ratio: None,
                        failure,
                    }
                })
                .collect();
            let base = cells
                .iter()
                .find(|c| c.runtime == BASELINE)
                .map(|c| (c.wall_s, c.peak_rss_kib));
            if let Some((base_wall, base_peak)) = base {
                for cell in &mut cells {
                    cell.wall_ratio = ratio(cell.wall_s, base_wall);
                    cell.memory_ratio = ratio(cell.peak_rss_kib, base_peak);
                }
            }
            WorkloadSummary {
                workload: workload.clone(),
                ideal_s: None,
                cells,
            }
        })
        .collect()
}

fn ratio(value: Option<f64>, base: Option<f64>) -> Option<f64> {
    match (value, base) {
        (Some(v), Some(b)) if b > 0.0 => Some(v / b),
        _ => None,
    }
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "–".to_string())
}

/// A Markdown table of the summary: per workload and runtime, median wall and peak memory, the
/// ratios to magpie, and lateness where recorded.
pub fn markdown_table(summaries: &[WorkloadSummary]) -> String {
    let mut out = String::new();
    out.push_str("| workload | runtime | runs | median wall | peak RSS | wall / magpie | overhead over ideal (/ magpie) | memory / magpie | RSS after | lateness p50 / p99 / max (early) |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for summary in summaries {
        for cell in &summary.cells {
            if cell.runs == 0 {
                let reason = cell
                    .failure
                    .clone()
                    .unwrap_or_else(|| "not run".to_string());
                let _ = writeln!(
                    out,
                    "| {} | {} | 0 | {} | | | | | | |",
                    summary.workload,
                    cell.runtime,
                    reason.replace('|', "/")
                );
                continue;
            }
            let lateness = cell.lateness.map(|l| {
                format!(
                    "{} / {} / {} ({})",
                    format_micros(l.p50_us.into()),
                    format_micros(l.p99_us.into()),
                    format_micros(l.max_us.into()),
                    l.early
                )
            });
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                summary.workload,
                cell.runtime,
                cell.runs,
                or_dash(cell.wall_s.map(format_seconds)),
                or_dash(cell.peak_rss_kib.map(format_kib)),
                or_dash(cell.wall_ratio.map(|r| format!("{r:.2}x"))),
                or_dash(cell.overhead_s.map(|o| match cell.overhead_ratio {
                    Some(r) => format!("{} ({r:.2}x)", format_seconds(o)),
                    None => format_seconds(o),
                })),
                or_dash(cell.memory_ratio.map(|r| format!("{r:.2}x"))),
                or_dash(cell.rss_after_kib.map(format_kib)),
                or_dash(lateness),
            );
        }
    }
    out
}

/// Seconds with a readable unit.
pub fn format_seconds(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else {
        format!("{:.1} ms", seconds * 1e3)
    }
}

/// KiB as MiB.
pub fn format_kib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn run(
        round: usize,
        runtime: &str,
        workload: &str,
        wall_s: f64,
        peak_rss_kib: u64,
    ) -> RunRecord {
        RunRecord {
            round,
            runtime: runtime.into(),
            workload: workload.into(),
            result: Ok(RunOutcome {
                runtime: runtime.into(),
                workload: workload.into(),
                scale: 1.0,
                workers: 2,
                wall_s,
                peak_rss_kib,
                rss_after_kib: None,
                ops: 1,
                expected_ops: 1,
                lateness: None,
                lateness_cdf: Vec::new(),
                counters: BTreeMap::new(),
            }),
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn medians_and_ratios_to_magpie() {
        let records = vec![
            run(0, "magpie", "w", 1.0, 100),
            run(1, "magpie", "w", 3.0, 300),
            run(2, "magpie", "w", 2.0, 200),
            run(0, "tokio", "w", 4.0, 400),
            run(1, "tokio", "w", 100.0, 500),
            run(2, "tokio", "w", 5.0, 300),
        ];
        let summary = summarize(&records, &names(&["w"]), &names(&["magpie", "tokio"]));
        let cells = &summary[0].cells;
        assert_eq!(cells[0].wall_s, Some(2.0));
        assert_eq!(cells[0].wall_ratio, Some(1.0));
        assert_eq!(
            cells[1].wall_s,
            Some(5.0),
            "the outlier does not move the median"
        );
        assert_eq!(cells[1].wall_ratio, Some(2.5));
        assert_eq!(cells[1].peak_rss_kib, Some(400.0));
        assert_eq!(cells[1].memory_ratio, Some(2.0));
    }

    #[test]
    fn failures_and_incomplete_runs_are_not_measurements() {
        let mut incomplete = run(0, "smol", "w", 0.1, 1);
        if let Ok(o) = &mut incomplete.result {
            o.ops = 0;
        }
        let records = vec![
            run(0, "magpie", "w", 1.0, 100),
            RunRecord {
                round: 0,
                runtime: "asyncio".into(),
                workload: "w".into(),
                result: Err("python3 not found".into()),
            },
            incomplete,
        ];
        let summary = summarize(
            &records,
            &names(&["w"]),
            &names(&["magpie", "smol", "asyncio"]),
        );
        let cells = &summary[0].cells;
        assert_eq!(
            (cells[1].runs, cells[1].wall_s, cells[1].wall_ratio),
            (0, None, None)
        );
        assert_eq!(cells[1].failure.as_deref(), Some("did 0 of 1 operations"));
        assert_eq!(cells[2].failure.as_deref(), Some("python3 not found"));
        let table = markdown_table(&summary);
        assert!(
            table.contains("| w | asyncio | 0 | python3 not found |"),
            "{table}"
        );
        assert!(
            table.contains("| w | magpie | 1 | 1.00 s | 0.1 MiB | 1.00x | – | 1.00x |"),
            "{table}"
        );
    }

    #[test]
    fn overhead_over_the_ideal_time() {
        let records = vec![
            run(0, "magpie", "w", 1.1, 100),
            run(0, "tokio", "w", 1.3, 100),
        ];
        let mut summary = summarize(&records, &names(&["w"]), &names(&["magpie", "tokio"]));
        summary[0].set_ideal(1.0);
        let cells = &summary[0].cells;
        assert!((cells[0].overhead_s.unwrap() - 0.1).abs() < 1e-9);
        assert!((cells[1].overhead_ratio.unwrap() - 3.0).abs() < 1e-9);
        let table = markdown_table(&summary);
        assert!(table.contains("| 300.0 ms (3.00x) |"), "{table}");
    }

    #[test]
    fn no_baseline_means_no_ratios() {
        let records = vec![run(0, "tokio", "w", 1.0, 100)];
        let summary = summarize(&records, &names(&["w"]), &names(&["tokio"]));
        assert_eq!(summary[0].cells[0].wall_ratio, None);
    }

    #[test]
    fn formats() {
        assert_eq!(format_seconds(2.345), "2.35 s");
        assert_eq!(format_seconds(0.0123), "12.3 ms");
        assert_eq!(format_kib(2048.0), "2.0 MiB");
    }
}
