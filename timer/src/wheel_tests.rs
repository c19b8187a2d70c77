//! Unit tests of the timing wheel, driven by a virtual `now`. Sizes shrink under Miri.

use std::ptr::NonNull;

use super::*;

/// Test harness: a wheel plus the entries it was given, freed at the end.
struct Harness {
    wheel: Wheel,
    entries: Vec<NonNull<Entry>>,
}

impl Harness {
    fn new(now: u64) -> Self {
        Harness {
            wheel: Wheel::new(now),
            entries: Vec::new(),
        }
    }

    /// Inserts a new entry at `tick`; returns its index, or `None` if it was due at once.
    fn insert(&mut self, tick: u64) -> Option<usize> {
        let entry = Entry::allocate_for_test(tick);
        self.entries.push(entry);
        // SAFETY: the entry lives until `Drop` frees it, after the wheel is done with it.
        match unsafe { self.wheel.insert(entry) } {
            Ok(()) => Some(self.entries.len() - 1),
            Err(_) => None,
        }
    }

    /// Advances to `now`; returns the ticks of the fired entries, checking each against `now`.
    fn advance(&mut self, now: u64) -> Vec<u64> {
        let mut fired = Vec::new();
        self.wheel.advance(now, |entry| {
            // SAFETY: test entries are alive until `Drop`.
            fired.push(unsafe { entry.as_ref() }.tick());
        });
        for &tick in &fired {
            assert!(tick <= now, "fired early: deadline {tick}, now {now}");
        }
        fired
    }

    fn remove(&mut self, index: usize) {
        // SAFETY: alive; the test only removes linked entries.
        unsafe { self.wheel.remove(self.entries[index]) };
    }

    fn is_linked(&self, index: usize) -> bool {
        // SAFETY: alive until `Drop`.
        unsafe { self.wheel.is_linked(self.entries[index]) }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        for &entry in &self.entries {
            Entry::free_for_test(entry);
        }
    }
}

#[test]
fn due_or_past_deadlines_are_rejected_for_immediate_firing() {
    let mut h = Harness::new(100);
    assert_eq!(h.insert(100), None);
    assert_eq!(h.insert(3), None);
    assert!(h.insert(101).is_some());
    assert_eq!(h.wheel.len(), 1);
}

#[test]
fn level_zero_fires_each_tick_exactly() {
    let mut h = Harness::new(0);
    for tick in 1..=63 {
        h.insert(tick);
    }
    for now in 1..=63 {
        assert_eq!(h.advance(now), vec![now]);
    }
    assert_eq!(h.wheel.len(), 0);
    assert_eq!(h.wheel.next_expiration(), None);
}

#[test]
fn slot_boundaries_between_levels() {
    // 63 is the last level-0 slot from 0; 64 is the first tick of level 1; 4095/4096 the level-1/2
    // boundary.
    for &tick in &[63u64, 64, 65, 127, 128, 4095, 4096, 4097, 262_143, 262_144] {
        let mut h = Harness::new(0);
        h.insert(tick);
        assert!(
            h.advance(tick - 1).is_empty(),
            "tick {tick} fired at {}",
            tick - 1
        );
        assert_eq!(h.advance(tick), vec![tick], "tick {tick}");
        assert_eq!(h.wheel.len(), 0);
    }
}

#[test]
fn cascading_keeps_exact_deadlines() {
    let mut h = Harness::new(5);
    let ticks = [70u64, 64 * 64 + 3, 64 * 64 * 64 + 77, 1_000_000, 90_000_000];
    for &t in &ticks {
        h.insert(t);
    }
    // Step through every expiration; each entry must fire exactly at its deadline.
    let mut fired = Vec::new();
    while let Some(exp) = h.wheel.next_expiration() {
        assert!(exp.tick > h.wheel.elapsed());
        for tick in h.advance(exp.tick) {
            assert_eq!(
                tick, exp.tick,
                "fired at a cascade boundary other than its own"
            );
            fired.push(tick);
        }
    }
    assert_eq!(fired, ticks);
}

