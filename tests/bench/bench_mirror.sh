#!/usr/bin/env bash
# Mirror look-up benchmark (not part of the test suite), on the ibsim +
# OpenSM bed with the manager (its agent list tells each agent whom to ask).
#
#   bench_mirror.sh [-r SAMPLES] [-k "OTHER AGENT COUNTS"]
#
# For K other agents (default 1 3 6; the bed holds 7 nodes), one bed of
# K+1 agents. Each sample: a process on n1 registers a QP with a remote QPN
# but no address, its mirror's owner on n2 registers the other end naming
# n1. n2's registration confirms its claim with one targeted Get(Mirror) to
# n1 (the baseline: mirror_confirm's round trip); a report on n1 then makes
# n1's trace look the remote end up across all K agents at once
# (mirror_find). Both times are the agents' own, from start to decision
# (the "... in N us" of their debug log). Prints median and p90 of each,
# side by side per K, and the ratio look-up / confirm.
# Needs root, ibsim-utils, opensm, a built tree, and an agent whose trace
# looks mirrors up (branch trace merged).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../fabric/bed.sh"

SAMPLES=15
KS="1 3 6"
while getopts r:k: o; do
	case $o in r) SAMPLES=$OPTARG;; k) KS=$OPTARG;; *) exit 2;; esac
done
why=$(bed_why_not) || { echo "bench_mirror: cannot run here: $why"; exit 1; }
[ -x "$BED_SEM" ] || { echo "bench_mirror: sem not built"; exit 1; }

# pct P: the P-th percentile (nearest rank) of the numbers on stdin.
pct() { sort -n | awk -v p="$1" '{ a[NR] = $1 } END { if (!NR) { print 0; exit }
	i = int((p * NR + 99) / 100); if (i < 1) i = 1; print a[i] }'; }
# took NODE PATTERN: the "in N us" of the newest log line matching PATTERN.
took() { grep -E "$2" "$BED/$1/sema.log" | tail -1 | sed -n 's/.* in \([0-9]*\) us.*/\1/p'; }

printf '%-7s %-24s %-24s %s\n' agents "confirm median/p90 us" "look-up median/p90 us" "ratio (median)"
for k in $KS; do
	nodes=""
	for i in $(seq 1 $((k + 1))); do nodes="$nodes n$i"; done
	bed_init --sem $nodes >/dev/null || exit 1
	bed_start >/dev/null || { bed_dump_logs; exit 1; }
	L1=$(bed_lid n1)
	# every agent holds the manager's list of k+1 agents
	for i in $(seq 1 300); do
		all=1
		for n in $nodes; do
			grep -Eq "agent list generation [0-9]+ from the manager: $((k + 1)) agent" \
				"$BED/$n/sema.log" || all=0
		done
		[ "$all" = 1 ] && break
		sleep 0.1
	done
	[ "$all" = 1 ] || { echo "K=$k: the agent list did not reach every agent"; bed_cleanup; exit 1; }
	: >"$BED/confirm.us"
	: >"$BED/find.us"
	for s in $(seq 1 "$SAMPLES"); do
		q1=$(printf '0x%x' $((0x1000 + s)))
		q2=$(printf '0x%x' $((0x2000 + s)))
		bed_spawn n1 "a$s" "$BED_TC" register-sim "$q1:0:$q2"
		bed_wait_for "$BED/n1/a$s.out" '^registered 1' 10 || continue
		bed_spawn n2 "b$s" "$BED_TC" register-sim "$q2:$L1:$q1"
		bed_wait_for "$BED/n2/b$s.out" '^registered 1' 10 || continue
		bed_wait_for "$BED/n2/sema.log" "confirmation of QP [^ ]*/$q2 .* in [0-9]+ us" 10 &&
			took n2 "confirmation of QP [^ ]*/$q2 " >>"$BED/confirm.us"
		bed_iasctl n1 report --pid "$(bed_spawn_pid n1 "a$s")" --reason bench >/dev/null
		bed_wait_for "$BED/n1/sema.log" "look-up of QP [^ ]*/$q1 .* in [0-9]+ us" 10 &&
			took n1 "look-up of QP [^ ]*/$q1 " >>"$BED/find.us"
		bed_spawn_stop n1 "a$s"
		bed_spawn_stop n2 "b$s"
	done
	cm=$(pct 50 <"$BED/confirm.us") c9=$(pct 90 <"$BED/confirm.us")
	fm=$(pct 50 <"$BED/find.us") f9=$(pct 90 <"$BED/find.us")
	printf '%-7s %-24s %-24s %s\n' "$k" "$cm / $c9 (n=$(wc -l <"$BED/confirm.us"))" \
		"$fm / $f9 (n=$(wc -l <"$BED/find.us"))" \
		"$(awk -v a="$fm" -v b="$cm" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
	bed_cleanup
done
