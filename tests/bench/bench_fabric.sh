#!/usr/bin/env bash
# Fabric benchmark (not part of the test suite), on the ibsim + OpenSM bed.
#
#   bench_fabric.sh [-n REQUESTS] [-r RUNS]
#
# 1. Transport floor: authenticated SecMgt Get(ClassPortInfo) round trips
#    from the probe HCA to a minimal echo agent (secmgt_probe --echo), and,
#    side by side, the same request answered by a real sema.
# 2. Once the agents serve Set(Trace): per-hop trace latency along chains of
#    2..7 nodes (report at one end; from the origin's block to the far end's
#    block, both from the agents' incident events, in ms, divided by the
#    hops), as a ratio to the floor; and fan-out: one process with a QP to
#    each of the other 6 nodes (origin's block to the last remote block).
#    Also the report-to-origin-block time, which the agent's store commit
#    dominates (tests/bench/bench_report.sh measures that).
# Prints medians and ratios. Needs root, ibsim-utils, opensm, a built tree.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
export top_srcdir top_builddir
. "$top_srcdir/tests/fabric/bed.sh"

N=500
RUNS=5
while getopts n:r: o; do
	case $o in n) N=$OPTARG;; r) RUNS=$OPTARG;; *) exit 2;; esac
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
last_block_ms() {	# NODE INCIDENT
	bed_iasctl "$1" -o json incidents show "$2" 2>/dev/null |
		awk '/"ts_ms":/ { gsub(/[^0-9]/, "", $2); ts = $2 + 0 } /"kind": "block"/ { if (ts > m) m = ts } END { printf "%.0f\n", m }'
}
for k in 2 3 4 5 6 7; do
	nodes=$(seq -f 'n%g' 1 "$k" | tr '\n' ' ')
	bed_init $nodes || exit 1
	bed_start || { bed_dump_logs; exit 1; }
	: >"$BED/hop"
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
		out=$(bed_iasctl "n$k" report --pid "$pid" --reason bench)
		inc=$(sed -n 's/.*incident \(I-[^ ,]*\).*/\1/p' <<<"$out")
		bed_wait_for "$BED/n1/c$r.out" '^order .* pause' 60
		t0=$(last_block_ms "n$k" "$inc")
		t1=$(last_block_ms n1 "$inc")
		echo $(( (t1 - t0) * 1000 / (k - 1) )) >>"$BED/hop"
		for i in $(seq 1 "$k"); do bed_iasctl "n$i" blocks release --incident "$inc" >/dev/null 2>&1; done
	done
	hop=$(median <"$BED/hop")
	awk -v k="$k" -v h="$hop" -v f="$floor" 'BEGIN { printf "chain of %d nodes: per-hop trace latency median %d us = %.1f x floor\n", k, h, (f > 0 ? h / f : 0) }'
	bed_cleanup
done

# --- 3. fan-out ------------------------------------------------------------------
bed_init n1 n2 n3 n4 n5 n6 n7 || exit 1
bed_start || { bed_dump_logs; exit 1; }
: >"$BED/fan"
: >"$BED/origin"
for r in $(seq 1 "$RUNS"); do
	spec=()
	for i in 2 3 4 5 6 7; do
		spec+=("$(printf '0x%x' $((r * 0x1000 + i))):$(bed_lid "n$i"):$(printf '0x%x' $((r * 0x1000 + 0x100 + i)))")
		bed_spawn "n$i" "f$r" "$BED_TC" register-sim "$(printf '0x%x' $((r * 0x1000 + 0x100 + i))):$(bed_lid n1):$(printf '0x%x' $((r * 0x1000 + i)))"
	done
	bed_spawn n1 "f$r" "$BED_TC" register-sim "${spec[@]}"
	for i in 1 2 3 4 5 6 7; do bed_wait_for "$BED/n$i/f$r.out" '^registered' 10; done
	pid=$(bed_spawn_pid n1 "f$r")
	t00=$(date +%s%3N)
	out=$(bed_iasctl n1 report --pid "$pid" --reason bench)
	inc=$(sed -n 's/.*incident \(I-[^ ,]*\).*/\1/p' <<<"$out")
	bed_wait_for "$BED/n1/f$r.out" '^order .* pause' 60
	t0=$(last_block_ms n1 "$inc")
	echo $(( (t0 - t00) * 1000 )) >>"$BED/origin"
	last=0
	for i in 2 3 4 5 6 7; do
		bed_wait_for "$BED/n$i/f$r.out" '^order .* pause' 60
		t=$(last_block_ms "n$i" "$inc")
		[ "$t" -gt "$last" ] && last=$t
	done
	echo $(( (last - t0) * 1000 )) >>"$BED/fan"
	for i in 1 2 3 4 5 6 7; do bed_iasctl "n$i" blocks release --incident "$inc" >/dev/null 2>&1; done
done
fan=$(median <"$BED/fan")
orig=$(median <"$BED/origin")
awk -v h="$fan" -v f="$floor" 'BEGIN { printf "fan-out to 6 nodes: all blocked %d us after the origin = %.1f x floor\n", h, (f > 0 ? h / f : 0) }'
echo "report (iasctl) to the origin's block: median ${orig} us (ms resolution)"
bed_cleanup
