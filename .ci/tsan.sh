#!/usr/bin/env bash
# ThreadSanitizer on the stress, lifecycle and shutdown tests (nightly, -Zsanitizer=thread,
# -Zbuild-std so that std itself is instrumented). One suppression, for crossbeam-deque's by-design
# speculative read in its Chase-Lev buffer; .ci/tsan.supp says why, docs/reliability.md what it
# does not hide.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup +nightly component list --installed 2>/dev/null | grep -q '^rust-src'; then
    echo "tsan: installing nightly rust-src (needed by -Zbuild-std)"
    if ! rustup toolchain install nightly --profile minimal --component rust-src; then
        echo "FAILED: could not install nightly rust-src; the ThreadSanitizer step did NOT run" >&2
        exit 1
    fi
fi
host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="-Zsanitizer=thread -Cdebug-assertions"
export RUSTDOCFLAGS="-Zsanitizer=thread"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/tsan"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/.ci/tsan.supp"
# Debug builds at a hundredth of the release sizes: TSan is 5-15x slower.
export MAGPIE_STRESS_DIVISOR="${MAGPIE_STRESS_DIVISOR:-10}"
cargo +nightly test -Zbuild-std --target "$host" -p magpie --test stress --test lifecycle --test shutdown
