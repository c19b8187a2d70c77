//! The workloads as generic async jobs over [`Spawner`], identical for every Rust runtime.
//!
//! Each job runs inside the runtime (spawned as a task by [`run_job`]) and returns a [`JobOutput`]: a
//! count of operations done (checked by the caller, so a runtime cannot skip work unnoticed), a
//! checksum where there is a response to check, and the lateness samples of the timer workloads.

use std::future::ready;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_lock::Semaphore;
use futures::channel::oneshot;
use magpie_examples::fanout::latency::{ideal_duration, LatencyModel};
use magpie_examples::fanout::rng::SplitMix64;
use magpie_examples::fanout::stats::micros_u32;
use magpie_examples::fanout::work::respond_and_checksum;

use crate::spawner::{BenchRuntime, Spawner};
use crate::workload::{Sizes, Workload, LOGNORMAL_LATENCY, UNIFORM_LATENCY};

/// Everything a job needs besides the runtime.
#[derive(Clone, Debug, PartialEq)]
pub struct JobParams {
    /// Sizes at the chosen scale.
    pub sizes: Sizes,
    /// Latency model of `fanout`.
    pub fanout_latency: LatencyModel,
    /// Concurrency limit of `fanout`.
    pub fanout_limit: Option<usize>,
    /// Seed of every random draw.
    pub seed: u64,
}

impl JobParams {
    /// The latency model a fan-out workload uses (`fanout_latency` for plain `fanout`).
    pub fn latency_for(&self, workload: Workload) -> LatencyModel {
        let fixed = match workload {
            Workload::FanoutUniform => UNIFORM_LATENCY,
            Workload::FanoutLognormal => LOGNORMAL_LATENCY,
            _ => return self.fanout_latency,
        };
        fixed.parse().expect("the built-in latency models parse")
    }
}

/// Lateness samples of a timer workload.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatenessSamples {
    /// Microseconds each task resumed after its deadline.
    pub micros: Vec<u32>,
    /// Tasks that resumed before their deadline.
    pub early: u64,
}

/// What a job reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobOutput {
    /// Operations completed (tasks joined, yields done, messages exchanged, timeouts passed).
    pub ops: u64,
    /// Checksum of the work, where the workload has any (fan-out responses).
    pub checksum: u64,
    /// Lateness samples, for `sleep-gather`, `lateness` and the fan-outs.
    pub lateness: Option<LatenessSamples>,
}

/// Runs `workload` inside `runtime` and returns its output and wall time (runtime start-up excluded).
pub fn run_job<R: BenchRuntime>(
    runtime: &R,
    workload: Workload,
    params: &JobParams,
) -> (Duration, JobOutput) {
    let params = params.clone();
    let started = Instant::now();
    let output = runtime.run_inside(move |spawner| async move {
        let sizes = params.sizes;
        match workload {
            Workload::SleepGather => sleep_gather(spawner, sizes.sleepers, sizes.sleep).await,
            Workload::Lateness | Workload::LatenessSpaced => {
                lateness(
                    spawner,
                    sizes.deadlines,
                    sizes.deadline_lead,
                    sizes.deadline_window,
                    params.seed,
                    DeadlineOrder::of(workload),
                )
                .await
            }
            Workload::Fanout | Workload::FanoutUniform | Workload::FanoutLognormal => {
                fanout(
                    spawner,
                    sizes.fetches,
                    params.latency_for(workload),
                    params.fanout_limit,
                    params.seed,
                )
                .await
            }
            Workload::SpawnMany => spawn_many(spawner, sizes.spawns).await,
            Workload::YieldMany => yield_many(spawner, sizes.yielders, sizes.yields_per_task).await,
            Workload::ChainedSpawn => {
                chained_spawn(spawner, sizes.chains, sizes.chain_length).await
            }
            Workload::PingPong => ping_pong(spawner, sizes.ping_pong_rounds, sizes.pairs).await,
            Workload::TimeoutChurn => {
                timeout_churn(spawner, sizes.timeouts, sizes.timeout_tasks).await
            }
        }
    });
    (started.elapsed(), output)
}

