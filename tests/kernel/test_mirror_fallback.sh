#!/usr/bin/env bash
# Kernel test: the mirror-pair fallback alone (issue 11), BPF switched off by
# configuration, on the QEMU + soft-RoCE bed, in one guest boot.
#
# Two nodes (rxe0, rxe1), each in its own PID and mount namespace with its
# own agent: kernel_observation = off, no manager, `peers` naming the other
# agent's GID. Two stock ibv_rc_pingpong processes (no libias): the server on
# node0, the client on node1. Each agent knows its QP from rdma netlink
# only: owner and remote QPN, no remote address ("kernel-qpn").
# ReportAttack on the server at node0: node0's trace has no address for the
# server's QP, asks its peers for the mirror (Get(Mirror), RoCE: GRH), learns
# node1 (source "mirror") and traces there; node1 blocks the client in the
# same incident.
# Needs the trace module to look mirrors up for such an entry (branch
# "trace"); with this branch alone the trace has nowhere to go.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	B=$2
	# shellcheck source=../lib/tap.sh
	. "$top_srcdir/tests/lib/tap.sh"
	top_builddir=$B
	# shellcheck source=../lib/daemon.sh
	. "$top_srcdir/tests/lib/daemon.sh"
	declare -a NS
	nsr() { local i=$1; shift; nsenter -t "${NS[i]}" -p -m -- "$@"; }
	ctl() { local i=$1; shift; nsr "$i" "${IASCTL_RUN[@]}" --socket /run/iaskt/n$i/sema.sock "$@"; }
	listening() { awk -v p=":$(printf '%04X' "$1")" 'substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 } END { exit !f }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null; }

	agents_up() {
		local i o gi ga pids=()
		mkdir -p /run/iaskt
		"$KEYGEN" /run/iaskt/secmgt.keys >/dev/null
		for i in 0 1; do
			o=$((1 - i))
			gi=IAS_GID6_$i
			ga=IAS_ADDR6_$o
			mkdir -p /run/iaskt/n$i/state
			cat >/run/iaskt/n$i/ias.conf <<-EOF2
			control_socket = /run/iaskt/n$i/sema.sock
			state_dir = /run/iaskt/n$i/state
			key_file = /run/iaskt/secmgt.keys
			node_name = n$i
			umad_ca = rxe$i
			gid_index = ${!gi}
			mad_timeout = 1s
			log_level = debug
			kernel_scan_interval = 1s
			kernel_observation = off
			peers = gid:${!ga}
			mirror_timeout = 3s
			block_duration = 0
			EOF2
			unshare --pid --fork --mount-proc sleep 100000 &
			for _ in $(seq 1 50); do
				NS[i]=$(pgrep -P $! sleep) && break
				sleep 0.1
			done
		done
		for i in 0 1; do
			daemon_spawn --log /run/iaskt/n$i/sema.log \
				-- nsenter -t "${NS[i]}" -p -m -- "$SEMA" --foreground --config /run/iaskt/n$i/ias.conf
			pids[i]=$DAEMON_PID
		done
		for i in 0 1; do
			daemon_wait "sema on node$i" "${pids[i]}" /run/iaskt/n$i/sema.log "ctl $i status" \
				"$IAS_START_TIMEOUT" || return 1
		done
	}
	check "two agents up, kernel_observation = off, peers naming each other" agents_up

	nsr 0 ibv_rc_pingpong -d rxe0 -g "$IAS_GID6_0" -n 1000000000 -p 18700 >/tmp/srv.log 2>&1 &
	for _ in $(seq 1 150); do listening 18700 && break; sleep 0.2; done
	nsr 1 ibv_rc_pingpong -d rxe1 -g "$IAS_GID6_1" -n 1000000000 -p 18700 "$IAS_ADDR4_0" >/tmp/cli.log 2>&1 &
	srv=$(nsr 0 pgrep -f "ibv_rc_pingpong -d rxe0") cli=""
	for _ in $(seq 1 100); do cli=$(nsr 1 pgrep -f "ibv_rc_pingpong -d rxe1") && break; sleep 0.1; done
	echo "# server pid $srv (node0), client pid $cli (node1)"
	# qp NODE PID FIELD: the agent's view of the process's RC QP.
	qp() { ctl "$1" -o json qps list --pid "$2" 2>/dev/null |
		jq -r "[.. | objects | select(.qpn? != null)][0].$3 // empty"; }
	known() { [ -n "$(qp 0 "$srv" remote_qpn)" ] && [ -n "$(qp 1 "$cli" remote_qpn)" ]; }
	ok_known=1
	for _ in $(seq 1 100); do known && break; sleep 0.2; done
	known || ok_known=0
	check "both agents know their QP's remote QPN from the kernel" [ "$ok_known" = 1 ]
	echo "# node0 before: source $(qp 0 "$srv" remote_source), remote lid $(qp 0 "$srv" remote_lid)"
	check "node0 has no remote address for it (kernel-qpn only)" \
		[ "$(qp 0 "$srv" remote_source)" = kernel-qpn ]

	out=$(ctl 0 report --pid "$srv" --reason mirror-fallback)
	echo "# node0: $out"
	inc=$(sed -n 's/.*incident \(I-[0-9a-f]*-[0-9]*\).*/\1/p' <<<"$out")
	check "ReportAttack(server) accepted on node0" [ -n "$inc" ]
	blocked_on() { ctl "$1" -o json blocks list 2>/dev/null | grep -q "\"incident_id\": *\"$inc\""; }
	traced=0
	for _ in $(seq 1 100); do blocked_on 1 && { traced=1; break; }; sleep 0.2; done
	check "node1 blocked the client in the same incident (traced via the mirror look-up)" [ "$traced" = 1 ]
	src=$(qp 0 "$srv" remote_source)
	echo "# node0 after: source $src"
	check "node0 learnt the remote end from the look-up (source $src)" bash -c '[[ "$1" == *mirror* ]]' _ "$src"
	for i in 0 1; do grep -E 'mirror|trace' /run/iaskt/n$i/sema.log | tail -6 | sed "s/^/# n$i sema: /"; done
	guest_done
fi

# Host part.
# shellcheck source=host_lib.sh
. "$here/host_lib.sh"
guest_needs sema/sema iasctl/iasctl
guest_tap --nodes 2 --timeout "${IAS_GUEST_TIMEOUT:-240}" -- \
	"$here/test_mirror_fallback.sh" --guest "$bdir"
