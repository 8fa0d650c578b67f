#!/usr/bin/env bash
# Kernel test: the agent consumes kernel observation (sema/kobsfeed.c), on the
# QEMU + soft-RoCE bed, in one guest boot. Two nodes (rxe0, rxe1), each in its
# own PID and mount namespace with its own agent (tests/kernel/chain_lib.sh);
# only stock Debian ibv_rc_pingpong processes (no libias, no preload).
#  1. kobs never loaded and unable to load (kobs_pin_dir not on a bpf
#     filesystem): each agent says so once, and a pingpong QP's remote end is
#     netlink's QPN only, not a trace target;
#  2. kobs loaded earlier (ias-kobs load), the pingpong pair connected while
#     no agent runs, then the agents start: they find the pinned records, the
#     QPs' remote ends are the kernel's (kernel-bpf, the peer's QPN and GID);
#     ReportAttack on node0 freezes its pingpong AND node1's agent receives
#     the trace and blocks the other end, stopping its traffic;
# (QPs connected while the agents run, learnt through the ring buffer's
# events or the scan, are test_chain_nolibias.sh's.)
# The guest part reports through tests/lib/tap.sh; the host (host_lib.sh,
# guest_tap) counts its results.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	B=$2 CHAIN_NODES="0 1"
	# shellcheck source=../lib/tap.sh
	. "$top_srcdir/tests/lib/tap.sh"
	# shellcheck source=chain_lib.sh
	. "$here/chain_lib.sh"

	listening() { awk -v p=":$(printf '%04X' "$1")" 'substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 } END { exit !f }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null; }
	# pair PORT: a stock ibv_rc_pingpong server in node0, its client in
	# node1, endless; sets s_pid/c_pid (root namespace), s_ns/c_ns (in their
	# namespaces) and s_qp/c_qp. Processes are found through nsenter's child
	# (never by reading other processes' command lines: a frozen one's
	# would do).
	child() { cat /proc/"$1"/task/"$1"/children 2>/dev/null | awk '{ print $1 }'; }
	# the ibv_rc_pingpong below PID (a subshell, then nsenter, then it)
	pp_below() {
		local p=$1
		for _ in 1 2 3 4; do
			[ -n "$p" ] || return 0
			[ "$(cat /proc/"$p"/comm 2>/dev/null)" = ibv_rc_pingpong ] && { echo "$p"; return 0; }
			p=$(child "$p")
		done
	}
	nspid() { awk '/^NSpid:/ { print $NF }' /proc/"$1"/status 2>/dev/null; }
	pair() {
		local port=$1 sn cn
		s_pid='' c_pid='' s_ns='' c_ns='' s_qp='' c_qp=''
		nsr 0 ibv_rc_pingpong -d rxe0 -g "$IAS_GID6_0" -n 1000000000 -p "$port" >"/tmp/pp$port.srv" 2>&1 &
		sn=$!
		for _ in $(seq 1 150); do listening "$port" && break; sleep 0.2; done
		nsr 1 ibv_rc_pingpong -d rxe1 -g "$IAS_GID6_1" -n 1000000000 -p "$port" "$IAS_ADDR4_0" >"/tmp/pp$port.cli" 2>&1 &
		cn=$!
		for _ in $(seq 1 50); do
			s_pid=$(pp_below $sn) c_pid=$(pp_below $cn)
			s_ns=$(nspid "$s_pid") c_ns=$(nspid "$c_pid")
			s_qp=$(qp_of rxe0 "$s_pid") c_qp=$(qp_of rxe1 "$c_pid")
			[ -n "$s_qp" ] && [ -n "$c_qp" ] && return 0
			sleep 0.2
		done
		return 1
	}
	# The RTS RC QP of the process with root-namespace PID $2 on device $1
	# (the kernel: rdma netlink from the root namespace).
	qp_of() {
		[ -n "$2" ] || return 0
		"$KQP" | awk -v d="$1" -v p="$2" '$1 == d && $5 == "RC" && $6 == "RTS" && $7 == p { print $3; exit }'
	}
	# node I's JSON listing of PID's QPs
	qps() { ctl "$1" -o json qps list --pid "$2" 2>/dev/null; }
	rsrc() { qps "$1" "$2" | grep -o '"remote_source": *"[^"]*"' | head -1; }
	# node I shows QP with remote QPN R learned by eBPF, within the deadline
	kernel_remote() {
		local i=$1 pid=$2 want=$3 j
		for _ in $(seq 1 50); do
			j=$(qps "$i" "$pid")
			grep -q '"remote_source": *"[^"]*kernel-bpf' <<<"$j" &&
				grep -q "\"remote_qpn\": *$((want))\b" <<<"$j" && return 0
			sleep 0.2
		done
		echo "$j" | sed "s/^/# n$i qps: /"
		return 1
	}
	gid_of() { qps "$1" "$2" | grep -o '"remote_gid": *"[^"]*"' | head -1; }
	frozen() {
		local cg
		grep -q '^State:.*T' /proc/"$1"/status && return 0
		cg=$(sed -n 's/^0:://p' /proc/"$1"/cgroup)
		grep -q '^frozen 1' "/sys/fs/cgroup$cg/cgroup.events" 2>/dev/null
	}
	wait_frozen() { for _ in $(seq 1 50); do frozen "$1" && return 0; sleep 0.2; done; return 1; }
	# the RC QPs of a port's pair make no progress over 1.5 s (sq_psn)
	psn_of() { "$KQP" -a | awk -v a="$1" -v b="$2" '$5 == "RC" && ($3 == a || $3 == b) { print $1, $3, $8 }'; }
	still() {
		local a b
		for _ in $(seq 1 20); do
			a=$(psn_of "$1" "$2"); sleep 1.5; b=$(psn_of "$1" "$2")
			[ "$a" = "$b" ] && return 0
		done
		return 1
	}
	killpair() { kill -9 "$s_pid" "$c_pid" 2>/dev/null; sleep 0.5; }
	exploded() { python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]).exploded)' "$1"; }

	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	"$KOBS" unload >/dev/null 2>&1

	echo "# t=$(uptime_s) phase 1"
	# 1. Never loaded, cannot load: the agents say so once; no trusted remote.
	CHAIN_CONF="kobs_pin_dir = /run/iaskt/nobpf"
	chain_ns_up
	check "phase 1: two agents up, kobs_pin_dir not on a bpf filesystem" chain_agents_start
	check "phase 1: a stock ibv_rc_pingpong pair connected" pair 18700
	echo "# t=$(uptime_s) phase 1: server n0 pid $s_ns qp ${s_qp:-?}; client n1 pid $c_ns qp ${c_qp:-?}"
	sleep 2.5	# several kernel scans (kernel_scan_interval = 1s): still one line
	for i in 0 1; do
		n=$(grep -c 'kernel observation unavailable' /run/iaskt/n$i/sema.log)
		grep -m1 'kernel observation' /run/iaskt/n$i/sema.log | sed "s/^/# n$i: /"
		check "phase 1: node$i says once that kernel observation is unavailable ($n)" [ "$n" -eq 1 ]
	done
	r=$(rsrc 0 "$s_ns")
	echo "# phase 1: n0 remote source: $r"
	check "phase 1: the QP's remote end is netlink's QPN only, not the kernel's address" \
		grep -q '"remote_source": *"kernel-qpn"' <<<"$r"
	chain_agents_stop
	killpair 18700

	echo "# t=$(uptime_s) phase 2"
	# 2. Loaded earlier; the pair connects while no agent runs.
	out=$("$KOBS" load 2>&1)
	check "phase 2: ias-kobs load ($out)" [ "$out" = "loaded /sys/fs/bpf/ias" ]
	CHAIN_CONF=""
	chain_ns_up
	check "phase 2: a pingpong pair connected before the agents start" pair 18701
	echo "# phase 2: server n0 pid $s_ns qp ${s_qp:-?}; client n1 pid $c_ns qp ${c_qp:-?}"
	check "phase 2: two agents up" chain_agents_start
	for i in 0 1; do
		grep -m1 'kernel observation' /run/iaskt/n$i/sema.log | sed "s/^/# n$i: /"
		check "phase 2: node$i found the pinned programs" \
			grep -q 'kernel observation active (found pinned under /sys/fs/bpf/ias)' /run/iaskt/n$i/sema.log
	done
	check "phase 2: node0 knows its QP's remote end from the kernel (qp ${c_qp:-?})" kernel_remote 0 "$s_ns" "${c_qp:-0}"
	check "phase 2: node1 knows its QP's remote end from the kernel (qp ${s_qp:-?})" kernel_remote 1 "$c_ns" "${s_qp:-0}"
	g=$(gid_of 0 "$s_ns")
	echo "# phase 2: n0 $(rsrc 0 "$s_ns") $g"
	check "phase 2: node0's remote GID is node1's ($IAS_ADDR6_1)" grep -qi "\"$(exploded "$IAS_ADDR6_1")\"" <<<"$g"
	out=$(ctl 0 report --pid "$s_ns" --reason kobs-agent)
	echo "# n0: $out"
	inc=$(sed -n 's/.*incident \(I-[0-9a-f]*-[0-9]*\).*/\1/p' <<<"$out")
	check "phase 2: ReportAttack accepted on node0" [ -n "$inc" ]
	check "phase 2: node1's agent received the trace: blocked in $inc" chain_wait_blocked "$inc" 1
	check "phase 2: node0's pingpong is frozen" wait_frozen "$s_pid"
	check "phase 2: node1's pingpong is frozen" wait_frozen "$c_pid"
	check "phase 2: the pair's traffic stopped" still "${s_qp:-0}" "${c_qp:-0}"
	echo "# t=$(uptime_s) phase 2 traced"
	ctl 0 incidents show "$inc" | sed 's/^/# /'
	for i in 0 1; do ctl $i blocks release --incident "$inc" >/dev/null; done
	killpair 18701
	chain_agents_stop
	"$KOBS" unload >/dev/null 2>&1
	for i in 0 1; do
		grep -E 'error|warn' /run/iaskt/n$i/sema.log | head -5 | sed "s/^/# n$i sema: /"
	done
	guest_done
fi

# Host part.
# shellcheck source=host_lib.sh
. "$here/host_lib.sh"
guest_needs ias-kobs sema/sema iasctl/iasctl tests/kernel/kqp_dump
guest_tap --nodes 2 --timeout "${IAS_GUEST_TIMEOUT:-360}" -- \
	"$here/test_kobs_agent.sh" --guest "$bdir"