/// `tasks` tasks each sleep `sleep`; all are joined. Each task reports how late it resumed.
pub async fn sleep_gather<S: Spawner>(spawner: S, tasks: u64, sleep: Duration) -> JobOutput {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            spawner.spawn(async move {
                let deadline = Instant::now() + sleep;
                S::sleep(sleep).await;
                lateness_of(deadline)
            })
        })
        .collect();
    gather_lateness(handles).await
}

/// Joins `(lateness, early)` outcomes in order: the output of a timer job without a checksum.
async fn gather_lateness<J: std::future::Future<Output = (u32, bool)>>(
    handles: Vec<J>,
) -> JobOutput {
    let mut samples = LatenessSamples {
        micros: Vec::with_capacity(handles.len()),
        early: 0,
    };
    for handle in handles {
        let (micros, early) = handle.await;
        samples.micros.push(micros);
        samples.early += u64::from(early);
    }
    JobOutput {
        ops: samples.micros.len() as u64,
        checksum: 0,
        lateness: Some(samples),
    }
}

/// Lateness of a wake-up that was due at `deadline`, and whether it came early.
fn lateness_of(deadline: Instant) -> (u32, bool) {
    let now = Instant::now();
    (
        micros_u32(now.saturating_duration_since(deadline)),
        now < deadline,
    )
}

/// How `lateness` places its deadlines in the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadlineOrder {
    /// Drawn uniformly at random (`lateness`): the wake order has nothing to do with the spawn
    /// order, so each wake-up touches memory the previous one did not.
    Random,
    /// Evenly spaced in spawn order (`lateness-spaced`): task `i` of `n` is due at `i/n` of the
    /// window, and tasks wake in the order they were allocated.
    Spaced,
}

impl DeadlineOrder {
    /// The order a lateness workload uses.
    fn of(workload: Workload) -> Self {
        if workload == Workload::LatenessSpaced {
            DeadlineOrder::Spaced
        } else {
            DeadlineOrder::Random
        }
    }
}

/// `tasks` tasks each sleep until its own deadline in one `window` that opens `lead` after the
/// job starts, placed by `order`: all deadlines fall inside the same window, so the wake-ups are
/// dense. A runtime that has not even started a task by its deadline shows that as lateness.
pub async fn lateness<S: Spawner>(
    spawner: S,
    tasks: u64,
    lead: Duration,
    window: Duration,
    seed: u64,
    order: DeadlineOrder,
) -> JobOutput {
    let window_ns = window.as_nanos() as f64;
    let step_ns = window_ns / tasks as f64;
    let opens = Instant::now() + lead;
    let handles: Vec<_> = (0..tasks)
        // One task body per order, each capturing only what it needs: the random order's tasks
        // stay the size they were before the spaced order existed, so its history compares.
        .map(|index| match order {
            DeadlineOrder::Random => spawner.spawn(async move {
                // The same draw as `LatencyModel::Uniform { low: 0, high: window }`, so
                // `ideal_time` can recompute it.
                let offset = SplitMix64::for_index(seed, index).next_f64() * window_ns;
                let deadline = opens + Duration::from_nanos(offset as u64);
                S::sleep_until(deadline).await;
                lateness_of(deadline)
            }),
            DeadlineOrder::Spaced => spawner.spawn(async move {
                let deadline = opens + Duration::from_nanos((index as f64 * step_ns) as u64);
                S::sleep_until(deadline).await;
                lateness_of(deadline)
            }),
        })
        .collect();
    gather_lateness(handles).await
}

