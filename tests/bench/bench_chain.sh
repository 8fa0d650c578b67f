#!/usr/bin/env bash
# Benchmark on the kernel bed: time-to-stop along the paper's three-node
# chain (tests/kernel/chain_lib.sh: P1@node0 <-> P2@node1 (two QPs) <->
# P3@node2, continuous two-way traffic, P3 without libias), one guest boot.
#
# Each run measures from just before ReportAttack to the last completion
# rc_chain counted on every chain QP (its counters carry a CLOCK_REALTIME
# microsecond stamp per completion, kept in a shared mapping, so a frozen
# process's last completion is known too); the run ends when no QP's
# kernel send PSN moved over 1.5 s. Two modes, interleaved:
#   trace   ReportAttack(P1) on node0 only; the other nodes are reached by
#           the cross-node trace (SecMgt MADs over RoCE, the real kernel MAD
#           layer);
#   direct  the baseline: every node's agent is told at once (three
#           ReportAttacks started together), no node waits for a trace.
# Then the incident(s) are released and traffic must flow again.
# Prints per-run lines and, per mode, the median and max of the chain's
# time-to-stop (the last QP) and of each node's QPs, and the ratio
# trace / direct of the medians.
# Usage (from the build directory): ../tests/bench/bench_chain.sh [RUNS]
# Not part of the test suite.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${1:-}" = --guest ]; then
	B=$2 N=$3
	CHAIN_LOG_LEVEL=info
	# shellcheck source=../kernel/chain_lib.sh
	. "$here/../kernel/chain_lib.sh"
	chain_agents_up || { echo "FAIL agents"; exit 1; }
	chain_traffic_up || { echo "FAIL traffic"; exit 1; }
	chain_pids
	moving || { echo "FAIL no traffic"; exit 1; }
	us() { echo $(($(date +%s%N) / 1000)); }
	for r in $(seq 1 "$N"); do
		for mode in trace direct; do
			t=$(us)
			if [ $mode = trace ]; then
				ctl 0 report --pid "$p0" --reason bench >/dev/null
			else
				ctl 0 report --pid "$p0" --reason bench >/dev/null &
				w0=$!
				ctl 1 report --pid "$p1" --reason bench >/dev/null &
				w1=$!
				ctl 2 report --pid "$p2" --reason bench >/dev/null &
				wait $w0 $w1 $!
			fi
			back=$(us)
			still || { echo "FAIL traffic did not stop"; exit 1; }
			chain_counters | awk -v t="$t" -v m=$mode -v r="$r" -v b=$((back - t)) '
				{ d = ($5 - t) / 1000; n[$1] = (d > n[$1]) ? d : n[$1]; if (d > all) all = d }
				END { printf "run %d %s chain %.1f n0 %.1f n1 %.1f n2 %.1f report %.1f\n",
					r, m, all, n["n0"], n["n1"], n["n2"], b / 1000 }'
			for i in 0 1 2; do
				ctl $i blocks release --pid "$(eval echo "\$p$i")" >/dev/null 2>&1
			done
			moving || { echo "FAIL traffic did not resume"; exit 1; }
		done
	done
	exit 0
fi
N=${1:-10}
bdir=$(pwd)
[ -x "$bdir/tests/kernel/rc_chain" ] || { echo "run from the build directory (tests/kernel/rc_chain not built)"; exit 1; }
out=$("$here/../kernel/guest.sh" run --nodes 3 --timeout $((120 + N * 60)) -- \
	"$here/bench_chain.sh" --guest "$bdir" "$N" 2>&1)
rc=$?
grep '^run \|^FAIL' <<<"$out"
[ $rc -eq 0 ] || { echo "bench run failed (status $rc)"; tail -30 <<<"$out"; exit 1; }
med() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v m="$1" -v c="$2" '$1 == "run" && $3 == m { for (i = 4; i < NF; i++) if ($i == c) print $(i + 1) }' <<<"$out"; }
printf '%-7s %-12s %-12s %-12s %-12s %-12s %s\n' mode "chain med" "chain max" "node0 med" "node1 med" "node2 med" "report rtt med"
for m in trace direct; do
	printf '%-7s %-12s %-12s %-12s %-12s %-12s %s\n' $m "$(col $m chain | med) ms" \
		"$(col $m chain | sort -n | tail -1) ms" "$(col $m n0 | med) ms" "$(col $m n1 | med) ms" \
		"$(col $m n2 | med) ms" "$(col $m report | med) ms"
done
a=$(col trace chain | med) b=$(col direct chain | med)
echo "ratio trace / direct (chain medians): $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }') over $N runs (QEMU TCG guest: absolute times are emulated)"