#[test]
fn next_expiration_is_never_after_the_earliest_deadline() {
    let mut h = Harness::new(1234);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let count = if cfg!(miri) { 50 } else { 2000 };
    let mut ticks = Vec::new();
    for _ in 0..count {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let tick = 1235 + seed % 10_000_000;
        h.insert(tick);
        ticks.push(tick);
    }
    ticks.sort_unstable();
    let mut fired = Vec::new();
    while let Some(exp) = h.wheel.next_expiration() {
        let earliest = ticks[fired.len()];
        assert!(
            exp.tick <= earliest,
            "would sleep past {earliest} to {}",
            exp.tick
        );
        fired.extend(h.advance(exp.tick));
    }
    assert_eq!(fired, ticks, "fired out of order or lost timers");
}

#[test]
fn large_jump_fires_everything_due_in_order() {
    let mut h = Harness::new(0);
    let ticks = [3u64, 64, 100, 5000, 300_000, 20_000_000];
    for &t in ticks.iter().rev() {
        h.insert(t);
    }
    let fired = h.advance(10_000_000);
    assert_eq!(fired, &ticks[..5]);
    assert_eq!(h.wheel.len(), 1);
    assert_eq!(h.advance(19_999_999), Vec::<u64>::new());
    assert_eq!(h.advance(20_000_000), vec![20_000_000]);
}

#[test]
fn overflow_level_holds_far_deadlines() {
    let span = 1u64 << 36;
    let mut h = Harness::new(10);
    let far = 3 * span + 12_345;
    let index = h.insert(far).unwrap();
    assert!(h.is_linked(index));
    let first = h.wheel.next_expiration().unwrap();
    assert_eq!(
        first.tick, span,
        "overflow is revisited at the next span boundary"
    );
    assert!(h.advance(far - 1).is_empty());
    assert_eq!(h.wheel.len(), 1);
    assert_eq!(h.advance(far), vec![far]);
    // An overflow entry can be cancelled as well.
    let index = h.insert(far + 5 * span).unwrap();
    h.remove(index);
    assert!(!h.is_linked(index));
    assert_eq!(h.wheel.next_expiration(), None);
}

#[test]
fn cancel_before_firing_and_after() {
    let mut h = Harness::new(0);
    let a = h.insert(50).unwrap();
    let b = h.insert(50).unwrap();
    let c = h.insert(5000).unwrap();
    h.remove(a);
    h.remove(c);
    assert!(!h.is_linked(a) && h.is_linked(b) && !h.is_linked(c));
    assert_eq!(h.advance(10_000), vec![50]);
    // After firing, the entry is unlinked: nothing left to cancel.
    assert!(!h.is_linked(b));
    assert_eq!(h.wheel.len(), 0);
}

#[test]
fn reset_earlier_and_later() {
    let mut h = Harness::new(0);
    let a = h.insert(10_000).unwrap();
    let b = h.insert(20).unwrap();
    // Earlier: 10_000 -> 30 (moves from level 2 to level 0).
    h.remove(a);
    Entry::set_tick_for_test(h.entries[a], 30);
    // SAFETY: alive and unlinked.
    unsafe { h.wheel.insert(h.entries[a]) }.unwrap();
    // Later: 20 -> 700_000.
    h.remove(b);
    Entry::set_tick_for_test(h.entries[b], 700_000);
    // SAFETY: alive and unlinked.
    unsafe { h.wheel.insert(h.entries[b]) }.unwrap();
    assert_eq!(h.advance(29), Vec::<u64>::new());
    assert_eq!(h.advance(30), vec![30]);
    assert_eq!(h.advance(699_999), Vec::<u64>::new());
    assert_eq!(h.advance(700_000), vec![700_000]);
}

#[test]
fn many_timers_on_one_slot() {
    let count = if cfg!(miri) { 100 } else { 100_000 };
    let mut h = Harness::new(0);
    for _ in 0..count {
        h.insert(4097);
    }
    // Remove every third to exercise unlinking in the middle of a long list.
    for index in (0..count).step_by(3) {
        h.remove(index);
    }
    let expected = count - count.div_ceil(3);
    assert_eq!(h.wheel.len(), expected);
    assert!(h.advance(4096).is_empty());
    let fired = h.advance(4097);
    assert_eq!(fired.len(), expected);
    assert_eq!(h.wheel.len(), 0);
}

