//! A tiny deterministic pseudo-random generator for latency draws.
//!
//! `SplitMix64` is enough for simulated network latencies: it is fast, has a 64-bit state, and one
//! generator per fetch can be derived from `(seed, index)` so each fetch's latency is reproducible
//! without storing a million draws. It is not cryptographic and not meant to be.

/// The SplitMix64 generator (Steele, Lea, Flood 2014).
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

/// The golden-ratio increment SplitMix64 adds to its state at every step.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The generator for draw number `index` of a run seeded with `seed`: independent streams that can
    /// be recomputed from the pair alone.
    pub fn for_index(seed: u64, index: u64) -> Self {
        let mut mixer = Self::new(seed ^ index.wrapping_mul(GOLDEN_GAMMA).rotate_left(17));
        Self::new(mixer.next_u64() ^ index)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal draw (Box–Muller; the second value is discarded for simplicity).
    pub fn next_standard_normal(&mut self) -> f64 {
        // 1 - u is in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_different_seeds_differ() {
        let a: Vec<u64> = (0..5)
            .map(|_| 0)
            .scan(SplitMix64::new(1), |r, _: u64| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .map(|_| 0)
            .scan(SplitMix64::new(1), |r, _: u64| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..5)
            .map(|_| 0)
            .scan(SplitMix64::new(2), |r, _: u64| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(
            SplitMix64::for_index(7, 1).next_u64(),
            SplitMix64::for_index(7, 2).next_u64()
        );
    }

    #[test]
    fn matches_the_reference_outputs_and_the_python_port() {
        // SplitMix64's published first outputs for seed 1; `for_index` as benches/asyncio_bench.py
        // computes it, so both sides draw the same latencies.
        let mut rng = SplitMix64::new(1);
        assert_eq!(rng.next_u64(), 10_451_216_379_200_822_465);
        assert_eq!(rng.next_u64(), 13_757_245_211_066_428_519);
        assert_eq!(
            SplitMix64::for_index(7, 1).next_u64(),
            13_442_326_885_938_842_707
        );
    }

    #[test]
    fn uniform_and_normal_have_the_right_moments() {
        let mut rng = SplitMix64::new(42);
        let n = 100_000;
        let (mut sum, mut min, mut max) = (0.0, 1.0f64, 0.0f64);
        for _ in 0..n {
            let x = rng.next_f64();
            sum += x;
            min = min.min(x);
            max = max.max(x);
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.01);
        assert!(min >= 0.0 && max < 1.0);
        let (mut s1, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let z = rng.next_standard_normal();
            s1 += z;
            s2 += z * z;
        }
        let mean = s1 / n as f64;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((s2 / n as f64 - 1.0).abs() < 0.03, "variance");
    }
}
