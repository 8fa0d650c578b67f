#!/usr/bin/env bash
# Benchmark on the kernel bed (one guest boot, one rxe device, one agent):
#  - interposer cost: an ibv_rc_pingpong pair (QP create + connect + 100
#    round trips) with and without libias-preload.so, N runs each,
#    interleaved; medians and the ratio;
#  - time to stop: ReportAttack -> last change of the paused QP's send PSN
#    (rdma netlink, polled every 20 ms), N runs; median and max.
# Usage (from the build directory): ../tests/bench/bench_kernel.sh [N]
# Not part of the test suite.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${1:-}" = --guest ]; then
	B=$2 N=$3
	KQP=$B/tests/kernel/kqp_dump PRE=$B/verbs_ext/.libs/libias-preload.so
	IASCTL=$B/sema/iasctl
	d=/run/iasbench; mkdir -p $d/state
	"$B/common/ias-keygen" $d/secmgt.keys >/dev/null
	printf 'control_socket = %s\nstate_dir = %s\nkey_file = %s\nblock_duration = 0\nkernel_scan_interval = 1s\n' \
		$d/sema.sock $d/state $d/secmgt.keys >$d/ias.conf
	"$B/sema/sema" --foreground --config $d/ias.conf >$d/log 2>&1 &
	for _ in $(seq 1 100); do "$IASCTL" --socket $d/sema.sock status >/dev/null 2>&1 && break; sleep 0.1; done
	export IAS_SOCKET=$d/sema.sock
	g=$IAS_GID6_0
	ms() { date +%s%N | awk '{ printf "%d", $1 / 1000000 }'; }
	pair() { # PRELOAD-or-empty PORT -> wall ms of the client
		local port=$2 t0 t1
		env ${1:+LD_PRELOAD=$1} ibv_rc_pingpong -d rxe0 -g "$g" -n 100 -p "$port" >/dev/null 2>&1 &
		sleep 0.3
		t0=$(ms)
		env ${1:+LD_PRELOAD=$1} ibv_rc_pingpong -d rxe0 -g "$g" -n 100 -p "$port" localhost >/dev/null 2>&1
		t1=$(ms)
		wait
		echo $((t1 - t0))
	}
	port=19000
	for i in $(seq 1 "$N"); do
		port=$((port + 1)); echo "plain $(pair "" $port)"
		port=$((port + 1)); echo "preload $(pair "$PRE" $port)"
	done
	for i in $(seq 1 "$N"); do
		port=$((port + 1))
		LD_PRELOAD=$PRE IAS_PAUSE=wait ibv_rc_pingpong -d rxe0 -g "$g" -e -n 1000000000 -p $port >/dev/null 2>&1 &
		sleep 0.5
		LD_PRELOAD=$PRE IAS_PAUSE=wait ibv_rc_pingpong -d rxe0 -g "$g" -e -n 1000000000 -p $port localhost >/dev/null 2>&1 &
		cp=$!
		sleep 2
		t0=$(ms)
		"$IASCTL" report --pid $cp >/dev/null
		last=$t0 prev=""
		while :; do
			cur=$("$KQP" -a | awk -v p=$cp '$7 == p { print $8 }')
			now=$(ms)
			[ "$cur" != "$prev" ] && { last=$now; prev=$cur; }
			[ $((now - last)) -ge 1000 ] && break
			sleep 0.02
		done
		echo "stop $((last - t0))"
		"$IASCTL" blocks release --pid $cp >/dev/null
		pkill -f "ibv_rc_pingpong.*-p $port"
		wait 2>/dev/null
	done
	exit 0
fi
N=${1:-7}
bdir=$(pwd)
out=$("$here/../kernel/guest.sh" run --nodes 1 --timeout 600 -- "$here/bench_kernel.sh" --guest "$bdir" "$N") || {
	echo "bench run failed"; echo "$out"; exit 1; }
med() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mx() { sort -n | tail -1; }
p=$(awk '$1 == "plain" { print $2 }' <<<"$out" | med)
q=$(awk '$1 == "preload" { print $2 }' <<<"$out" | med)
s=$(awk '$1 == "stop" { print $2 }' <<<"$out" | med)
m=$(awk '$1 == "stop" { print $2 }' <<<"$out" | mx)
echo "pingpong pair (create+connect+100 RTs), median of $N: plain $p ms, preload $q ms, ratio $(awk -v a="$q" -v b="$p" 'BEGIN { printf "%.2f", a / b }')"
echo "time to stop (report -> last PSN change), $N runs: median $s ms, max $m ms (20 ms polling, TCG guest)"