/// The fan-out example's job: each fetch (at most `limit` at once) sleeps its latency, then
/// checksums a 1 KiB response built on the stack.
pub async fn fanout<S: Spawner>(
    spawner: S,
    fetches: u64,
    latency: LatencyModel,
    limit: Option<usize>,
    seed: u64,
) -> JobOutput {
    let semaphore = limit.map(|permits| Arc::new(Semaphore::new(permits)));
    let handles: Vec<_> = (0..fetches)
        .map(|index| {
            let semaphore = semaphore.clone();
            spawner.spawn(async move {
                let _permit = match &semaphore {
                    Some(semaphore) => Some(semaphore.acquire().await),
                    None => None,
                };
                let latency = latency.sample(seed, index);
                let deadline = Instant::now() + latency;
                S::sleep(latency).await;
                let (micros, early) = lateness_of(deadline);
                (micros, early, respond_and_checksum(index))
            })
        })
        .collect();
    let mut samples = LatenessSamples {
        micros: Vec::with_capacity(handles.len()),
        early: 0,
    };
    let mut checksum = 0u64;
    for handle in handles {
        let (micros, early, response) = handle.await;
        samples.micros.push(micros);
        samples.early += u64::from(early);
        checksum = checksum.wrapping_add(u64::from(response));
    }
    JobOutput {
        ops: samples.micros.len() as u64,
        checksum,
        lateness: Some(samples),
    }
}

/// `tasks` no-op spawns from inside the runtime, then all joined.
pub async fn spawn_many<S: Spawner>(spawner: S, tasks: u64) -> JobOutput {
    let handles: Vec<_> = (0..tasks).map(|_| spawner.spawn(async {})).collect();
    let mut ops = 0;
    for handle in handles {
        handle.await;
        ops += 1;
    }
    JobOutput {
        ops,
        ..JobOutput::default()
    }
}

/// `tasks` tasks each yield `yields` times.
pub async fn yield_many<S: Spawner>(spawner: S, tasks: u64, yields: u64) -> JobOutput {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            spawner.spawn(async move {
                for _ in 0..yields {
                    S::yield_now().await;
                }
                yields
            })
        })
        .collect();
    JobOutput {
        ops: sum_in_order(handles).await,
        ..JobOutput::default()
    }
}

/// Spawns the next link of a chain, or reports the chain done at its end.
/// Awaits every handle in spawn order and adds up what the tasks counted.
async fn sum_in_order<J: std::future::Future<Output = u64>>(handles: Vec<J>) -> u64 {
    let mut sum = 0;
    for handle in handles {
        sum += handle.await;
    }
    sum
}

fn chain_link<S: Spawner>(spawner: S, remaining: u64, done: oneshot::Sender<u64>, links: u64) {
    if remaining == 0 {
        let _ = done.send(links);
        return;
    }
    let next = spawner.clone();
    S::detach(spawner.spawn(async move { chain_link(next, remaining - 1, done, links + 1) }));
}

/// `chains` chains, one after another, of `length` tasks each spawning the next.
pub async fn chained_spawn<S: Spawner>(spawner: S, chains: u64, length: u64) -> JobOutput {
    let mut ops = 0;
    for _ in 0..chains {
        let (done, finished) = oneshot::channel();
        chain_link(spawner.clone(), length, done, 0);
        ops += finished.await.expect("a chain was dropped before its end");
    }
    JobOutput {
        ops,
        ..JobOutput::default()
    }
}

/// `rounds` rounds of `pairs` pairs; in each pair one task sends a message through a oneshot and the
/// other answers through another.
pub async fn ping_pong<S: Spawner>(spawner: S, rounds: u64, pairs: u64) -> JobOutput {
    let mut ops = 0;
    for _ in 0..rounds {
        let handles: Vec<_> = (0..pairs)
            .map(|pair| {
                let inner = spawner.clone();
                spawner.spawn(async move {
                    let (ping, pinged) = oneshot::channel::<u64>();
                    let (pong, ponged) = oneshot::channel::<u64>();
                    S::detach(inner.spawn(async move {
                        let value = pinged.await.expect("ping sender dropped");
                        let _ = pong.send(value + 1);
                    }));
                    let _ = ping.send(pair);
                    let answer = ponged.await.expect("pong sender dropped");
                    assert_eq!(answer, pair + 1, "ping-pong answered the wrong message");
                    2
                })
            })
            .collect();
        for handle in handles {
            ops += handle.await;
        }
    }
    JobOutput {
        ops,
        ..JobOutput::default()
    }
}