#[test]
fn lateness_is_bounded_by_the_step_of_the_clock() {
    // Virtual clock stepping 1 tick at a time: each timer fires exactly at its deadline tick.
    let mut h = Harness::new(0);
    let (count, span) = if cfg!(miri) {
        (64, 2_000)
    } else {
        (5000, 20_000)
    };
    for i in 0..count {
        h.insert(1 + (i * 7919) % span);
    }
    let mut fired = 0;
    for now in 1..=span {
        for tick in h.advance(now) {
            assert_eq!(tick, now, "late or early: deadline {tick} fired at {now}");
            fired += 1;
        }
    }
    assert_eq!(fired, count as usize);
}

#[test]
fn random_inserts_removes_and_advances_match_a_model() {
    // A seeded mix of near, far and overflow deadlines, cancellations at any point (including after
    // partial advances, when an entry's slot must still follow from its deadline) and clock jumps,
    // checked against a plain set: everything due fires exactly once, in the turn it becomes due,
    // and nothing else does.
    let mut h = Harness::new(1_000);
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut now = 1_000u64;
    let mut live: std::collections::BTreeMap<usize, u64> = std::collections::BTreeMap::new();
    let steps = if cfg!(miri) { 300 } else { 20_000 };
    for _ in 0..steps {
        match next() % 10 {
            0..=4 => {
                let distance = match next() % 4 {
                    0 => next() % 64,
                    1 => next() % 5_000,
                    2 => next() % (1 << 24),
                    _ => (1 << 36) + next() % (1 << 38),
                };
                let tick = now + distance;
                if let Some(index) = h.insert(tick) {
                    live.insert(index, tick);
                } else {
                    assert!(tick <= now);
                }
            }
            5..=6 => {
                if let Some((&index, _)) = live.iter().nth((next() % 8) as usize) {
                    h.remove(index);
                    assert!(!h.is_linked(index));
                    live.remove(&index);
                }
            }
            _ => {
                let step = match next() % 20 {
                    // Now and then across a wheel-span boundary, re-placing the overflow list.
                    0 => next() % (1 << 37),
                    // Exactly onto the next expiration, or onto a wheel-span boundary.
                    1 => h.wheel.next_expiration().map_or(1, |e| e.tick - now),
                    2 => (((now >> 36) + 1) << 36) - now,
                    3..=8 => next() % 3,
                    9..=14 => next() % 200,
                    _ => next() % (1 << 20),
                };
                now += step;
                let mut fired = h.advance(now);
                let mut expected: Vec<u64> = live.values().copied().filter(|&t| t <= now).collect();
                live.retain(|_, &mut tick| tick > now);
                fired.sort_unstable();
                expected.sort_unstable();
                assert_eq!(fired, expected, "at {now}");
            }
        }
        assert_eq!(h.wheel.len(), live.len());
        h.wheel.check_invariants();
    }
    for &index in live.keys() {
        assert!(h.is_linked(index));
    }
    // Jump past every deadline, overflow included: all the rest fire.
    let fired = h.advance(now + (1 << 40));
    assert_eq!(fired.len(), live.len());
}

#[test]
fn a_burst_gives_its_array_memory_back() {
    let n = if cfg!(miri) { 600 } else { 100_000 };
    let mut h = Harness::new(0);
    // Cancelled before it is due: removals shrink the slot's array.
    let cancelled: Vec<usize> = (0..n).map(|_| h.insert(5_000).unwrap()).collect();
    for index in cancelled {
        h.remove(index);
    }
    assert!(h.wheel.largest_capacity() <= KEEP_CAPACITY);
    // Cascaded and fired: processed arrays above the limit are freed.
    for i in 0..n {
        h.insert(70_000 + i as u64 % 50);
    }
    assert_eq!(h.advance(80_000).len(), n);
    assert!(h.wheel.largest_capacity() <= KEEP_CAPACITY);
    h.wheel.check_invariants();
}
