#!/usr/bin/env bash
# Kernel test: the paper's Figure 2 chain with NO process using libias, traced
# from the attacker's end, on the QEMU + soft-RoCE bed, in one guest boot.
#
# Three nodes, each in its own PID and mount namespace with its own agent
# (tests/kernel/chain_lib.sh); one rc_chain process per node, none under
# libias-preload.so:
#   node0 P1  <-RC->  node1 P2 (two QPs)  <-RC->  node2 P3
# Every QP's remote end comes from kernel observation (sema/kobsfeed.c): the
# agent of node2 starts first and loads the eBPF programs, the other two find
# them pinned. ReportAttack(P3) on node2 (the end of the chain): node2 freezes
# P3 and traces to P2's QP on node1, whose agent freezes P2 and traces on
# through P2's other QP to node0, whose agent freezes P1. All four QPs stop
# (rc_chain's completion counters stay unchanged), and the origin's
# `iasctl incidents show` records node1's answer and its onward hop to P1's
# QP; node0's and node1's incidents record their blocks.
# The guest part reports through tests/lib/tap.sh; the host part (host_lib.sh,
# guest_tap) counts its results.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	B=$2
	# shellcheck source=../lib/tap.sh
	. "$top_srcdir/tests/lib/tap.sh"
	# shellcheck source=chain_lib.sh
	. "$here/chain_lib.sh"

	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	"$KOBS" unload >/dev/null 2>&1
	chain_ns_up
	# node2's agent loads kobs; then node0's and node1's find it pinned.
	CHAIN_NODES=2
	check "node2's agent up" chain_agents_start
	check "node2's agent loaded and pinned the eBPF programs" \
		grep -q 'kernel observation active (loaded and pinned under /sys/fs/bpf/ias)' /run/iaskt/n2/sema.log
	CHAIN_NODES="0 1"
	check "node0's and node1's agents up" chain_agents_start
	CHAIN_NODES="0 1 2"
	for i in 0 1; do
		check "node$i's agent found them pinned" \
			grep -q 'kernel observation active (found pinned under /sys/fs/bpf/ias)' /run/iaskt/n$i/sema.log
	done
	CHAIN_PRELOAD=""
	check "the chain is up without libias: four RC QPs in RTS" chain_traffic_up
	qps=$(psns)
	sed 's/^/# chain QP (dev lqpn sq_psn): /' <<<"$qps"
	check "traffic flows on all four QPs" moving
	chain_pids
	echo "# pids in their namespaces: node0 $p0, node1 $p1, node2 $p2"
	# Every chain QP is known to its agent with the kernel's remote end.
	kernel_remotes() {
		local i n want
		for _ in $(seq 1 50); do
			n=0
			for i in 0 1 2; do
				want=1; [ $i = 1 ] && want=2
				[ "$(ctl $i -o json qps list 2>/dev/null | grep -c '"remote_source": *"kernel-bpf')" -ge $want ] && n=$((n + 1))
			done
			[ $n -eq 3 ] && return 0
			sleep 0.2
		done
		for i in 0 1 2; do ctl $i qps list | sed "s/^/# n$i: /"; done
		return 1
	}
	check "all four QPs' remote ends come from the kernel (kernel-bpf)" kernel_remotes
	nolib() { ! ctl "$1" -o json qps list | grep -q '"source": *"[^"]*libias'; }
	nolibs() { nolib 0 && nolib 1 && nolib 2; }
	check "no QP is registered through libias" nolibs

	t0=$(uptime_s)
	out=$(ctl 2 report --pid "$p2" --reason chain-nolibias)
	echo "# node2: $out"
	inc=$(sed -n 's/.*incident \(I-[0-9a-f]*-[0-9]*\).*/\1/p' <<<"$out")
	check "ReportAttack(P3) accepted on node2, the attacker's end" [ -n "$inc" ]
	check "the trace went node2 -> node1 -> node0: all blocked in $inc" chain_wait_blocked "$inc" 1 0
	echo "# report -> node0 blocked: $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s (upper bound)"
	done_work() { chain_counters | awk '{ print $1, $2, $3, $4, $5 }'; }
	stopped() {
		local c1 c2
		for _ in $(seq 1 10); do
			c1=$(done_work); sleep 2; c2=$(done_work)
			[ "$c1" = "$c2" ] && return 0
		done
		echo "$c2" | sed 's/^/# completions: /'
		return 1
	}
	check "all four QPs stopped: no work request completes on any of them" stopped
	done_work | sed 's/^/# counters (node qpn sends recvs last_us): /'
	for i in 0 1 2; do
		m=$(ctl $i -o json blocks list | grep -o '"mechanism": *"[^"]*"' | head -1)
		echo "# node$i block: $m"
		check "node$i: its process stopped at process level" grep -q 'freeze' <<<"$m"
	done
	isw=$(ctl 2 incidents show "$inc")
	sed 's/^/# n2: /' <<<"$isw"
	p1qp=$(psns | awk '$1 == "rxe0" { print $2; exit }')
	check "the origin's incident records node1's answer and its onward hop to P1's QP ($p1qp)" \
		grep -qi "traced on to .*qp $(printf '0x%x' "${p1qp:-0}")" <<<"$isw"
	shows_block() { ctl "$1" incidents show "$inc" | grep -qi block; }
	for i in 0 1; do
		check "node$i's incident records its block" shows_block $i
	done
	for i in 0 1 2; do ctl $i blocks release --incident "$inc" >/dev/null; done
	chain_agents_stop
	"$KOBS" unload >/dev/null 2>&1
	for i in 0 1 2; do
		grep -E 'error|warn' /run/iaskt/n$i/sema.log | head -5 | sed "s/^/# n$i sema: /"
	done
	guest_done
fi

# Host part.
# shellcheck source=host_lib.sh
. "$here/host_lib.sh"
guest_needs ias-kobs tests/kernel/kqp_dump tests/kernel/rc_chain sema/sema iasctl/iasctl
guest_tap --nodes 3 --timeout "${IAS_GUEST_TIMEOUT:-360}" -- \
	"$here/test_chain_nolibias.sh" --guest "$bdir"
