#!/usr/bin/env bash
# Time to stop one process on one node, before and after, against the floor
# (benchmark, not part of the test suite). Needs root and a writable cgroup v2
# hierarchy; no RDMA (the agents serve their control sockets without a port).
#
#   tests/bench/bench_stop.sh [-n N] [-r ROUNDS] [-m MB] AFTER_BUILD [BEFORE_BUILD]
#
# In every round, interleaved so that drift hits all alike:
#   floor   a bare cgroup.freeze write on a victim already alone in its own
#           cgroup, until cgroup.events says "frozen 1";
#   after   ReportAttack through AFTER_BUILD's agent's real control socket
#           (block mode freeze) until the victim's block cgroup says frozen;
#   before  the same through BEFORE_BUILD's agent (when given).
# Victims are MB MiB processes that keep running. Prints, per configuration,
# the median, p99 and max of the time to frozen (and of the report call's own
# return), and the ratios to the floor and after/before.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
N=50 ROUNDS=4 MB=16
while getopts n:r:m: o; do
	case $o in n) N=$OPTARG ;; r) ROUNDS=$OPTARG ;; m) MB=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: bench_stop.sh [-n N] [-r ROUNDS] [-m MB] AFTER_BUILD [BEFORE_BUILD]" >&2; exit 2; }
AFTER=$(cd "$1" && pwd) || exit 2
BEFORE=
[ $# -ge 2 ] && { BEFORE=$(cd "$2" && pwd) || exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench_stop: needs root"; exit 1; }
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	CG=/sys/fs/cgroup
elif [ -f /sys/fs/cgroup/unified/cgroup.controllers ]; then
	CG=/sys/fs/cgroup/unified
else
	echo "bench_stop: no cgroup v2 hierarchy"; exit 1
fi
export top_srcdir=$(cd "$here/../.." && pwd) top_builddir=$AFTER
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
TOOL=$AFTER/tests/bench/bench_stop
[ -x "$TOOL" ] || { echo "bench_stop: $TOOL not built (make -C $AFTER tests/bench/bench_stop)"; exit 1; }
T=$(mktemp -d /tmp/ias-bench-stop.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do daemon_stop "$p"; done
	rm -rf "$T"
}
trap cleanup EXIT

# agent NAME BUILD: start that build's agent under $T/NAME; ready when its
# own iasctl answers status.
agent() {
	local d=$T/$1 b=$2 ctl
	ctl=$b/iasctl/iasctl
	[ -x "$ctl" ] || ctl=$b/sema/iasctl
	mkdir -p "$d/state"
	"$KEYGEN" "$d/keys" >/dev/null || return 1
	printf '%s\n' "[sema]" "control_socket = $d/sema.sock" "state_dir = $d/state" \
		"key_file = $d/keys" "log_level = warning" "block_mode = freeze" \
		"block_duration = 0" "cgroup_root = $CG" "umad_ca = nonexistent0" \
		"kernel_scan_interval = 0" >"$d/ias.conf"
	daemon_start --name "sema-$1" --log "$d/sema.log" \
		--ready "'$ctl' --socket '$d/sema.sock' status" -- \
		"$b/sema/sema" --foreground --config "$d/ias.conf" || return 1
	pids+=("$DAEMON_PID")
}
agent after "$AFTER" || exit 1
configs="floor after"
if [ -n "$BEFORE" ]; then
	agent before "$BEFORE" || exit 1
	configs="floor before after"
fi
echo "# $ROUNDS rounds x $N samples per configuration, victims of $MB MiB, cgroup v2 at $CG"
for r in $(seq 1 "$ROUNDS"); do
	for c in $configs; do
		case $c in
		floor) "$TOOL" floor "$CG" "$N" "$MB" ;;
		*) IAS_SOCKET=$T/$c/sema.sock "$TOOL" report "$CG" "$N" "$MB" | sed "s/^report/$c/" ;;
		esac
	done
done >"$T/samples" 2>"$T/errors"
[ -s "$T/errors" ] && sed 's/^/# /' "$T/errors"

stat() { # KEY FIELD -> "median p99 max n"
	awk -v k="$1" -v f="$2" '$1 == k { print $f }' "$T/samples" | sort -n |
		awk '{ a[NR] = $1 } END { if (!NR) { print "n/a n/a n/a 0"; exit }
			m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			p = a[int(NR * 0.99 + 0.999)]; if (!p) p = a[NR]
			printf "%.0f %d %d %d\n", m, p, a[NR], NR }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "n/a") print "n/a"; else printf "%.2f", a / b }'; }
printf '%-8s %12s %10s %10s %5s   %s\n' config "median us" "p99 us" "max us" n "report call returned (median / p99 us)"
for c in $configs; do
	read -r m p x n <<<"$(stat "$c" 2)"
	read -r cm cp _ _ <<<"$(stat "$c" 3)"
	[ "$c" = floor ] && cm=- cp=-
	printf '%-8s %12s %10s %10s %5s   %s / %s\n' "$c" "$m" "$p" "$x" "$n" "$cm" "$cp"
	eval "med_$c=$m p99_$c=$p"
done
echo "ratio after / floor:  median $(ratio "$med_after" "$med_floor")  p99 $(ratio "$p99_after" "$p99_floor")"
if [ -n "$BEFORE" ]; then
	echo "ratio before / floor: median $(ratio "$med_before" "$med_floor")  p99 $(ratio "$p99_before" "$p99_floor")"
	echo "ratio after / before: median $(ratio "$med_after" "$med_before")  p99 $(ratio "$p99_after" "$p99_before")"
fi
