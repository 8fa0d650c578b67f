#!/usr/bin/env bash
# Benchmark of kobs (sema/bpf) on the kernel bed (one guest boot, one rxe
# device), each measure with its baseline side by side, interleaved round by
# round (kobs attached: `ias-kobs load`; not: `ias-kobs unload`):
#  - QP create + RESET->INIT->RTR->RTS timed in-process
#    (tests/bench/bench_qpsetup, per QP, median of 50 per round);
#  - an ibv_rc_pingpong pair: create + connect + 100 round trips, wall time
#    of the client;
#  - ib_write_bw (64 KiB, 2 s) and ib_write_lat (2 B x 2000) from perftest.
# Nothing of kobs is on the post path, so the data path must be within noise.
# Usage (from the build directory, after make ias-kobs tests/bench/bench_qpsetup):
#   flock /tmp/ias-kernel.lock ../tests/bench/bench_kobs.sh [N]
# N rounds (default 5). Not part of the test suite. Absolute figures come
# from a TCG-emulated guest; the ratios are what count.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	B=$2 N=$3
	KOBS=$B/ias-kobs QPS=$B/tests/bench/bench_qpsetup
	pin=/sys/fs/bpf/ias-bench
	g=$IAS_GID6_0
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	listening() { awk -v p=":$(printf '%04X' "$1")" 'substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 } END { exit !f }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null; }
	echo 19500 >/tmp/port
	nextport() { local p; read -r p </tmp/port; p=$((p + 1)); echo $p >/tmp/port; echo $p; }
	wait_port() { for _ in $(seq 1 300); do listening "$1" && return 0; kill -0 "$2" 2>/dev/null || return 1; sleep 0.1; done; return 1; }
	stop_pid() {
		kill "$1" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
	}
	ms() { echo $(($(date +%s%N) / 1000000)); }
	mode() { # plain|kobs
		if [ "$1" = kobs ]; then "$KOBS" -d $pin load >/dev/null || echo "# load failed" >&2
		else "$KOBS" -d $pin unload >/dev/null 2>&1; fi
	}
	pair() { local sp t0 t1 rc port
		port=$(nextport)
		ibv_rc_pingpong -d rxe0 -g "$g" -n 100 -p $port >/dev/null 2>&1 &
		sp=$!
		wait_port $port $sp || { stop_pid $sp; echo fail; return; }
		t0=$(ms)
		timeout 60 ibv_rc_pingpong -d rxe0 -g "$g" -n 100 -p $port localhost >/dev/null 2>&1
		rc=$?
		t1=$(ms)
		stop_pid $sp
		[ $rc -eq 0 ] && echo $((t1 - t0)) || echo fail
	}
	perf() { local tool=$1 sp out port
		shift
		port=$(nextport)
		"$tool" -d rxe0 -x "$g" -p $port "$@" >/dev/null 2>&1 &
		sp=$!
		wait_port $port $sp || { stop_pid $sp; echo fail fail fail fail fail; return; }
		out=$(timeout 60 "$tool" -d rxe0 -x "$g" -p $port "$@" localhost 2>&1)
		stop_pid $sp
		grep -E '^ *[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+' <<<"$out" | tail -1 | grep . || echo fail fail fail fail fail
	}
	# Warm-up (not counted), and a check that kobs sees the QPs.
	mode kobs
	"$QPS" rxe0 "$g" 5 >/dev/null
	echo "# kobs records left after the warm-up: $("$KOBS" -d $pin dump | wc -l) (bench_qpsetup destroys its QPs: 0 expected)"
	"$KOBS" -d $pin watch -t 1 | wc -l | sed 's/^/# events buffered during the warm-up: /'
	mode plain
	"$QPS" rxe0 "$g" 5 >/dev/null
	for i in $(seq 1 "$N"); do
		for c in plain kobs; do
			mode $c
			"$QPS" rxe0 "$g" 50 | awk -v c=$c '$1 == "setup" { print "qpsetup_" c, $2 }
				$1 == "median" { print "qprun_" c, $2 }'
			echo "pair_$c $(pair)"
			echo "bw_$c $(perf ib_write_bw -s 65536 -D 2 | awk '{ print $4 }')"
			echo "lat_$c $(perf ib_write_lat -s 2 -n 2000 | awk '{ print $5 }')"
		done
		echo "# round $i done" >&2
	done
	mode plain
	exit 0
fi

N=${1:-5}
bdir=$(pwd)
for f in ias-kobs tests/bench/bench_qpsetup; do
	[ -e "$bdir/$f" ] || { echo "$f not built (run from the build directory; make $f)"; exit 1; }
done
reason=$("$here/../kernel/guest.sh" check) || { echo "kernel bed unavailable: $reason"; exit 1; }
start=$(date +%s)
out=$("$here/../kernel/guest.sh" run --nodes 1 --timeout "${IAS_GUEST_TIMEOUT:-900}" -- \
	"$here/bench_kobs.sh" --guest "$bdir" "$N")
rc=$?
echo "# guest run: $(($(date +%s) - start)) s, status $rc"
grep '^#' <<<"$out"
[ $rc -eq 0 ] || { echo "bench run failed"; grep -v '^#' <<<"$out"; exit 1; }

vals() { awk -v k="$1" '$1 == k && $2 != "fail" { print $2 }' <<<"$out"; }
fails() { awk -v k="$1" '$1 == k && $2 == "fail"' <<<"$out" | wc -l; }
med() { sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
spread() { sort -g | awk '{ a[NR] = $1 } END { if (NR < 2) { print "n/a"; exit }
	m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
	lo = a[1]; hi = a[NR]; if (NR >= 20) { lo = a[int(NR * 0.1) + 1]; hi = a[int(NR * 0.9)] }
	printf "%.0f%%", 100 * (hi - lo) / m }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "n/a") print "n/a"; else printf "%.2f", a / b }'; }
row() { local p q
	p=$(vals "${2}_plain" | med) q=$(vals "${2}_kobs" | med)
	printf '%-44s %10s %10s %7s   spread %5s / %5s   n %d/%d (fail %d/%d)\n' "$1 [$3]" "$p" "$q" \
		"$(ratio "$q" "$p")" "$(vals "${2}_plain" | spread)" "$(vals "${2}_kobs" | spread)" \
		"$(vals "${2}_plain" | wc -l)" "$(vals "${2}_kobs" | wc -l)" "$(fails "${2}_plain")" "$(fails "${2}_kobs")"
}
echo
printf '%-44s %10s %10s %7s\n' "kobs cost ($N rounds, medians)" plain kobs ratio
row "QP create+INIT/RTR/RTS, per QP (in-process)" qpsetup us
row "  total, median of per-round medians" qprun us
row "ibv_rc_pingpong pair, client wall time" pair ms
row "ib_write_bw 64 KiB, 2 s, BW average" bw MB/s
row "ib_write_lat 2 B x 2000, t_typical" lat us
echo "(spread: (max - min) / median over the rounds; per-QP rows (p90 - p10) / median)"
