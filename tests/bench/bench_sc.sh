#!/usr/bin/env bash
# bench_sc.sh: secured-channel set-up on the kernel bed (QEMU/TCG + rxe),
# against two baselines on the same guest in one run:
#   tcp    QP parameters as text over plain TCP, as ibv_rc_pingpong does
#          (tests/bench/bench_sc_tcp);
#   rdmacm rping (rdma_cm) from rdmacm-utils, one connection per process.
# Reported: set-up latency (median, p90) and rate for N sequential
# connections per mode, TLS with and without session resumption and with
# mutual TLS; per-process wall time for one connection (ours, tcp, rping);
# concurrent clients held and server memory per client.
# Usage: tests/bench/bench_sc.sh [N_SEQUENTIAL [N_HELD]]   (defaults 200 1000)
# Needs root and the bed (tests/kernel/guest.sh); run from a build tree or
# set top_builddir. Not part of the test suite.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}

if [ "${1:-}" = --guest ]; then
	B=$2 N=$3 H=$4
	# The real binaries, not libtool's wrapper scripts (a shell start-up per
	# process would dominate the per-process figures under TCG).
	export LD_LIBRARY_PATH=$B/verbs_ext/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	SRV=$B/verbs_ext/.libs/ias-sc-server CLI=$B/verbs_ext/.libs/ias-sc-client
	[ -x "$SRV" ] || SRV=$B/verbs_ext/ias-sc-server CLI=$B/verbs_ext/ias-sc-client
	TCPB=$B/tests/bench/bench_sc_tcp
	# rping needs the rdma_cm user interface, which the bed does not load.
	KT=${IAS_KTREE:-$B/kernel-cache/root}
	modprobe -d "$KT" -S "${IAS_KVER:-$(ls "$KT/lib/modules" | head -n 1)}" rdma_ucm 2>/dev/null
	D=/tmp/bench; "$top_srcdir/tests/kernel/sc_certs.sh" $D/certs; C=$D/certs
	DEV=(-d rxe0 -g "$IAS_GID6_0")
	TLS=(--ca $C/ca.pem --name localhost --no-register)
	wait_for() { local i; for i in $(seq 1 600); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
	field() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" <<<"$1" | head -n 1; }

	"$TCPB" server rxe0 "$IAS_GID6_0" 5000 >$D/tcp.log 2>&1 & tp=$!
	"$SRV" "${DEV[@]}" --cert $C/server.pem --key $C/server.key --no-register --bench \
		--max-clients 4000 --timeout 600000 >$D/s1.log 2>&1 & s1=$!
	"$SRV" "${DEV[@]}" --cert $C/server.pem --key $C/server.key --ca $C/ca.pem \
		--require-client-cert --no-register --bench --port 4434 >$D/s2.log 2>&1 & s2=$!
	wait_for $D/tcp.log LISTENING; wait_for $D/s1.log LISTENING; wait_for $D/s2.log LISTENING

	# Warm-up (page cache over 9p, first TLS use).
	"$CLI" "${DEV[@]}" "${TLS[@]}" -n 5 -c 1 -m 0 --bench localhost >/dev/null
	"$TCPB" client rxe0 "$IAS_GID6_0" localhost 5000 5 >/dev/null

	# Three interleaved rounds (the host's load moves TCG timings); each
	# figure is the middle round's.
	for r in 1 2 3; do
		"$TCPB" client rxe0 "$IAS_GID6_0" localhost 5000 "$N" >>$D/r-tcp
		"$CLI" "${DEV[@]}" "${TLS[@]}" -n "$N" -c 1 -m 0 --bench --no-resume localhost | grep '^SETUP' >>$D/r-full
		"$CLI" "${DEV[@]}" "${TLS[@]}" -n "$N" -c 1 -m 0 --bench localhost | grep '^SETUP' >>$D/r-res
		"$CLI" "${DEV[@]}" "${TLS[@]}" --cert $C/client.pem --key $C/client.key -p 4434 \
			-n "$N" -c 1 -m 0 --bench localhost | grep '^SETUP' >>$D/r-mtls
	done
	mid() { sort -t= -k3 -n "$1" | sed -n 2p; }
	tcp=$(mid $D/r-tcp) full=$(mid $D/r-full) res=$(mid $D/r-res) mtls=$(mid $D/r-mtls)
	t=$(field "$tcp" median_us)
	echo "== set-up latency, $N sequential connections (median / p90 us, rate /s, ratio of medians to tcp)"
	for m in "tcp:$tcp" "tls-full:$full" "tls-resumed:$res" "mtls-resumed:$mtls"; do
		name=${m%%:*} line=${m#*:}
		md=$(field "$line" median_us) p9=$(field "$line" p90_us) rt=$(field "$line" rate_per_s)
		printf '%-14s median %9s  p90 %9s  rate %7s  ratio %s\n' "$name" "$md" "$p9" "$rt" \
			"$(awk -v a="$md" -v b="$t" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
	done

	# Per process: one connection, wall time including exec and device open.
	rping -s -P -a "$IAS_ADDR4_0" -p 5001 >/dev/null 2>&1 & rp=$!
	sleep 1
	per() { # name cmd...: median wall ms of 11 runs
		local i t0 t1 v=()
		for i in $(seq 1 11); do
			t0=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "$1 failed" >&2; }; t1=$(date +%s%N)
			v+=($(( (t1 - t0) / 1000 )))
		done
		printf '%s\n' "${v[@]}" | sort -n | sed -n 6p
	}
	ours=$(per "$CLI" "${DEV[@]}" "${TLS[@]}" -n 1 -m 0 --no-resume localhost)
	base=$(per "$TCPB" client rxe0 "$IAS_GID6_0" localhost 5000 1)
	rdc=$(per rping -c -a "$IAS_ADDR4_0" -p 5001 -C 1)
	echo "== one connection per process (median wall us of 11 runs, exec + device open included)"
	printf '%-14s %9s\n' ias-sc-client "$ours" bench_sc_tcp "$base" "rping -C 1" "$rdc"
	kill $rp 2>/dev/null

	# Concurrent clients held by one server; server memory per client.
	rss() { awk '/^VmRSS/ { print $2 }' /proc/$1/status; }
	r0=$(rss $s1)
	rm -f $D/go
	t0=$(date +%s%N)
	"$CLI" "${DEV[@]}" "${TLS[@]}" -n "$H" -m 1 --quiet --timeout 600000 --wait-file $D/go \
		localhost >$D/held.log 2>&1 & cp=$!
	wait_for $D/held.log '^ALL-ESTABLISHED'
	t1=$(date +%s%N)
	r1=$(rss $s1)
	touch $D/go
	wait $cp
	echo "== $H concurrent clients held by one server"
	grep -h '^ALL-ESTABLISHED\|^SUMMARY' $D/held.log
	echo "all established after $(( (t1 - t0) / 1000000 )) ms; server RSS $r0 -> $r1 KiB: $(( (r1 - r0) / H )) KiB per client (16 x 1 KiB receive slots each)"
	kill $tp $s1 $s2 2>/dev/null
	wait 2>/dev/null
	grep -h '^STATS' $D/s1.log
	exit 0
fi

bdir=$(cd "${top_builddir:-$top_srcdir/build}" && pwd)
export top_srcdir top_builddir=$bdir
"$top_srcdir/tests/kernel/guest.sh" check >/dev/null || { echo "kernel bed unavailable" >&2; exit 1; }
"$top_srcdir/tests/kernel/guest.sh" prepare || exit 1
command -v rping >/dev/null || echo "note: rping (rdmacm-utils) not installed; that baseline will fail" >&2
IAS_GUEST_MEM=${IAS_GUEST_MEM:-2048} exec "$top_srcdir/tests/kernel/guest.sh" run --nodes 1 --timeout 1200 -- \
	"$here/bench_sc.sh" --guest "$bdir" "${1:-200}" "${2:-1000}"
