#!/usr/bin/env bash
# Kernel test: rdma_cm connections as a kernel source of QP remote ends
# (sema/kcm.c), with stock programs nobody here wrote, on the QEMU +
# soft-RoCE bed, in one guest boot.
#
# The agents of chain_lib.sh (each node in its own PID and mount namespace;
# node2's agent idles), with kernel_observation = off: no eBPF, so a QP's
# remote address can only come from the kernel's cm_id tracking. Two
# unmodified rping pair from Debian's rdmacm-utils, client on node0, server
# on node1, without libias, over IPv4 (10.0.0.1 -> 10.0.0.2): the GID comes
# from the IPv6 neighbour with the same MAC (the bed's MADs need IPv6 GIDs).
# (rping over IPv6 is rejected by the passive side's rdma_cm on this bed,
# RDMA_CM_EVENT_REJECTED 28; the IPv6 case is unit-tested.)
#  1. both agents list the rping QPs with their remote end from kernel-cm;
#  2. ReportAttack(client) on node0 only: node0 freezes it and traces to the
#     GID it learned; node1's agent blocks the server in the same incident.
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
	# Every agent this test starts runs without eBPF observation.
	printf '#!/bin/sh\nexec %q --set kernel_observation=off "$@"\n' "$SEMA" >/tmp/sema-nokobs
	chmod +x /tmp/sema-nokobs
	SEMA=/tmp/sema-nokobs
	now() { local u; read -r u _ </proc/uptime; echo "$u"; }
	# The bed loads ib_uverbs but not rdma_ucm (/dev/infiniband/rdma_cm,
	# which librdmacm needs): load it from the bed's module tree, named in
	# the job file next to $IAS_OUT.
	(. "$IAS_OUT/../job" && modprobe -d "$IAS_KTREE" -S "$IAS_KVER" rdma_ucm)
	check "rdma_ucm loaded (/dev/infiniband/rdma_cm)" [ -c /dev/infiniband/rdma_cm ]
	# The namespaces and agents of chain_lib.sh: the rping pair starts in
	# them once the agents answer.
	check "agents up, kernel_observation = off" chain_agents_up
	echo "# $(now) s: agents up"

	# rping servers on node1, clients on node0 (no libias anywhere).
	nsr 1 rping -s -a 10.0.0.2 -p 7175 >/tmp/rs4.log 2>&1 &
	cms() { timeout 20 rdma res show cm_id 2>&1; }
	listening() { cms | grep -q 'state LISTEN'; }
	for _ in $(seq 1 30); do listening && break; sleep 1; done
	echo "# $(now) s: servers listening"
	nsr 0 rping -c -a 10.0.0.2 -I 10.0.0.1 -p 7175 >/tmp/rc4.log 2>&1 &
	rts() { [ "$(timeout 20 "$KQP" | awk '$5 == "RC" && $6 == "RTS"' | wc -l)" -ge 2 ]; }
	for _ in $(seq 1 30); do rts && break; sleep 1; done
	echo "# $(now) s: clients started"
	cms | sed 's/^/# cm_id: /'
	timeout 20 "$KQP" | sed 's/^/# qp: /'
	if ! check "the rping pair connected: two RC QPs in RTS" rts; then
		tail -n 3 /tmp/r[sc]4.log | sed 's/^/# rping: /'
		guest_done
	fi

	# PIDs as each agent sees them (in the node's namespace), and as the
	# guest's root namespace sees them.
	pid_of() { nsr "$1" pgrep -f "^rping $2"; }
	root_of() { pgrep -f "^rping $1"; }
	c4=$(pid_of 0 "-c -a 10.0.0.2") s4=$(pid_of 1 "-s -a 10.0.0.2")
	echo "# pids in their namespaces: node0 client $c4, node1 server $s4"

	# Remote GIDs as iasctl's JSON writes them: fd00::2 and fd00::1.
	G2=fd00:0000:0000:0000:0000:0000:0000:0002 G1=fd00:0000:0000:0000:0000:0000:0000:0001
	# The QP entry (one JSON object) of a PID, from node I's agent. The
	# agent scans the kernel every second; allow a few scans.
	qp_json() { ctl "$1" -o json qps list --pid "$2" 2>/dev/null | tr -d '\n'; }
	learned() {
		local j
		for _ in $(seq 1 40); do
			j=$(qp_json "$1" "$2")
			grep -q 'kernel-cm' <<<"$j" && grep -q "$3" <<<"$j" && return 0
			sleep 0.25
		done
		echo "# node$1 PID $2: $j"
		return 1
	}
	check "node0: the client's QP has its remote end from kernel-cm, GID fd00::2 (IPv6 neighbour)" \
		learned 0 "$c4" "$G2"
	check "node1: the server's QP (passive side) has its remote end from kernel-cm, GID fd00::1" \
		learned 1 "$s4" "$G1"
	qp_json 0 "$c4" | sed 's/^/# node0 client: /'
	echo
	grep -E 'rdma_cm|kernel-cm' /run/iaskt/n[01]/sema.log | head -6 | sed 's/^/# /'

	blocked_in() { ctl "$1" -o json blocks list 2>/dev/null | grep -q "\"incident_id\": *\"$2\""; }
	# Frozen (root-namespace PID): its cgroup says so, or state T.
	frozen() {
		local cg
		grep -q '^State:.*T' /proc/"$1"/status && return 0
		cg=$(sed -n 's/^0:://p' /proc/"$1"/cgroup)
		grep -q '^frozen 1' "/sys/fs/cgroup$cg/cgroup.events" 2>/dev/null
	}
	# ReportAttack on node0 only; node1 must block the server in that
	# incident, found from the trace node0 sent to the kernel-cm GID.
	report_and_trace() {
		local pair=$1 client=$2 rc=$3 rs=$4 out inc end
		out=$(ctl 0 report --pid "$client" --reason "rdmacm-test")
		echo "# node0: $out"
		inc=$(sed -n 's/.*incident \(I-[0-9a-f]*-[0-9]*\).*/\1/p' <<<"$out")
		check "$pair: ReportAttack(client) accepted on node0" [ -n "$inc" ]
		end=$(($(date +%s) + 40))
		while [ "$(date +%s)" -lt "$end" ] && ! blocked_in 1 "$inc"; do sleep 0.2; done
		if ! check "$pair: node1's agent got the trace and blocked the server in $inc" blocked_in 1 "$inc"; then
			for i in 0 1; do grep -E 'trace|MAD' /run/iaskt/n$i/sema.log | tail -6 | sed "s/^/# n$i sema: /"; done
		fi
		check "$pair: the client is frozen on node0" frozen "$rc"
		check "$pair: the server is frozen on node1" frozen "$rs"
		ctl 0 incidents show "$inc" | sed 's/^/# /'
	}
	echo "# $(now) s: reports"
	report_and_trace rping "$c4" "$(root_of "-c -a 10.0.0.2")" "$(root_of "-s -a 10.0.0.2")"

	dmesg | grep -E 'hung_task|blocked for more|BUG:|WARNING:' | head -5 | sed 's/^/# dmesg: /'
	for i in 0 1; do
		grep -E 'error|warn' /run/iaskt/n$i/sema.log | head -5 | sed "s/^/# n$i sema: /"
	done
	guest_done
fi

# Host part.
# shellcheck source=host_lib.sh
. "$here/host_lib.sh"
guest_needs tests/kernel/kqp_dump sema/sema iasctl/iasctl
command -v rping >/dev/null || skip_all "rping (rdmacm-utils) not installed"
guest_tap --nodes 3 --timeout "${IAS_GUEST_TIMEOUT:-360}" -- \
	"$here/test_rdmacm.sh" --guest "$bdir"
