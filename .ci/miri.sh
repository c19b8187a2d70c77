#!/usr/bin/env bash
# Miri: undefined behaviour and leaks in the task state machine, wakers and JoinHandle (through
# executor/tests/lifecycle.rs: one worker, tiny sizes) and in the timer's wheel and driver (its
# unit tests). Installs the nightly Miri component if it is missing; fails loudly if it cannot.
# Why each flag: docs/reliability.md, section "Miri".
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly miri --version >/dev/null 2>&1; then
    echo "miri: not installed; adding miri and rust-src to the nightly toolchain"
    # `component add` when the machine has a nightly already (the usual case); a fresh install
    # otherwise. (`--component` takes one comma-separated list: a second word would be read as a
    # toolchain name.)
    if rustup toolchain list | grep -q '^nightly'; then
        install=(rustup component add --toolchain nightly miri rust-src)
    else
        install=(rustup toolchain install nightly --profile minimal --component miri,rust-src)
    fi
    if ! "${install[@]}"; then
        echo "FAILED: could not install Miri; the Miri step did NOT run" >&2
        exit 1
    fi
fi
if ! rustup +nightly component list --installed 2>/dev/null | grep -q '^rust-src'; then
    if ! rustup component add --toolchain nightly rust-src; then
        echo "FAILED: could not install rust-src for Miri; the Miri step did NOT run" >&2
        exit 1
    fi
fi
cargo +nightly miri setup

# Pure code: strict provenance, leak check on.
strict="-Zmiri-strict-provenance -Zmiri-preemption-rate=0"
echo "miri: task state word and join-waker slot (MIRIFLAGS=$strict)"
MIRIFLAGS="$strict" cargo +nightly miri test -p magpie --lib -- task::state task::join_waker
echo "miri: timer wheel and driver (MIRIFLAGS=$strict)"
# The 4096-entry batch test takes many minutes under Miri; the other driver tests cover its paths.
MIRIFLAGS="$strict" cargo +nightly miri test -p magpie-timer --lib -- \
    --skip a_full_batch_of_cancellations_is_swept_at_once

# Whole runtimes: crossbeam-epoch (under crossbeam-deque) needs Tree Borrows, no random
# preemption (deliberately racy reads), and permissive provenance; its global collector's
# per-thread records are reported as leaks, so the leak check is off here (valgrind.sh and
# tests/memory.rs check task leaks).
runtime="-Zmiri-tree-borrows -Zmiri-preemption-rate=0 -Zmiri-ignore-leaks"
echo "miri: task lifecycle and regressions through a runtime (MIRIFLAGS=$runtime)"
MIRIFLAGS="$runtime" cargo +nightly miri test -p magpie --test lifecycle --test regressions
