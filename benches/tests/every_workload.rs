//! Every workload on every Rust runtime at a tiny scale: all operations complete, timers never fire
//! early, and the result line round-trips through JSON as the parent process reads it.

use magpie_benches::jobs::JobParams;
use magpie_benches::outcome::RunOutcome;
use magpie_benches::runtimes::RUST_RUNTIMES;
use magpie_benches::worker::run_in_process;
use magpie_benches::workload::{Sizes, Workload};

const SCALE: f64 = 0.001;

fn params() -> JobParams {
    JobParams {
        sizes: Sizes::at_scale(SCALE),
        fanout_latency: "uniform:1ms..20ms".parse().unwrap(),
        fanout_limit: None,
        seed: 11,
    }
}

#[test]
fn every_workload_completes_on_every_rust_runtime() {
    let params = params();
    for runtime in RUST_RUNTIMES {
        for workload in Workload::ALL {
            let outcome = run_in_process(runtime, workload, &params, SCALE, 2)
                .unwrap_or_else(|e| panic!("{workload} on {runtime}: {e}"));
            assert!(
                outcome.is_complete(),
                "{workload} on {runtime}: {} of {} ops",
                outcome.ops,
                outcome.expected_ops
            );
            assert_eq!(
                (outcome.runtime.as_str(), outcome.workload.as_str()),
                (runtime, workload.name())
            );
            assert!(outcome.wall_s > 0.0 && outcome.peak_rss_kib > 0);
            if workload.records_lateness() {
                let lateness = outcome
                    .lateness
                    .unwrap_or_else(|| panic!("{workload} on {runtime}: no lateness"));
                assert_eq!(
                    lateness.early, 0,
                    "{workload} on {runtime}: a timer fired early"
                );
                assert_eq!(lateness.count, outcome.expected_ops);
                assert!(!outcome.lateness_cdf.is_empty());
            } else {
                assert!(outcome.lateness.is_none());
            }
            if workload == Workload::SleepGather {
                assert!(
                    outcome.wall_s >= 1.0,
                    "{runtime} slept less than the 1 s sleep"
                );
            }
            let parsed = RunOutcome::from_worker_output(&outcome.to_json_line()).unwrap();
            assert_eq!(parsed, outcome);
        }
    }
}

#[test]
fn fanout_respects_the_concurrency_limit() {
    // 1,000 fetches of exactly 5 ms, at most 100 in flight: ten rounds, so at least 50 ms.
    let params = JobParams {
        fanout_latency: "5ms".parse().unwrap(),
        fanout_limit: Some(100),
        ..params()
    };
    for runtime in RUST_RUNTIMES {
        let outcome = run_in_process(runtime, Workload::Fanout, &params, SCALE, 2).unwrap();
        assert!(outcome.is_complete());
        assert!(
            outcome.wall_s >= 0.050,
            "{runtime} ran more than 100 at once: {}",
            outcome.wall_s
        );
        assert_eq!(outcome.lateness.map(|l| l.early), Some(0));
    }
}

#[test]
fn python_is_not_a_rust_runtime() {
    assert!(run_in_process("asyncio", Workload::SpawnMany, &params(), SCALE, 1).is_err());
}