/// `timeouts` one-second timeouts around ready futures, shared by `tasks` tasks.
pub async fn timeout_churn<S: Spawner>(spawner: S, timeouts: u64, tasks: u64) -> JobOutput {
    let tasks = tasks.clamp(1, timeouts.max(1));
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            // Spread the remainder so exactly `timeouts` run in total.
            let count = timeouts / tasks + u64::from(task < timeouts % tasks);
            spawner.spawn(async move {
                let mut passed = 0;
                for value in 0..count {
                    if S::timeout(Duration::from_secs(1), ready(value)).await == Some(value) {
                        passed += 1;
                    }
                }
                passed
            })
        })
        .collect();
    JobOutput {
        ops: sum_in_order(handles).await,
        ..JobOutput::default()
    }
}

/// The wall time a perfect runtime would need for `workload` (timer workloads only): every task
/// wakes exactly at its deadline and nothing else costs time. Uses the same draws as the jobs.
pub fn ideal_time(workload: Workload, params: &JobParams) -> Option<Duration> {
    let s = &params.sizes;
    match workload {
        Workload::SleepGather => Some(s.sleep),
        Workload::Lateness => {
            let window = LatencyModel::Uniform {
                low: Duration::ZERO,
                high: s.deadline_window,
            };
            Some(s.deadline_lead + ideal_duration(&window, params.seed, s.deadlines, None))
        }
        Workload::LatenessSpaced => {
            // The last task is due at (n - 1)/n of the window.
            let last = s.deadlines.saturating_sub(1) as f64 / s.deadlines as f64;
            Some(s.deadline_lead + s.deadline_window.mul_f64(last))
        }
        Workload::Fanout | Workload::FanoutUniform | Workload::FanoutLognormal => {
            Some(ideal_duration(
                &params.latency_for(workload),
                params.seed,
                s.fetches,
                params.fanout_limit,
            ))
        }
        _ => None,
    }
}

/// How many operations a correct run of `workload` completes, to check [`JobOutput::ops`].
pub fn expected_ops(workload: Workload, params: &JobParams) -> u64 {
    let s = &params.sizes;
    match workload {
        Workload::SleepGather => s.sleepers,
        Workload::Lateness | Workload::LatenessSpaced => s.deadlines,
        Workload::Fanout | Workload::FanoutUniform | Workload::FanoutLognormal => s.fetches,
        Workload::SpawnMany => s.spawns,
        Workload::YieldMany => s.yielders * s.yields_per_task,
        Workload::ChainedSpawn => s.chains * s.chain_length,
        Workload::PingPong => 2 * s.ping_pong_rounds * s.pairs,
        Workload::TimeoutChurn => s.timeouts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(deadlines: u64) -> JobParams {
        let mut sizes = Sizes::at_scale(1.0);
        sizes.deadlines = deadlines;
        JobParams {
            sizes,
            fanout_latency: "1s".parse().unwrap(),
            fanout_limit: None,
            seed: 7,
        }
    }

    #[test]
    fn spaced_deadlines_end_one_step_before_the_window_closes() {
        let params = params(4);
        let s = params.sizes;
        // Deadlines at 0, 1/4, 2/4 and 3/4 of the window: the last one is the ideal end.
        assert_eq!(
            ideal_time(Workload::LatenessSpaced, &params),
            Some(s.deadline_lead + s.deadline_window.mul_f64(0.75))
        );
    }

    #[test]
    fn random_deadlines_fall_inside_the_window() {
        let params = params(1000);
        let s = params.sizes;
        let ideal = ideal_time(Workload::Lateness, &params).unwrap();
        assert!(ideal > s.deadline_lead + s.deadline_window.mul_f64(0.9));
        assert!(ideal <= s.deadline_lead + s.deadline_window);
    }
}
