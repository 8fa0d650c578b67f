#!/usr/bin/env bash
# Benchmark on the kernel bed: trace time per hop when the QPs' remote ends
# were learnt from the kernel versus registered by the processes' libias.
# The paper's chain (tests/kernel/chain_lib.sh: P1@node0 <-> P2@node1 (two
# QPs) <-> P3@node2, continuous two-way traffic), in two modes, one guest
# boot each, alternated ROUNDS times in one invocation:
#   registered  P1 and P2 under libias-preload.so, kernel_observation = off:
#               their remote ends are registrations, confirmed by the peer
#               agent's mirror answer before the report (P3 has no libias:
#               its agent answers from the kernel's remote QPN);
#   kernel      no process uses libias, kernel_observation = auto: every
#               remote end comes from the kernel's eBPF records.
# Each run: ReportAttack(P1) on node0 only, then release everywhere and wait
# for traffic. Times are the agents' own microsecond event times
# (incident_events.ts_us, read from each node's store):
#   origin  node0's block decision ("block") -> its first trace-out
#   wire    node0's trace-out -> node1's trace-in
#   work    node1's trace-in -> its first onward trace-out (the middle hop)
# Prints per-run lines, the medians per mode and the ratio kernel /
# registered of each median. The guest is QEMU TCG: absolute times are
# emulated; compare the two modes only.
# Usage (from the build directory): ../tests/bench/bench_hop_source.sh [RUNS] [ROUNDS]
# Not part of the test suite.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${1:-}" = --guest ]; then
	B=$2 N=$3 MODE=$4
	CHAIN_LOG_LEVEL=info
	if [ "$MODE" = registered ]; then
		CHAIN_CONF="kernel_observation = off"
	else
		CHAIN_CONF="kernel_observation = auto"
		CHAIN_PRELOAD=""
	fi
	# shellcheck source=../kernel/chain_lib.sh
	. "$here/../kernel/chain_lib.sh"
	if [ "$MODE" = registered ]; then
		chain_agents_up || { echo "FAIL agents"; exit 1; }
	else
		# One agent loads and pins the eBPF programs; the others find them.
		mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
		chain_ns_up
		CHAIN_NODES=2 chain_agents_start && CHAIN_NODES="0 1" chain_agents_start ||
			{ echo "FAIL agents"; exit 1; }
	fi
	chain_traffic_up || { echo "FAIL traffic"; exit 1; }
	chain_pids
	moving || { echo "FAIL no traffic"; exit 1; }
	# ev_us NODE INCIDENT KIND: the earliest such event (us), waiting for it.
	ev_us() {
		local v
		for _ in $(seq 1 100); do
			v=$(sqlite3 -readonly "/run/iaskt/n$1/state/sema.db" "SELECT min(ts_us)
				FROM incident_events WHERE incident = '$2' AND kind = '$3'" 2>/dev/null)
			[ -n "$v" ] && { echo "$v"; return 0; }
			sleep 0.1
		done
		return 1
	}
	# Every chain QP's remote end must be a trace target before a run.
	trusted() {
		local i out
		for i in 0 1; do
			out=$(ctl $i -o json qps list) || return 1
			grep -q unconfirmed <<<"$out" && return 1
			grep -q '"remote_source": *"[^"]*\(kernel-bpf\|peer\)' <<<"$out" || return 1
		done
	}
	for _ in $(seq 1 100); do trusted && break; sleep 0.2; done
	trusted || { echo "FAIL remote ends not trusted"; ctl 0 qps list; exit 1; }
	for r in $(seq 1 "$N"); do
		out=$(ctl 0 report --pid "$p0" --reason bench)
		inc=$(sed -n 's/.*incident \(I-[^ ,]*\).*/\1/p' <<<"$out")
		[ -n "$inc" ] || { echo "FAIL no incident: $out"; exit 1; }
		b0=$(ev_us 0 "$inc" block) && o0=$(ev_us 0 "$inc" trace-out) &&
			i1=$(ev_us 1 "$inc" trace-in) && o1=$(ev_us 1 "$inc" trace-out) ||
			{ echo "FAIL events of $inc missing"; exit 1; }
		echo "run $r $MODE origin $((o0 - b0)) wire $((i1 - o0)) work $((o1 - i1))"
		still || { echo "FAIL traffic did not stop"; exit 1; }
		for i in 0 1 2; do
			ctl $i blocks release --pid "$(eval echo "\$p$i")" >/dev/null 2>&1
		done
		moving || { echo "FAIL traffic did not resume"; exit 1; }
	done
	exit 0
fi
N=${1:-5}
ROUNDS=${2:-2}
bdir=$(pwd)
[ -x "$bdir/tests/kernel/rc_chain" ] || { echo "run from the build directory (tests/kernel/rc_chain not built)"; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; exit 1; }
all=
for round in $(seq 1 "$ROUNDS"); do
	for mode in registered kernel; do
		out=$("$here/../kernel/guest.sh" run --nodes 3 --timeout $((180 + N * 60)) -- \
			"$here/bench_hop_source.sh" --guest "$bdir" "$N" "$mode" 2>&1)
		rc=$?
		grep '^run \|^FAIL' <<<"$out" | sed "s/^/round $round: /"
		[ $rc -eq 0 ] || { echo "bench run failed (status $rc)"; tail -30 <<<"$out"; exit 1; }
		all+=$(grep '^run ' <<<"$out")$'\n'
	done
done
med() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v m="$1" -v c="$2" '$1 == "run" && $3 == m { for (i = 4; i < NF; i++) if ($i == c) print $(i + 1) }' <<<"$all"; }
printf '%-10s %-16s %-16s %s\n' "" "registered (us)" "kernel (us)" "kernel / registered"
for c in origin wire work; do
	a=$(col registered $c | med) b=$(col kernel $c | med)
	printf '%-10s %-16s %-16s %s\n' "$c" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')"
done
echo "medians over $((N * ROUNDS)) runs per mode (QEMU TCG guest: absolute times are emulated)"
