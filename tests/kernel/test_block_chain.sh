#!/usr/bin/env bash
# Kernel test: blocking that really stops RDMA traffic, on the QEMU + soft-RoCE
# bed, in one guest boot.
#
# Three nodes (rxe0..rxe2 on a bridge, IPv6 GIDs), each in its own PID and
# mount namespace with its own agent (sema); the agents share one SecMgt key.
# The paper's chain, one process per node (tests/kernel/rc_chain: continuous
# two-way SEND traffic on every RC QP it owns):
#   node0 P1  <-RC->  node1 P2 (two QPs)  <-RC->  node2 P3
# P1 and P2 run under libias-preload.so; P3 does not use libias at all.
# Traffic is measured twice: by the kernel (each QP's send PSN from rdma
# netlink, kqp_dump -a) and by rc_chain's completion counters.
#  1. block_mode=pause set explicitly (the default is freeze).
#     ReportAttack(P1) on node0 only. node0 pauses P1's QP and traces over
#     the real kernel MAD layer (RoCE: GRH, IPv6 GIDs) to node1, which
#     pauses both of P2's QPs through libias and traces on to node2, which
#     finds P3's QP through the kernel and stops P3 at process level.
#     Traffic must stop on every QP; time-to-stop is printed per QP;
#  2. release of the incident on every node: traffic resumes; the PSN watch
#     escalated none of the kept pauses;
#  3. sema/enforce_proc on real cgroups (eproc_tool): cgroup v2 freeze stops
#     the traffic, release thaws and moves the process back; the rdma cap
#     makes a new process in that cgroup unable to open the device;
#  4. cut: the QP goes to ERR, and the release says it cannot resume.
# The guest part reports through tests/lib/tap.sh; the host part (host_lib.sh,
# guest_tap) counts its results.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	B=$2
	EPT=$B/tests/kernel/eproc_tool
	# shellcheck source=../lib/tap.sh
	. "$top_srcdir/tests/lib/tap.sh"
	now() { local u; read -r u _ </proc/uptime; echo "$u"; }
	# shellcheck source=chain_lib.sh
	. "$here/chain_lib.sh"
	check "three agents up, each in its own PID namespace" chain_agents_up
	# The default block mode is freeze; per-QP pause is an explicit policy
	# choice (it trusts the process's libias, and the PSN watch checks it).
	pol=0
	for i in 0 1 2; do ctl $i policy set block_mode=pause >/dev/null && pol=$((pol + 1)); done
	check "block_mode=pause set explicitly on every node" [ $pol -eq 3 ]
	chain_traffic_up
	cat /tmp/p[012].log | sed 's/^/# /'
	qps=$(psns)
	sed 's/^/# chain QP (dev lqpn sq_psn): /' <<<"$qps"
	check "four RC QPs in RTS (two links)" [ "$(wc -l <<<"$qps")" -eq 4 ]
	check "traffic flows on all four QPs" moving

	chain_pids
	echo "# pids in their namespaces: node0 $p0, node1 $p1, node2 $p2"
	reg0() { ctl 0 -o json qps list | grep -q '"source": *"[^"]*libias'; }
	check "node0's agent has the libias registration of its QP" reg0
	reg2() { ctl 2 -o json qps list | grep -q '"source": *"kernel"'; }
	check "node2's agent knows its QP from the kernel only" reg2
	# Registrations the kernel contradicts are refused (one-device look-up).
	tc() {
		nsr 1 env LD_LIBRARY_PATH="$B/verbs_ext/.libs" IAS_SOCKET=/run/iaskt/n1/sema.sock \
			"$B/tests/daemon/.libs/ias_testclient" register "$@"
	}
	q2=$(psns | awk '$1 == "rxe1" { print $2; exit }')
	out=$(tc rxe1 "$q2")
	echo "# another process claims P2's QP $q2: $out"
	claim_refused() { grep -q '^refused' <<<"$out" && grep -q 'but the kernel says PID .* owns it; refused' /run/iaskt/n1/sema.log; }
	check "a claim on another process's QP is refused and logged" claim_refused
	out=$(tc rxe1 0x7ff0)
	echo "# a QPN the kernel does not know: $out"
	nokernel_refused() { grep -q '^refused' <<<"$out" && grep -q 'that the kernel does not report; refused' /run/iaskt/n1/sema.log; }
	check "a QP the kernel does not report is refused and logged" nokernel_refused
	out=$(tc rxe9 "$q2")
	echo "# an unknown device: $out"
	check "a QP on a device the kernel does not have is refused" grep -q '^refused' <<<"$out"
	us() { echo $(( $(date +%s%N) / 1000 )); }
	t0=$(now) tr_us=$(us)
	out=$(ctl 0 report --pid "$p0" --reason chain-test)
	echo "# node0: $out"
	inc=$(sed -n 's/.*incident \(I-[0-9a-f]*-[0-9]*\).*/\1/p' <<<"$out")
	check "ReportAttack(P1) accepted on node0 only" [ -n "$inc" ]
	blocked_on() { ctl "$1" -o json blocks list 2>/dev/null | grep -q "\"incident_id\": *\"$inc\""; }
	traced() {
		local end=$(($(date +%s) + 40))
		while [ "$(date +%s)" -lt $end ]; do
			blocked_on 1 && blocked_on 2 && return 0
			sleep 0.2
		done
		for i in 0 1 2; do grep -E 'trace|MAD|LID' /run/iaskt/n$i/sema.log | tail -8 | sed "s/^/# n$i sema: /"; done
		return 1
	}
	check "the trace reached node1 and node2 over the kernel MAD layer: both blocked in $inc" traced
	check "traffic stopped on every chain QP" still
	echo "# report -> traffic still: $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s (upper bound, includes 1.5 s of observation)"
	# Time to stop, per QP: the last completion rc_chain counted, after the report.
	chain_counters >/tmp/stops
	awk -v t="$tr_us" '{ printf "# time-to-stop n%s qp 0x%x: %.1f ms (%d sends, %d receives, %d posts refused)\n", substr($1, 2), $2, ($5 - t) / 1000, $3, $4, $6 }' /tmp/stops
	awk -v t="$tr_us" '{ d = ($5 - t) / 1000; if (d > m) m = d } END { printf "# time-to-stop, all chain QPs: %.1f ms\n", m }' /tmp/stops
	isw=$(ctl 0 incidents show "$inc")
	sed 's/^/# /' <<<"$isw"
	check "node0's incident records node1's answer and its onward trace" grep -q 'traced on to' <<<"$isw"
	m0=$(ctl 0 -o json blocks list)
	m1=$(ctl 1 -o json blocks list)
	m2=$(ctl 2 -o json blocks list)
	echo "# node0 block: $(grep -o '"mechanism": *"[^"]*"' <<<"$m0")"
	echo "# node1 block: $(grep -o '"mechanism": *"[^"]*"' <<<"$m1")"
	echo "# node2 block: $(grep -o '"mechanism": *"[^"]*"' <<<"$m2")"
	check "node0: per-QP pause through libias" grep -q '"mechanism": *"pause(1)' <<<"$m0"
	check "node1: both of P2's QPs paused through libias" grep -q '"mechanism": *"pause(2)' <<<"$m1"
	check "node2 (no libias): stopped at process level" grep -q '"mechanism": *"[^"]*freeze' <<<"$m2"
	gp2=$(pgrep -f "^$RCC -d rxe2")
	# The agent freezes through the cgroup v2 freezer (SIGSTOP only where
	# that is unavailable): frozen means its cgroup says so, or state T.
	frozen() {
		local cg
		grep -q '^State:.*T' /proc/"$1"/status && return 0
		cg=$(sed -n 's/^0:://p' /proc/"$1"/cgroup)
		grep -q '^frozen 1' "/sys/fs/cgroup$cg/cgroup.events" 2>/dev/null
	}
	check "node2's process is frozen (cgroup freezer, or SIGSTOP)" frozen "$gp2"
	echo "# node2's cgroup: $(sed -n 's/^0:://p' /proc/"$gp2"/cgroup)"
	gp0=$(pgrep -f "^$RCC -d rxe0")
	check "node0's process is not stopped (only its QP is paused)" \
		bash -c "! grep -q '^State:.*T' /proc/$gp0/status"
	# Stopped means no work request completes any more: rc_chain's
	# completion counters (sends, receives, last completion) stay as they
	# are on every QP. A send completes only when the peer received it, so
	# the sending side's counter covers a frozen receiver too. A QP's
	# sq_psn alone is not the test: rxe resends packets posted before the
	# block when the peer, whose receives are paused, answers RNR, and
	# that moves sq_psn with no work completing (seen on rxe1's QP to node0:
	# +7 PSNs, every counter unchanged). PSN moves are logged.
	done_work() { chain_counters | awk '{ print $1, $2, $3, $4, $5 }'; }
	still_again() {
		local a b c1 c2
		a=$(psns) c1=$(done_work)
		sleep 2
		b=$(psns) c2=$(done_work)
		[ "$a" = "$b" ] || { echo "$a" | sed 's/^/# psn before: /'; echo "$b" | sed 's/^/# psn after:  /'; }
		[ "$c1" = "$c2" ] && return 0
		echo "$c1" | sed 's/^/# completions before: /'
		echo "$c2" | sed 's/^/# completions after:  /'
		return 1
	}
	check "traffic stays stopped: no work request completes on any chain QP" still_again

	rel=0
	for i in 0 1 2; do ctl $i blocks release --incident "$inc" >/dev/null && rel=$((rel + 1)); done
	check "release of the incident accepted on every node" [ $rel -eq 3 ]
	check "after release, traffic flows again on all four QPs" moving
	note=$(ctl 0 -o json blocks list --all | grep -o '"release_note": *"[^"]*"' | head -1)
	echo "# node0 $note"
	check "node0's release note says the QP was resumed" grep -q 'resumed 1 QP' <<<"$note"
	# The PSN watch saw the kept pauses (resends after RNR NAKs included)
	# and escalated none of them.
	esc=$(grep -h 'escalated to freeze' /run/iaskt/n[01]/sema.log | head -3)
	[ -z "$esc" ] || sed 's/^/# /' <<<"$esc"
	check "kept pauses are not escalated by the PSN watch" [ -z "$esc" ]

	# sema/enforce_proc on real cgroups, on node2's process (root namespace PID).
	check "cgroup v2 freezer present" [ -e /sys/fs/cgroup/cgroup.controllers ]
	out=$("$EPT" freeze "$gp2" t1 2>&1)
	st=$(head -1 <<<"$out")
	echo "# eproc freeze: $(sed -n 2p <<<"$out")"
	check "enforce_proc freeze: moved and frozen by cgroup" grep -q 'did=3 ' <<<"$st"
	check "the process is in /ias.blocks/ias-block-t1 (the root-owned parent)" \
		grep -q '^0::/ias.blocks/ias-block-t1$' /proc/"$gp2"/cgroup
	check "cgroup.events says frozen" grep -q 'frozen 1' /sys/fs/cgroup/ias.blocks/ias-block-t1/cgroup.events
	# Only node2's QP: the node0-node1 link keeps running.
	ONLY=rxe2
	check "node2's traffic stopped under the cgroup freeze" still
	sig=$(kill -CONT "$gp2" 2>&1; sleep 1; psns)
	check "SIGCONT does not undo a cgroup freeze" [ "$sig" = "$(sleep 1; psns)" ]
	ONLY=
	out=$("$EPT" release "$st" 2>&1)
	echo "# eproc release: $(sed -n 2p <<<"$out")"
	check "enforce_proc release succeeded" [ "$(head -1 <<<"$out" | sed 's/.*did=\([0-9]*\).*/\1/')" = 0 ]
	check "the process is back in its cgroup" grep -q '^0::/$' /proc/"$gp2"/cgroup
	check "the block cgroup is gone" [ ! -e /sys/fs/cgroup/ias.blocks/ias-block-t1 ]
	check "traffic flows again after the thaw" moving

	# rdma cap: a process placed in the capped cgroup cannot open the device.
	sleep 1000 &
	sp=$!
	out=$("$EPT" cap "$sp" t2 2>&1)
	st=$(head -1 <<<"$out")
	echo "# eproc cap: $(sed -n 2p <<<"$out")"
	check "enforce_proc rdma cap set" grep -q 'did=9 ' <<<"$st"
	cat /sys/fs/cgroup/ias.blocks/ias-block-t2/rdma.max 2>/dev/null | sed 's/^/# rdma.max: /'
	sh -c 'echo $$ >/sys/fs/cgroup/ias.blocks/ias-block-t2/cgroup.procs; exec ibv_devinfo -d rxe0' >/tmp/cap.log 2>&1
	check "a process in the capped cgroup cannot open the device" [ $? -ne 0 ]
	sed 's/^/# capped ibv_devinfo: /' /tmp/cap.log | head -3
	kill "$sp"
	"$EPT" release "$st" >/dev/null 2>&1
	ibv_devinfo -d rxe0 >/dev/null 2>&1
	check "outside the cap the device opens" [ $? -eq 0 ]

	# cut (irreversible): node0's QP to ERR; the release note says so.
	ctl 0 policy set block_mode=cut >/dev/null
	ctl 0 report --pid "$p0" --reason cut-test >/dev/null
	cut_err() {
		local n
		for _ in $(seq 1 40); do
			n=$("$KQP" | awk -v p="$gp0" '$5 == "RC" && $7 == p { print $6 }')
			[ "$n" = ERR ] || [ -z "$n" ] && return 0
			sleep 0.25
		done
		return 1
	}
	check "cut: node0's QP went to ERR (or its process closed it)" cut_err
	ctl 0 blocks release --pid "$p0" >/dev/null
	note=$(ctl 0 -o json blocks list --all | grep -o '"release_note": *"[^"]*"' | grep -m1 'cannot resume')
	echo "# node0 $note"
	check "the release of a cut says it cannot resume" [ -n "$note" ]

	for i in 0 1 2; do
		grep -E 'error|warn' /run/iaskt/n$i/sema.log | head -5 | sed "s/^/# n$i sema: /"
	done
	guest_done
fi

# Host part.
# shellcheck source=host_lib.sh
. "$here/host_lib.sh"
guest_needs tests/kernel/kqp_dump tests/kernel/eproc_tool tests/kernel/rc_chain sema/sema \
	iasctl/iasctl verbs_ext/.libs/libias-preload.so tests/daemon/ias_testclient
guest_tap --nodes 3 --timeout "${IAS_GUEST_TIMEOUT:-300}" -- \
	"$here/test_block_chain.sh" --guest "$bdir"
