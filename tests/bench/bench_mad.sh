#!/usr/bin/env bash
# SecMgt MAD throughput on one core, beside a bare HMAC-SHA256 baseline.
# usage: tests/bench/bench_mad.sh [BUILD_DIR] [iterations-per-run] [runs]
# Builds tests/bench/bench_mad in BUILD_DIR (default: build) if needed, pins it
# to one CPU when taskset exists, and prints per-run figures, medians, ratio.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
bdir=${1:-$src/build}
iters=${2:-200000}
runs=${3:-7}
make -C "$bdir" -s tests/bench/bench_mad >/dev/null
bin="$bdir/tests/bench/bench_mad"
pin=()
if command -v taskset >/dev/null 2>&1; then
	pin=(taskset -c 0)
fi
echo "# bench_mad: $iters iterations per run, $runs runs, $(nproc) CPUs, ${pin[*]:-unpinned}"
echo "# $(openssl version 2>/dev/null || echo 'openssl ?'), $(uname -m)"
exec "${pin[@]}" "$bin" "$iters" "$runs"
