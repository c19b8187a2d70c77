//! Smoke test of the fan-out job: a small run through the same library function the example calls,
//! checking every report field and the JSON form.

use std::time::Duration;

use magpie_examples::fanout::job::{run, FanoutConfig};
use magpie_examples::fanout::latency::LatencyModel;
use magpie_examples::fanout::report::FanoutReport;
use magpie_examples::fanout::work::{combine_checksums, respond_and_checksum};

fn small(fetches: u64, latency: LatencyModel, limit: Option<usize>) -> FanoutConfig {
    FanoutConfig {
        fetches,
        latency,
        limit,
        workers: Some(2),
        seed: 7,
        progress: false,
    }
}

fn expected_checksum(fetches: u64) -> u64 {
    combine_checksums((0..fetches).map(respond_and_checksum))
}

#[test]
fn small_fixed_latency_run_reports_every_field() {
    let latency = LatencyModel::Fixed(Duration::from_millis(10));
    let report = run(&small(2000, latency, None)).expect("runtime builds");
    assert_eq!(report.tasks, 2000);
    assert_eq!(report.workers, 2);
    assert_eq!(report.latency, "fixed:10.0ms");
    assert_eq!(report.limit, None);
    assert_eq!(report.ideal_s, 0.010);
    // Nobody can finish before the latency has elapsed.
    assert!(report.wall_s >= 0.010, "wall {}", report.wall_s);
    assert!((report.overhead_s - (report.wall_s - report.ideal_s)).abs() < 1e-9);
    assert!((report.fetches_per_s - 2000.0 / report.wall_s).abs() < 1e-6 * report.fetches_per_s);
    assert_eq!(report.lateness.count, 2000);
    assert_eq!(report.lateness.early, 0, "a timer fired early");
    let l = report.lateness;
    assert!(l.p50_us <= l.p99_us && l.p99_us <= l.p999_us && l.p999_us <= l.max_us);
    assert!(report.peak_rss_kib > 0);
    assert_eq!(report.checksum, expected_checksum(2000));
    assert!(
        report.metrics.timers_fired >= 1,
        "no timer fired: {:?}",
        report.metrics
    );
    assert!(report.metrics.polls >= 2000);

    let json = report.to_json();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    for field in [
        "tasks",
        "workers",
        "wall_s",
        "ideal_s",
        "overhead_s",
        "fetches_per_s",
        "lateness",
        "peak_rss_kib",
        "metrics",
    ] {
        assert!(value.get(field).is_some(), "JSON lacks {field}: {json}");
    }
    for field in ["p50_us", "p99_us", "p999_us", "max_us", "early"] {
        assert!(
            value["lateness"].get(field).is_some(),
            "JSON lacks lateness.{field}"
        );
    }
    for field in ["steals", "parks", "timers_fired"] {
        assert!(
            value["metrics"].get(field).is_some(),
            "JSON lacks metrics.{field}"
        );
    }
    let back: FanoutReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn concurrency_limit_serialises_the_fetches() {
    // 200 fetches of 5 ms, at most 50 in flight: at least four rounds of 5 ms.
    let latency = LatencyModel::Fixed(Duration::from_millis(5));
    let report = run(&small(200, latency, Some(50))).expect("runtime builds");
    assert_eq!(report.limit, Some(50));
    assert_eq!(report.ideal_s, 0.020);
    assert!(report.wall_s >= 0.020, "wall {}", report.wall_s);
    assert_eq!(report.lateness.count, 200);
    assert_eq!(report.lateness.early, 0);
    assert_eq!(report.checksum, expected_checksum(200));
}

#[test]
fn heavy_tailed_latencies_are_reproducible_in_the_ideal_time() {
    let latency: LatencyModel = "lognormal:2ms,0.5".parse().unwrap();
    let first = run(&small(500, latency, None)).expect("runtime builds");
    let second = run(&small(500, latency, None)).expect("runtime builds");
    assert_eq!(first.ideal_s, second.ideal_s);
    assert!(first.wall_s >= first.ideal_s);
    assert_eq!(first.lateness.early, 0);
}
