#!/usr/bin/env bash
# Benchmarks of issue 5 on the kernel bed (one guest boot, one rxe device,
# one agent), each with its baseline side by side in the same guest:
#  - interposer cost: QP create + RESET->INIT->RTR->RTS timed in-process
#    (tests/bench/bench_qpsetup), with and without libias-preload.so; and an
#    ibv_rc_pingpong pair (create + connect + 100 round trips, wall time of
#    the client); medians and ratios;
#  - ib_write_bw / ib_write_lat (perftest) with and without the interposer,
#    interleaved; medians, ratios, and the spread of each configuration
#    (the noise);
#  - time to stop: ReportAttack (ias_report_attack from the watcher, so no
#    command start-up is counted) -> last send-PSN change on both QPs of a
#    running ibv_rc_pingpong pair (rdma netlink, tests/bench/bench_psnwatch,
#    polled every ~1 ms plus the dump itself: the resolution is printed),
#    for a libias-preloaded pair (per-QP pause, IAS_PAUSE=wait) and for a
#    pair without libias (process-level freeze); median and max.
# Usage (from the build directory, after
#   make tests/bench/bench_qpsetup tests/bench/bench_psnwatch tests/kernel/kqp_dump):
#   ../tests/bench/bench_kernel.sh [N]
# N runs of each configuration (default 5); about 5 minutes on an idle
# machine with N=5 (the guest run is bounded by IAS_GUEST_TIMEOUT, default
# 900 s). Not part of the test suite. Absolute figures come from a
# TCG-emulated guest; the ratios are what count.
#
# Why its first version never finished: its time-to-stop loop ended with a
# bare `wait`, which also waited for the agent it had started in the
# background, so the guest sat there until the bed's timeout; besides, its
# pingpong client could start before the server listened (then the server
# waited forever), and every iasctl/kqp_dump call went through libtool's
# wrapper script or a fresh process (1-2 s and ~0.2 s each under TCG),
# which made the 20 ms polling a ~200 ms one.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	B=$2 N=$3
	PRE=$B/verbs_ext/.libs/libias-preload.so
	QPS=$B/tests/bench/bench_qpsetup WATCH=$B/tests/bench/bench_psnwatch
	top_builddir=$B
	# shellcheck source=../lib/tap.sh
	. "$top_srcdir/tests/lib/tap.sh"
	# shellcheck source=../lib/daemon.sh
	. "$top_srcdir/tests/lib/daemon.sh"
	export LD_LIBRARY_PATH=$B/verbs_ext/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	d=/run/iasbench
	sema_setup $d "umad_ca = rxe0" "log_level = warning" "block_duration = 0" \
		"kernel_scan_interval = 1s" || { echo "FAIL agent set-up"; exit 1; }
	sema_start $d || { echo "FAIL agent did not start"; exit 1; }
	# The real binary, not libtool's wrapper script (which costs 1-2 s per
	# run under TCG).
	IASCTL=${IASCTL_RUN[-1]}
	export IAS_SOCKET=$d/sema.sock
	g=$IAS_GID6_0
	up() { local u; read -r u _ </proc/uptime; echo "# [$u] $*" >&2; }
	ms() { echo $(($(date +%s%N) / 1000000)); }
	# A socket in LISTEN on the port (not one in TIME_WAIT from an earlier run).
	listening() { awk -v p=":$(printf '%04X' "$1")" 'substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 } END { exit !f }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null; }
	# A fresh TCP port per run; kept in a file, since most runs happen in a
	# command substitution (a subshell).
	echo 19000 >$d/port
	nextport() { local p; read -r p <$d/port; p=$((p + 1)); echo $p >$d/port; echo $p; }
	# wait_port PORT PID: until PORT listens (or PID died); at most 30 s.
	wait_port() {
		local i
		for i in $(seq 1 300); do
			listening "$1" && return 0
			kill -0 "$2" 2>/dev/null || return 1
			sleep 0.1
		done
		return 1
	}
	# stop_pid PID: end a process we started, and reap it (bounded).
	stop_pid() { daemon_stop "$1"; }
	pre() { [ "$1" = preload ] && echo "LD_PRELOAD=$PRE"; }

	up "agent up; rxe0 gid index $g"
	# 1. In-process QP create + connect (one warm-up run of each, not counted).
	for c in plain preload; do env $(pre $c) "$QPS" rxe0 "$g" 5 >/dev/null; done
	for i in $(seq 1 "$N"); do
		for c in plain preload; do
			env $(pre $c) "$QPS" rxe0 "$g" 50 | awk -v c=$c '$1 == "setup" {
					print "qpsetup_" c, $2; print "qpcreate_" c, $3; print "qpconnect_" c, $4 }
				$1 == "median" { print "qpsetup_run_" c, $2 }'
		done
	done
	regs=$("$IASCTL" -o json qps list 2>/dev/null | grep -c libias)
	echo "# libias registrations the agent holds after the QP runs (destroyed QPs drop out): $regs"
	up "qpsetup done"

	# 2. ibv_rc_pingpong pair: create + connect + 100 round trips.
	pair() { # plain|preload -> wall ms of the client, or "fail"
		local sp t0 t1 rc port
		port=$(nextport)
		env $(pre "$1") ibv_rc_pingpong -d rxe0 -g "$g" -n 100 -p $port >/dev/null 2>&1 &
		sp=$!
		wait_port $port $sp || { stop_pid $sp; echo fail; return; }
		t0=$(ms)
		timeout 60 env $(pre "$1") ibv_rc_pingpong -d rxe0 -g "$g" -n 100 -p $port localhost >/dev/null 2>&1
		rc=$?
		t1=$(ms)
		stop_pid $sp
		[ $rc -eq 0 ] && echo $((t1 - t0)) || echo fail
	}
	for c in plain preload; do echo "# warm-up pair $c: $(pair $c) ms" >&2; done
	for i in $(seq 1 "$N"); do
		for c in plain preload; do echo "pair_$c $(pair $c)"; done
	done
	up "pingpong pairs done"

	# 3. perftest, server and client on rxe0, both with or without the interposer.
	perf() { # TOOL plain|preload ARGS... -> the client's result line
		local tool=$1 c=$2 sp out port
		shift 2
		port=$(nextport)
		env $(pre "$c") "$tool" -d rxe0 -x "$g" -p $port "$@" >/dev/null 2>&1 &
		sp=$!
		wait_port $port $sp || { stop_pid $sp; echo fail; return; }
		out=$(timeout 60 env $(pre "$c") "$tool" -d rxe0 -x "$g" -p $port "$@" localhost 2>&1)
		stop_pid $sp
		if grep -Eq '^ *[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+' <<<"$out"; then
			grep -E '^ *[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+' <<<"$out" | tail -1
		else
			tail -3 <<<"$out" | sed "s/^/# $tool $c failed: /" >&2
			echo "fail fail fail fail fail"
		fi
	}
	perf ib_write_bw plain -s 65536 -D 1 >/dev/null
	for i in $(seq 1 "$N"); do
		for c in plain preload; do
			echo "bw_$c $(perf ib_write_bw $c -s 65536 -D 2 | awk '{ print $4 }')"
			echo "lat_$c $(perf ib_write_lat $c -s 2 -n 2000 | awk '{ print $5 }')"
		done
	done
	up "perftest done"

	# 4. Time to stop.
	stoprun() { # preload|plain
		local c=$1 sp cp out port
		port=$(nextport)
		env $(pre "$c") IAS_PAUSE=wait ibv_rc_pingpong -d rxe0 -g "$g" -e -n 1000000000 -p $port >/dev/null 2>&1 &
		sp=$!
		wait_port $port $sp || { stop_pid $sp; echo "stop_$c fail"; return; }
		env $(pre "$c") IAS_PAUSE=wait ibv_rc_pingpong -d rxe0 -g "$g" -e -n 1000000000 -p $port localhost >/dev/null 2>&1 &
		cp=$!
		# Both QPs move, then the report (through libias, from the watcher)
		# and ~1 ms polls until nothing moved for 1 s.
		out=$("$WATCH" -q 1000 -t 20000 -i 1000 -n 2 -r $cp $sp $cp)
		sed 's/^/# '"$c"' /' <<<"$out" >&2
		if grep -q '^timeout 0' <<<"$out" && grep -q '^report [0-9.]* 0$' <<<"$out"; then
			awk -v c=$c '$1 == "stop" { print "stop_" c, $2 } $1 == "poll" { print "poll_" c, $2 }
				$1 == "report" { print "rep_" c, $2 }' <<<"$out"
		else
			echo "stop_$c fail"
		fi
		mech=$("$IASCTL" -o json blocks list --pid $cp 2>/dev/null | grep -o '"mechanism": *"[^"]*"' | head -1)
		mech=${mech#*:}
		echo "mech_$c $(tr -d '" ' <<<"$mech")"
		"$IASCTL" blocks release --pid $cp >/dev/null 2>&1
		"$IASCTL" blocks release --pid $sp >/dev/null 2>&1
		stop_pid $cp
		stop_pid $sp
	}
	for i in $(seq 1 "$N"); do
		stoprun preload
		stoprun plain
	done
	up "time to stop done"
	grep -Ei 'error|warn' $d/sema.log | head -5 | sed 's/^/# sema: /'
	sema_stop
	exit 0
fi

N=${1:-5}
bdir=$(pwd)
for f in tests/bench/bench_qpsetup tests/bench/bench_psnwatch sema/sema iasctl/iasctl \
	verbs_ext/.libs/libias-preload.so; do
	[ -e "$bdir/$f" ] || { echo "$f not built (run from the build directory; make $f)"; exit 1; }
done
reason=$("$here/../kernel/guest.sh" check) || { echo "kernel bed unavailable: $reason"; exit 1; }
start=$(date +%s)
out=$("$here/../kernel/guest.sh" run --nodes 1 --timeout "${IAS_GUEST_TIMEOUT:-900}" -- \
	"$here/bench_kernel.sh" --guest "$bdir" "$N")
rc=$?
echo "# guest run: $(($(date +%s) - start)) s, status $rc"
grep '^#' <<<"$out"
[ $rc -eq 0 ] || { echo "bench run failed"; grep -v '^#' <<<"$out"; exit 1; }

vals() { awk -v k="$1" '$1 == k && $2 != "fail" { print $2 }' <<<"$out"; }
fails() { awk -v k="$1" '$1 == k && $2 == "fail"' <<<"$out" | wc -l; }
med() { sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# spread: (max - min) / median over runs; with 20 or more samples (the
# per-QP figures) (p90 - p10) / median, since single outliers dominate there.
spread() { sort -g | awk '{ a[NR] = $1 } END { if (NR < 2) { print "n/a"; exit }
	m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
	lo = a[1]; hi = a[NR]; if (NR >= 20) { lo = a[int(NR * 0.1) + 1]; hi = a[int(NR * 0.9)] }
	printf "%.0f%%", 100 * (hi - lo) / m }'; }
mx() { sort -g | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "n/a") print "n/a"; else printf "%.2f", a / b }'; }
row() { # LABEL KEY UNIT: medians of plain and preload, ratio, spreads, n
	local p q
	p=$(vals "${2}_plain" | med) q=$(vals "${2}_preload" | med)
	printf '%-44s %10s %10s %7s   spread %5s / %5s   n %d/%d (fail %d/%d)\n' "$1 [$3]" "$p" "$q" \
		"$(ratio "$q" "$p")" "$(vals "${2}_plain" | spread)" "$(vals "${2}_preload" | spread)" \
		"$(vals "${2}_plain" | wc -l)" "$(vals "${2}_preload" | wc -l)" \
		"$(fails "${2}_plain")" "$(fails "${2}_preload")"
}
for k in qpsetup_run pair bw lat stop rep; do
	for c in plain preload; do
		echo "# values ${k}_$c: $(awk -v k="${k}_$c" '$1 == k { printf "%s ", $2 }' <<<"$out")"
	done
done
echo
printf '%-44s %10s %10s %7s\n' "interposer cost ($N runs each, medians)" plain preload ratio
row "QP create+INIT/RTR/RTS, per QP (in-process)" qpsetup us
row "  of which ibv_create_qp" qpcreate us
row "  of which the three ibv_modify_qp" qpconnect us
row "  total, median of per-run medians" qpsetup_run us
row "ibv_rc_pingpong pair, client wall time" pair ms
row "ib_write_bw 64 KiB, 1 s, BW average" bw MB/s
row "ib_write_lat 2 B x 1000, t_typical" lat us
echo "(spread: the noise of one configuration: (max - min) / median over its runs; for the per-QP rows (p90 - p10) / median)"
echo
echo "time to stop: ReportAttack -> last send-PSN change on both QPs of the pair"
for c in preload plain; do
	case $c in preload) what="libias pause (IAS_PAUSE=wait)" ;; plain) what="no libias: process-level block" ;; esac
	printf '  %-32s median %7s ms  max %7s ms  n %d (fail %d)  report call %s ms  poll interval %s ms  mechanism %s\n' \
		"$what" "$(vals stop_$c | med)" "$(vals stop_$c | mx)" "$(vals stop_$c | wc -l)" "$(fails stop_$c)" \
		"$(vals rep_$c | med)" "$(vals poll_$c | med)" \
		"$(awk -v k=mech_$c '$1 == k { print $2 }' <<<"$out" | sort | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')"
done
