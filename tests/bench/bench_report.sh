#!/usr/bin/env bash
# ReportAttack -> block committed latency through a real agent (control
# socket, engine, SQLite WAL with synchronous=FULL), side by side with the
# floor of one durable SQLite commit on the same disk. Medians and ratio.
#   tests/bench/bench_report.sh [BUILD_DIR] [N] [RUNS]
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${1:-$src/build}" && pwd)
n=${2:-200}
runs=${3:-3}
export top_srcdir=$src top_builddir
. "$src/tests/lib/tap.sh"
. "$src/tests/lib/daemon.sh"
T=$(mktemp -d /tmp/ias-bench-report.XXXXXX)
trap 'sema_stop; rm -rf "$T"' EXIT
sema_setup "$T" "log_level = warning" "block_mode = pause" || exit 1
sema_start "$T" || exit 1
echo "# $n reports per run, $runs runs; agent state and floor db under $T"
for r in $(seq "$runs"); do
	echo "## run $r"
	"$top_builddir/tests/bench/bench_report" "$n" "$T" || exit 1
done
