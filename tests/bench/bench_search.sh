#!/bin/sh
# Benchmark the sibling and lca searches against the paper-style baselines
# on synthetic snapshots of 10k, 100k and 1M processes. Prints medians and
# speed-ups. Not part of the test suite.
# Usage: tests/bench/bench_search.sh [BUILD_DIR]   (default: ./build)
set -e
bdir=${1:-build}
make -C "$bdir" -s tests/bench/bench_search >/dev/null
for n in 10000 100000 1000000; do
	rounds=21
	[ "$n" -ge 1000000 ] && rounds=7
	"$bdir/tests/bench/bench_search" "$n" "$rounds"
done
