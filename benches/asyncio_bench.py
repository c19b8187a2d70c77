#!/usr/bin/env python3
"""The comparison's workloads on Python asyncio, printing one JSON result line.

Run by `compare` (benches/src/driver.rs) as
    python3 asyncio_bench.py --workloads NAME --scale S --seed N --fanout-latency MODEL [--fanout-limit K]
and prints the same fields as the Rust workers (benches/src/outcome.rs). Sizes follow
benches/src/workload.rs; the latency models and their seeded draws follow
examples/fanout/latency.rs and rng.rs, so the fan-out's ideal time is the same on every runtime.
Peak memory is this process's own ru_maxrss. The code is plain asyncio as people write it
(create_task / gather, asyncio.sleep, asyncio.timeout, asyncio.Future as a oneshot channel).
"""

import argparse
import asyncio
import json
import math
import re
import resource
import sys
import time
import zlib

MASK = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MAX_LATENCY_S = 3600.0


class SplitMix64:
    """Same generator and per-index streams as examples/fanout/rng.rs."""

    def __init__(self, seed):
        self.state = seed & MASK

    @classmethod
    def for_index(cls, seed, index):
        rotated = ((index * GOLDEN_GAMMA) & MASK)
        rotated = ((rotated << 17) | (rotated >> 47)) & MASK
        mixer = cls(seed ^ rotated)
        return cls(mixer.next_u64() ^ index)

    def next_u64(self):
        self.state = (self.state + GOLDEN_GAMMA) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next_f64(self):
        return (self.next_u64() >> 11) * (1.0 / (1 << 53))

    def next_standard_normal(self):
        u1 = 1.0 - self.next_f64()
        u2 = self.next_f64()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text):
    match = re.fullmatch(r"\s*([0-9.]+)\s*(ns|us|µs|ms|s|m|h)\s*", text)
    if not match:
        raise ValueError(f"bad duration {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def latency_sampler(spec, seed):
    """Returns f(index) -> seconds for a model written like examples/fanout/latency.rs."""
    kind, _, args = spec.partition(":") if ":" in spec else ("fixed", "", spec)
    if kind == "fixed":
        value = parse_duration(args)
        return lambda index: value
    if kind == "uniform":
        low, high = (parse_duration(x) for x in args.split(".."))
        return lambda index: low + SplitMix64.for_index(seed, index).next_f64() * (high - low)
    if kind == "lognormal":
        median, sigma = args.split(",")
        median, sigma = parse_duration(median), float(sigma)
        return lambda index: min(
            median * math.exp(sigma * SplitMix64.for_index(seed, index).next_standard_normal()), MAX_LATENCY_S
        )
    raise ValueError(f"unknown latency model {spec!r}")


def scaled(full, scale):
    return max(1, int(round(full * scale)))


def cdf_points(sorted_us, points=200):
    n = len(sorted_us)
    out = []
    for k in range(1, points + 1):
        rank = max(1, -(-k * n // points))
        point = [sorted_us[rank - 1], rank / n]
        if not out or out[-1] != point:
            out.append(point)
    return out if n else []


def percentile(sorted_us, p):
    if not sorted_us:
        return 0
    rank = math.ceil(p * len(sorted_us))
    return sorted_us[min(max(rank, 1), len(sorted_us)) - 1]


def lateness_fields(samples, early):
    samples.sort()
    summary = {
        "count": len(samples),
        "p50_us": percentile(samples, 0.50),
        "p99_us": percentile(samples, 0.99),
        "p999_us": percentile(samples, 0.999),
        "max_us": samples[-1] if samples else 0,
        "early": early,
    }
    return {"lateness": summary, "lateness_cdf": cdf_points(samples)}


def to_micros(seconds):
    return min(int(seconds * 1e6), 2**32 - 1)


async def sleep_gather(sizes, args):
    async def sleeper():
        deadline = time.monotonic() + 1.0
        await asyncio.sleep(1.0)
        now = time.monotonic()
        return to_micros(max(0.0, now - deadline)), now < deadline

    results = await asyncio.gather(*(sleeper() for _ in range(sizes["sleepers"])))
    samples = [r[0] for r in results]
    early = sum(1 for r in results if r[1])
    return len(samples), lateness_fields(samples, early)


async def lateness(sizes, args, spaced=False):
    window = 0.1
    seed = args.seed
    count = sizes["deadlines"]
    # One window for every deadline, opening 1 s after the start (as in benches/src/jobs.rs):
    # drawn at random (`lateness`), or evenly spaced in spawn order (`lateness-spaced`).
    opens = time.monotonic() + 1.0

    def offset(index):
        if spaced:
            return index * window / count
        return SplitMix64.for_index(seed, index).next_f64() * window

    async def task(index):
        deadline = opens + offset(index)
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        now = time.monotonic()
        return to_micros(max(0.0, now - deadline)), now < deadline

    results = await asyncio.gather(*(task(i) for i in range(count)))
    samples = [r[0] for r in results]
    early = sum(1 for r in results if r[1])
    return len(samples), lateness_fields(samples, early)


async def fanout(sizes, args):
    sample = latency_sampler(args.fanout_latency, args.seed)
    semaphore = asyncio.Semaphore(args.fanout_limit) if args.fanout_limit else None

    async def fetch(index):
        if semaphore is not None:
            await semaphore.acquire()
        try:
            latency = sample(index)
            deadline = time.monotonic() + latency
            await asyncio.sleep(latency)
            now = time.monotonic()
            response = index.to_bytes(8, "little") * 128  # the 1 KiB response, made after the wait
            return to_micros(max(0.0, now - deadline)), now < deadline, zlib.adler32(response)
        finally:
            if semaphore is not None:
                semaphore.release()

    results = await asyncio.gather(*(fetch(i) for i in range(sizes["fetches"])))
    samples = [r[0] for r in results]
    early = sum(1 for r in results if r[1])
    return len(samples), lateness_fields(samples, early)


async def spawn_many(sizes, args):
    async def noop():
        pass

    tasks = [asyncio.create_task(noop()) for _ in range(sizes["spawns"])]
    for task in tasks:
        await task
    return len(tasks), {}


async def yield_many(sizes, args):
    yields = sizes["yields_per_task"]

    async def yielder():
        for _ in range(yields):
            await asyncio.sleep(0)
        return yields

    done = await asyncio.gather(*(yielder() for _ in range(sizes["yielders"])))
    return sum(done), {}


async def chained_spawn(sizes, args):
    loop = asyncio.get_running_loop()

    async def link(remaining, done, links):
        if remaining == 0:
            done.set_result(links)
        else:
            asyncio.create_task(link(remaining - 1, done, links + 1))

    ops = 0
    for _ in range(sizes["chains"]):
        done = loop.create_future()
        await link(sizes["chain_length"], done, 0)
        ops += await done
    return ops, {}


async def ping_pong(sizes, args):
    loop = asyncio.get_running_loop()

    async def pinger(pair):
        ping, pong = loop.create_future(), loop.create_future()

        async def ponger():
            value = await ping
            pong.set_result(value + 1)

        asyncio.create_task(ponger())
        ping.set_result(pair)
        answer = await pong
        assert answer == pair + 1
        return 2

    ops = 0
    for _ in range(sizes["ping_pong_rounds"]):
        ops += sum(await asyncio.gather(*(asyncio.create_task(pinger(p)) for p in range(sizes["pairs"]))))
    return ops, {}


async def timeout_churn(sizes, args):
    total, tasks = sizes["timeouts"], min(sizes["timeout_tasks"], sizes["timeouts"])

    async def ready(value):
        return value

    async def churn(count):
        passed = 0
        for value in range(count):
            async with asyncio.timeout(1.0):
                if await ready(value) == value:
                    passed += 1
        return passed

    counts = [total // tasks + (1 if t < total % tasks else 0) for t in range(tasks)]
    return sum(await asyncio.gather(*(churn(c) for c in counts))), {}


WORKLOADS = {
    "sleep-gather": (sleep_gather, lambda s: s["sleepers"]),
    "lateness": (lateness, lambda s: s["deadlines"]),
    "lateness-spaced": (
        lambda sizes, args: lateness(sizes, args, spaced=True),
        lambda s: s["deadlines"],
    ),
    "fanout": (fanout, lambda s: s["fetches"]),
    "fanout-uniform": (fanout, lambda s: s["fetches"]),
    "fanout-lognormal": (fanout, lambda s: s["fetches"]),
    "spawn-many": (spawn_many, lambda s: s["spawns"]),
    "yield-many": (yield_many, lambda s: s["yielders"] * s["yields_per_task"]),
    "chained-spawn": (chained_spawn, lambda s: s["chains"] * s["chain_length"]),
    "ping-pong": (ping_pong, lambda s: 2 * s["ping_pong_rounds"] * s["pairs"]),
    "timeout-churn": (timeout_churn, lambda s: s["timeouts"]),
}


def sizes_at(scale):
    return {
        "sleepers": scaled(1_000_000, scale),
        "deadlines": scaled(1_000_000, scale),
        "fetches": scaled(1_000_000, scale),
        "spawns": scaled(1_000_000, scale),
        "yielders": 200,
        "yields_per_task": scaled(10_000, scale),
        "chains": scaled(200, scale),
        "chain_length": 1_000,
        "ping_pong_rounds": scaled(100, scale),
        "pairs": 1_000,
        "timeouts": scaled(1_000_000, scale),
        "timeout_tasks": 100,
    }


def current_rss_kib():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() // 1024
    except OSError:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", required=True, choices=sorted(WORKLOADS))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0x5EED)
    parser.add_argument("--fanout-latency", default="1s")
    parser.add_argument("--fanout-limit", type=int, default=None)
    args = parser.parse_args()
    if not 0 < args.scale <= 100:
        parser.error("the scale must be above 0 and at most 100")
    sizes = sizes_at(args.scale)
    job, expected = WORKLOADS[args.workloads]
    result = {}

    async def timed():
        started = time.perf_counter()
        ops, extra = await job(sizes, args)
        result.update(wall_s=time.perf_counter() - started, ops=ops, rss_after_kib=current_rss_kib(), **extra)

    asyncio.run(timed())
    line = {
        "runtime": "asyncio",
        "workload": args.workloads,
        "scale": args.scale,
        "workers": 1,
        "wall_s": result["wall_s"],
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "rss_after_kib": result["rss_after_kib"],
        "ops": result["ops"],
        "expected_ops": expected(sizes),
        "lateness": result.get("lateness"),
        "lateness_cdf": result.get("lateness_cdf", []),
        "counters": {},
    }
    print(json.dumps(line))


if __name__ == "__main__":
    sys.exit(main())
