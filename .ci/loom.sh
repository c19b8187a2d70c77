#!/usr/bin/env bash
# Loom model checking: the task state machine (executor/src/task/loom_models.rs), the scheduler's
# parking protocol (scheduler/tests/loom_*.rs) and the timer's registration/firing/cancel protocol
# (timer/tests/loom_*.rs). Release mode with debug assertions, as loom recommends.
#
# Depth: the task models run with LOOM_TASK_PREEMPTIONS (default 3, under a second), the scheduler
# and timer models with LOOM_MAX_PREEMPTIONS (default 2; loom's docs: 2-3 catch most bugs; at 3 the
# scheduler's models take many minutes). Deeper:
#   LOOM_TASK_PREEMPTIONS= LOOM_MAX_PREEMPTIONS=3 bash .ci/loom.sh
# (an empty LOOM_TASK_PREEMPTIONS means no bound: about 5 minutes for the task models).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg loom -C debug-assertions"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS-2}"
task_preemptions="${LOOM_TASK_PREEMPTIONS-3}"
# An empty value means no bound (loom would fail to parse it).
if [ -z "$LOOM_MAX_PREEMPTIONS" ]; then
    unset LOOM_MAX_PREEMPTIONS
fi
# A separate target dir: the loom cfg must not invalidate the normal build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom"

# `--lib` only: the executor's integration tests drive whole runtimes, which loom cannot.
# (The executor's async-lock dev-dependency is declared for cfg(not(loom)) only: event-listener does
# not compile under `--cfg loom`.)
magpie_features=()
echo "loom: task models, LOOM_MAX_PREEMPTIONS=${task_preemptions:-unbounded}"
if [ -n "$task_preemptions" ]; then
    LOOM_MAX_PREEMPTIONS="$task_preemptions" \
        cargo test --release -p magpie --lib "${magpie_features[@]}" loom_models
else
    env -u LOOM_MAX_PREEMPTIONS cargo test --release -p magpie --lib "${magpie_features[@]}" loom_models
fi
echo "loom: scheduler and timer models, LOOM_MAX_PREEMPTIONS=${LOOM_MAX_PREEMPTIONS:-unbounded}"
mapfile -t scheduler_models < <(cd scheduler/tests && ls loom_*.rs 2>/dev/null | sed 's/\.rs$//')
mapfile -t timer_models < <(cd timer/tests && ls loom_*.rs 2>/dev/null | grep -v '^loom_common' | sed 's/\.rs$//')
if [ "${#scheduler_models[@]}" -eq 0 ] || [ "${#timer_models[@]}" -eq 0 ]; then
    echo "FAILED: expected loom models in scheduler/tests and timer/tests" >&2
    exit 1
fi
cargo test --release -p magpie-scheduler $(printf -- '--test %s ' "${scheduler_models[@]}")
cargo test --release -p magpie-timer $(printf -- '--test %s ' "${timer_models[@]}")
