#!/usr/bin/env bash
# Fabric benchmark (not part of the test suite), on the ibsim + OpenSM bed.
#
#   bench_fabric.sh [-n REQUESTS] [-r RUNS] [-c "CHAIN LENGTHS"] [-F]
#
# -c picks the chain lengths (default "2 3 4 5 6 7"), -F leaves out the
# fan-out part (tests/bench/bench_fabric_ab.sh uses both to run two builds
# side by side).
#
# 1. Transport floor: authenticated SecMgt Get(ClassPortInfo) round trips
#    from the probe HCA to a minimal echo agent (secmgt_probe --echo), and,
#    side by side, the same request answered by a real sema.
# 2. Once the agents serve Set(Trace): per-hop trace latency along chains of
#    2..7 nodes (report at one end), as a ratio to the floor, and fan-out:
#    one process with a QP to each of the other 6 nodes. All times are the
#    agents' own microsecond event times (incident_events.ts_us, read from
#    each node's store; all simulated nodes share the host clock):
#      start     the origin's block decision (its "block" event)
#      trace-in  a Set(Trace) arrived at a node (after authentication)
#      trace-out an onward Set(Trace) left that node
#      enforced  that node's block took effect (after its commit)
#    and, per hop (medians over runs):
#      advance   (first trace-in at the far end - start) / hops
#      wire      trace-out on a node - trace-in on the next node
#      work      trace-in - first trace-out on the same (middle) node
#      origin    start - first trace-out on the origin
#      block     (enforced at the far end - enforced at the origin) / hops
# Prints medians and ratios. Needs root, ibsim-utils, opensm, a built tree.
set -u
# bed.sh sets top_srcdir and top_builddir (this tree, ./build) unless given.
. "$(dirname "${BASH_SOURCE[0]}")/../fabric/bed.sh"

N=500
RUNS=5
CHAINS="2 3 4 5 6 7"
FANOUT=1
while getopts n:r:c:F o; do
	case $o in n) N=$OPTARG;; r) RUNS=$OPTARG;; c) CHAINS=$OPTARG;; F) FANOUT=0;; *) exit 2;; esac
done

why=$(bed_why_not) || { echo "bench_fabric: cannot run here: $why"; exit 1; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print 0 }'; }

# --- 1. floor ----------------------------------------------------------------
bed_init --bare e1 n1 || exit 1
bed_start || { bed_dump_logs; exit 1; }
bed_spawn_sim e1 echo "$BED_PROBE" -k "$BED/secmgt.keys" --echo
bed_wait_for "$BED/e1/echo.out" '^echo: serving on lid [1-9]' 10 || { echo "echo agent did not start"; exit 1; }
LE=$(sed -n 's/^echo: serving on lid \([0-9]*\)/\1/p' "$BED/e1/echo.out")
L1=$(bed_lid n1)
: >"$BED/echo.med"
: >"$BED/sema.med"
for r in $(seq 1 "$RUNS"); do
	# Alternate the two so drift hits both alike.
	bed_probe -n "$N" "$LE" cpi | sed -n 's/.* median_us \([0-9]*\) .*/\1/p' >>"$BED/echo.med"
	bed_probe -n "$N" "$L1" cpi | sed -n 's/.* median_us \([0-9]*\) .*/\1/p' >>"$BED/sema.med"
done
floor=$(median <"$BED/echo.med")
agent=$(median <"$BED/sema.med")
echo "transport floor (echo agent), Get(ClassPortInfo) round trip: median ${floor} us over $RUNS x $N"
echo "real sema, same request:                                      median ${agent} us over $RUNS x $N"
awk -v a="$agent" -v f="$floor" 'BEGIN { if (f > 0) printf "ratio sema / floor: %.2f\n", a / f }'
has_trace=0
bed_has_trace n1 && has_trace=1
bed_cleanup

if [ "$has_trace" = 0 ]; then
	echo "trace latency: the agents do not serve Set(Trace) in this build; skipped"
	exit 0
