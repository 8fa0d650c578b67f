#!/bin/sh
# Benchmark live snapshots with 1k and 10k extra sleeping processes, side by
# side with "ps -e -o pid,ppid": the full snapshot and the column sets of the
# zone and sibling/lca levels, and the full and sibling/lca ones in a single
# thread. Prints medians (wall and CPU time), the ratios to ps and the load
# average. Not part of the test suite. The processes are cleaned up by the
# program (and die with it).
# Usage: tests/bench/bench_snapshot.sh [BUILD_DIR]   (default: ./build)
set -e
bdir=${1:-build}
make -C "$bdir" -s tests/bench/bench_snapshot >/dev/null
for n in 1000 10000; do
	"$bdir/tests/bench/bench_snapshot" "$n" 21
done
