#!/usr/bin/env bash
# Two builds side by side on the fabric bed (benchmark, not part of the test
# suite): the origin's block decision -> its first trace out, a middle hop's
# work (trace in -> onward trace out), and the transport floor measured in
# the same bed runs, for AFTER_BUILD and BEFORE_BUILD alternately.
#
#   tests/bench/bench_fabric_ab.sh [-R ROUNDS] [-r RUNS] [-n REQUESTS] [-c "CHAINS"] AFTER_BUILD BEFORE_BUILD
#
# Each round runs tests/bench/bench_fabric.sh once per build (chains only,
# no fan-out), with this tree's bed scripts: a build from before the iasctl
# move needs iasctl/iasctl to exist (a symlink to sema/iasctl will do).
# Prints the medians over rounds of each figure and the ratios
# after / before and origin / floor.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=3 RUNS=3 N=200 CHAINS="3 4"
while getopts R:r:n:c: o; do
	case $o in R) ROUNDS=$OPTARG ;; r) RUNS=$OPTARG ;; n) N=$OPTARG ;; c) CHAINS=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { echo "usage: bench_fabric_ab.sh [-R ROUNDS] [-r RUNS] [-n N] [-c CHAINS] AFTER_BUILD BEFORE_BUILD" >&2; exit 2; }
declare -A dir=([after]=$(cd "$1" && pwd) [before]=$(cd "$2" && pwd)) || exit 2
for b in after before; do
	[ -x "${dir[$b]}/iasctl/iasctl" ] || { echo "bench_fabric_ab: ${dir[$b]}/iasctl/iasctl missing"; exit 1; }
done
T=$(mktemp -d /tmp/ias-bench-ab.XXXXXX)
trap 'rm -rf "$T"' EXIT
for r in $(seq 1 "$ROUNDS"); do
	for b in after before; do
		out=$(top_builddir=${dir[$b]} bash "$here/bench_fabric.sh" -n "$N" -r "$RUNS" -c "$CHAINS" -F 2>&1)
		rc=$?
		[ $rc -eq 0 ] || { echo "# round $r, $b: bench_fabric failed ($rc)"; tail -5 <<<"$out" | sed 's/^/#   /'; continue; }
		vals=$(sed -n -e 's/^transport floor.*median \([0-9]*\) us.*/floor \1/p' \
			-e 's/^ *origin: block decision -> first trace-out *median *\([0-9]*\) us.*/origin \1/p' \
			-e 's/^ *agent work per middle hop: in -> onward out *median *\([0-9]*\) us.*/work \1/p' <<<"$out")
		echo "$vals" >>"$T/$b"
		echo "# round $r, $b: $(tr '\n' ' ' <<<"$vals")"
	done
done
med() { awk -v k="$1" '$1 == k { print $2 }' "$T/$2" | sort -n |
	awk '{ a[NR] = $1 } END { if (!NR) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "n/a") print "n/a"; else printf "%.2f", a / b }'; }
echo "chains: $CHAINS; $ROUNDS rounds x $RUNS runs per chain; medians in us over the rounds' medians"
printf '%-44s %8s %8s %8s\n' "" after before "a/b"
for k in floor origin work; do
	case $k in
	floor) what="transport floor (SecMgt echo round trip)" ;;
	origin) what="origin: block decision -> first trace out" ;;
	work) what="middle hop: trace in -> onward trace out" ;;
	esac
	a=$(med $k after) b=$(med $k before)
	printf '%-44s %8s %8s %8s\n' "$what" "$a" "$b" "$(ratio "$a" "$b")"
done
echo "origin / floor: after $(ratio "$(med origin after)" "$(med floor after)"), before $(ratio "$(med origin before)" "$(med floor before)")"
