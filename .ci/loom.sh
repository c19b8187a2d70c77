#!/usr/bin/env bash
# Loom model checking: the task state machine (executor/src/task/loom_models.rs), the scheduler's
# parking protocol (scheduler/tests/loom_*.rs) and the timer's registration/firing/cancel protocol
# (timer/tests/loom_*.rs). Release mode with debug assertions, as loom recommends.
#
# Depth: LOOM_MAX_PREEMPTIONS (default 3 here; 2-3 catch most bugs). For a deeper search run
#   LOOM_MAX_PREEMPTIONS=5 bash .ci/loom.sh        # or unset the bound: env -u LOOM_MAX_PREEMPTIONS
# (the task models take about 5 minutes unbounded on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg loom -C debug-assertions"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS-3}"
# A separate target dir: the loom cfg must not invalidate the normal build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom"
echo "loom: LOOM_MAX_PREEMPTIONS=${LOOM_MAX_PREEMPTIONS:-unbounded}"

# `--lib` only: the executor's integration tests drive whole runtimes, which loom cannot.
cargo test --release -p magpie --lib loom_models
mapfile -t scheduler_models < <(cd scheduler/tests && ls loom_*.rs 2>/dev/null | sed 's/\.rs$//')
mapfile -t timer_models < <(cd timer/tests && ls loom_*.rs 2>/dev/null | grep -v '^loom_common' | sed 's/\.rs$//')
if [ "${#scheduler_models[@]}" -eq 0 ] || [ "${#timer_models[@]}" -eq 0 ]; then
    echo "FAILED: expected loom models in scheduler/tests and timer/tests" >&2
    exit 1
fi
cargo test --release -p magpie-scheduler $(printf -- '--test %s ' "${scheduler_models[@]}")
cargo test --release -p magpie-timer $(printf -- '--test %s ' "${timer_models[@]}")
