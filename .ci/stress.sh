#!/usr/bin/env bash
# The stress and memory tests at full size, in release: 10M cross-thread wakes, 1M aborts racing
# completion, 1M finished tasks and 1M cancelled timers with live memory back to its start.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -p magpie --test stress --test memory
