#!/usr/bin/env bash
# Valgrind memcheck on the executor's integration tests: no invalid access, and nothing "definitely
# lost" — including after shutdown with pending tasks and after aborts. Uses the debug build of
# `cargo test`, at a tenth of the debug sizes (MAGPIE_STRESS_DIVISOR).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
    echo "valgrind: not installed; trying apt-get"
    if ! { apt-get install -y valgrind >/dev/null 2>&1 || sudo apt-get install -y valgrind >/dev/null 2>&1; }; then
        echo "FAILED: valgrind is not installed and could not be installed; the leak step did NOT run" >&2
        exit 1
    fi
fi
export MAGPIE_STRESS_DIVISOR="${MAGPIE_STRESS_DIVISOR:-10}"
tests=(lifecycle shutdown stress spawn misuse bad_input)
# The million-task test of spawn.rs is skipped here (memory.rs and Miri cover that path).
skip=(--skip spawn_and_join_a_million_tasks)
mapfile -t binaries < <(
    cargo test -p magpie $(printf -- '--test %s ' "${tests[@]}") --no-run --message-format=json 2>/dev/null |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p'
)
if [ "${#binaries[@]}" -ne "${#tests[@]}" ]; then
    echo "FAILED: expected ${#tests[@]} test binaries, found ${#binaries[@]}" >&2
    exit 1
fi
for binary in "${binaries[@]}"; do
    echo "valgrind: $(basename "$binary")"
    valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --show-leak-kinds=definite --fair-sched=yes \
        "$binary" --test-threads=2 "${skip[@]}" -q
done