fi

# --- 2. per-hop trace latency along chains ------------------------------------
# ev_us NODE INCIDENT KIND min|max: that event's time (us), waiting up to 10 s
# for it (the "enforced" event is written just after the block took effect).
ev_us() {
	local db=$BED/$1/state/sema.db v i
	for i in $(seq 1 100); do
		v=$(sqlite3 -readonly "$db" "SELECT $4(ts_us) FROM incident_events
			WHERE incident = '$2' AND kind = '$3'" 2>/dev/null)
		[ -n "$v" ] && { echo "$v"; return 0; }
		sleep 0.1
	done
	echo 0
	return 1
}
ratio() { awk -v h="$1" -v f="$floor" 'BEGIN { printf "%.2f", (f > 0 ? h / f : 0) }'; }
report_row() {	# LABEL FILE
	local m
	m=$(median <"$2")
	if [ -s "$2" ]; then
		printf '  %-44s median %6d us = %5s x floor\n' "$1" "$m" "$(ratio "$m")"
	fi
}
for k in $CHAINS; do
	nodes=$(seq -f 'n%g' 1 "$k" | tr '\n' ' ')
	bed_init $nodes || exit 1
	bed_start || { bed_dump_logs; exit 1; }
	for f in adv wire work orig blk; do : >"$BED/$f"; done
	for r in $(seq 1 "$RUNS"); do
		# Chain: proc on node i has QP a_i to node i-1 and b_i to node i+1.
		for i in $(seq 1 "$k"); do
			spec=()
			[ "$i" -gt 1 ] && spec+=("$(printf '0x%x' $((r * 0x1000 + i * 16 + 1))):$(bed_lid "n$((i - 1))"):$(printf '0x%x' $((r * 0x1000 + (i - 1) * 16 + 2)))")
			[ "$i" -lt "$k" ] && spec+=("$(printf '0x%x' $((r * 0x1000 + i * 16 + 2))):$(bed_lid "n$((i + 1))"):$(printf '0x%x' $((r * 0x1000 + (i + 1) * 16 + 1)))")
			bed_spawn "n$i" "c$r" "$BED_TC" register-sim "${spec[@]}"
		done
		for i in $(seq 1 "$k"); do bed_wait_for "$BED/n$i/c$r.out" '^registered' 10; done
		pid=$(bed_spawn_pid "n$k" "c$r")
		# Agents that trace only confirmed remote ends (issue 11): report
		# once the origin's QP is confirmed by its peer, so the figure is
		# the trusted fast path (an iasctl without REMOTE FROM: no wait).
		for _ in $(seq 1 50); do
			q=$(bed_iasctl "n$k" qps list --pid "$pid" 2>/dev/null)
			grep -q "REMOTE FROM" <<<"$q" && grep -q "unconfirmed" <<<"$q" || break
			sleep 0.1
		done
		out=$(bed_iasctl "n$k" report --pid "$pid" --reason bench)
		inc=$(sed -n 's/.*incident \(I-[^ ,]*\).*/\1/p' <<<"$out")
		bed_wait_for "$BED/n1/c$r.out" '^order .* pause' 60
		start=$(ev_us "n$k" "$inc" block min)
		out_k=$(ev_us "n$k" "$inc" trace-out min)
		echo $((out_k - start)) >>"$BED/orig"
		prev_out=$out_k
		for i in $(seq $((k - 1)) -1 1); do
			in_i=$(ev_us "n$i" "$inc" trace-in min)
			echo $((in_i - prev_out)) >>"$BED/wire"
			if [ "$i" -gt 1 ]; then
				prev_out=$(ev_us "n$i" "$inc" trace-out min)
				echo $((prev_out - in_i)) >>"$BED/work"
			fi
		done
		echo $(( (in_i - start) / (k - 1) )) >>"$BED/adv"
		e_k=$(ev_us "n$k" "$inc" enforced min)
		e_1=$(ev_us n1 "$inc" enforced min)
		echo $(( (e_1 - e_k) / (k - 1) )) >>"$BED/blk"
		for i in $(seq 1 "$k"); do bed_iasctl "n$i" blocks release --incident "$inc" >/dev/null 2>&1; done
	done
	adv=$(median <"$BED/adv")
	awk -v k="$k" -v h="$adv" -v f="$floor" 'BEGIN { printf "chain of %d nodes: per-hop trace latency (advance) median %d us = %.2f x floor\n", k, h, (f > 0 ? h / f : 0) }'
	report_row "wire: trace-out -> next node's trace-in" "$BED/wire"
	report_row "agent work per middle hop: in -> onward out" "$BED/work"
	report_row "origin: block decision -> first trace-out" "$BED/orig"
	report_row "block per hop: enforced -> enforced / hops" "$BED/blk"
	bed_cleanup
done

# --- 3. fan-out ------------------------------------------------------------------
[ "$FANOUT" = 1 ] || exit 0
bed_init n1 n2 n3 n4 n5 n6 n7 || exit 1
bed_start || { bed_dump_logs; exit 1; }
for f in fan fanblk fansend origin; do : >"$BED/$f"; done
for r in $(seq 1 "$RUNS"); do
	spec=()
	for i in 2 3 4 5 6 7; do
		spec+=("$(printf '0x%x' $((r * 0x1000 + i))):$(bed_lid "n$i"):$(printf '0x%x' $((r * 0x1000 + 0x100 + i)))")
		bed_spawn "n$i" "f$r" "$BED_TC" register-sim "$(printf '0x%x' $((r * 0x1000 + 0x100 + i))):$(bed_lid n1):$(printf '0x%x' $((r * 0x1000 + i)))"
	done
	bed_spawn n1 "f$r" "$BED_TC" register-sim "${spec[@]}"
	for i in 1 2 3 4 5 6 7; do bed_wait_for "$BED/n$i/f$r.out" '^registered' 10; done
	pid=$(bed_spawn_pid n1 "f$r")
	t00=$(date +%s%6N)
	out=$(bed_iasctl n1 report --pid "$pid" --reason bench)
	inc=$(sed -n 's/.*incident \(I-[^ ,]*\).*/\1/p' <<<"$out")
	bed_wait_for "$BED/n1/f$r.out" '^order .* pause' 60
	start=$(ev_us n1 "$inc" block min)
	e0=$(ev_us n1 "$inc" enforced min)
	echo $((e0 - t00)) >>"$BED/origin"
	echo $(( $(ev_us n1 "$inc" trace-out max) - start )) >>"$BED/fansend"
	last=0
	lastb=0
	for i in 2 3 4 5 6 7; do
		bed_wait_for "$BED/n$i/f$r.out" '^order .* pause' 60
		t=$(ev_us "n$i" "$inc" trace-in min)
		[ "$t" -gt "$last" ] && last=$t
		t=$(ev_us "n$i" "$inc" enforced min)
		[ "$t" -gt "$lastb" ] && lastb=$t
	done
	echo $((last - start)) >>"$BED/fan"
	echo $((lastb - e0)) >>"$BED/fanblk"
	for i in 1 2 3 4 5 6 7; do bed_iasctl "n$i" blocks release --incident "$inc" >/dev/null 2>&1; done
done
fan=$(median <"$BED/fan")
awk -v h="$fan" -v f="$floor" 'BEGIN { printf "fan-out to 6 nodes: last trace arrival %d us after the origin'"'"'s block decision = %.2f x floor\n", h, (f > 0 ? h / f : 0) }'
report_row "origin: block decision -> last of 6 trace-outs" "$BED/fansend"
report_row "all 6 remote blocks in force after the origin's" "$BED/fanblk"
orig=$(median <"$BED/origin")
echo "report (iasctl, incl. its start-up) to the origin's block in force: median ${orig} us"
bed_cleanup
