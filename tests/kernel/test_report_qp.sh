#!/usr/bin/env bash
# Kernel test: report by QP, the victim's side (iasctl report --qp), with
# stock ibv_rc_pingpong processes that do not use libias, on the QEMU +
# soft-RoCE bed, in one guest boot. Three nodes, each with its own agent in
# its own PID namespace (chain_lib.sh); nobody registers anything.
#  1. a pair rxe0 (server, the victim) <-> rxe1 (client, the attacker):
#     `iasctl report --qp rxe0:QPN` on node0 sends the trace to the remote
#     end, which node0's agent learns from the kernel (kobs, eBPF) or, where
#     the kernel gives only the remote QPN, by asking its peers (node0 has
#     `peers` naming node1 and node2) which of them holds the mirror QP:
#     node1 blocks the client, node0 blocks nothing and the victim keeps
#     running.
#  2. the dead end: node2 runs with kernel_observation = off and no peers, a
#     pair rxe2 (server, the victim) <-> rxe1 (client): rdma netlink gives
#     the remote QPN only, no agent can be asked, so the report's incident
#     records a dead-end event, nothing is blocked anywhere, and the reply
#     says no trace went.
# The guest part reports through tests/lib/tap.sh; the host part
# (host_lib.sh, guest_tap) counts its results.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	B=$2
	# shellcheck source=../lib/tap.sh
	. "$top_srcdir/tests/lib/tap.sh"
	# node0 may ask node1 and node2 for mirror QPs (the fallback that
	# needs no kernel help); node2 has neither eBPF observation nor peers.
	chain_conf_extra() {
		case $1 in
		0) echo "peers = gid:fd00::2, gid:fd00::3" ;;
		2) echo "kernel_observation = off" ;;
		esac
	}
	# shellcheck source=chain_lib.sh
	. "$here/chain_lib.sh"
	check "three agents up, each in its own PID namespace" chain_agents_up

	# pair S C PORT: ibv_rc_pingpong server on node S (rxeS), client on
	# node C (rxeC); sets srv, cli (PIDs inside their namespaces) and sq
	# (the server's RC QPN, in hex as iasctl takes it) once both QPs are in RTS.
	pair() {
		local s=$1 c=$2 port=$3 gs gc
		gs=IAS_GID6_$s gc=IAS_GID6_$c
		nsr "$s" ibv_rc_pingpong -d "rxe$s" -g "${!gs}" -n 1000000000 -p "$port" \
			>"/tmp/srv$port.log" 2>&1 &
		for _ in $(seq 1 100); do
			grep -q ":$(printf '%04X' "$port") " /proc/net/tcp /proc/net/tcp6 2>/dev/null && break
			sleep 0.2
		done
		nsr "$c" ibv_rc_pingpong -d "rxe$c" -g "${!gc}" -n 1000000000 -p "$port" localhost \
			>"/tmp/cli$port.log" 2>&1 &
		srv="" cli="" sq=""
		for _ in $(seq 1 100); do
			srv=$(nsr "$s" pgrep -f "ibv_rc_pingpong -d rxe$s .*-p $port\$")
			cli=$(nsr "$c" pgrep -f "ibv_rc_pingpong -d rxe$c .*-p $port localhost")
			sq=$("$KQP" | awk -v d="rxe$s" '$1 == d && $5 == "RC" && $6 == "RTS" { print $3; exit }')
			[ -n "$sq" ] && sq=$(printf '0x%x' "$sq")
			[ -n "$srv" ] && [ -n "$cli" ] && [ -n "$sq" ] && return 0
			sleep 0.2
		done
		return 1
	}
	blocked_on() { ctl "$1" blocks list --pid "$2" 2>/dev/null | tail -n +2 | grep -q .; }
	nothing_blocked() { [ -z "$(ctl "$1" blocks list 2>/dev/null | tail -n +2)" ]; }
	alive() { nsr "$1" kill -0 "$2" 2>/dev/null; }
	not_blocked_on() { ! blocked_on "$@"; }
	both_alive() { alive 2 "$1" && alive 1 "$2"; }

	# --- 1. the remote owner is blocked, the victim keeps running -------------
	check "pair rxe0 <-> rxe1 connected" pair 0 1 18530
	s1=$srv c1=$cli q1=$sq
	ctl 0 qps list | sed 's/^/# node0 qps: /'
	out=$(ctl 0 report --qp "rxe0:$q1" --reason "one-sided flood")
	check "report --qp rxe0:$q1 accepted on node0" [ $? -eq 0 ]
	sed 's/^/# report: /' <<<"$out"
	inc=$(sed -n 's/.*incident \(I-[^ ]*\).*/\1/p' <<<"$out" | head -1)
	end=$((SECONDS + 15))
	while [ -n "$inc" ] && [ $SECONDS -lt $end ] && ! blocked_on 1 "$c1"; do sleep 0.2; done
	check "the remote owner (client $c1 on node1) is blocked" blocked_on 1 "$c1"
	check "node1's block is part of the incident ($inc)" \
		bash -c 'grep -q "$2" <<<"$1"' _ "$(ctl 1 blocks list --pid "$c1")" "${inc:-none}"
	check "the victim (server $s1) is not blocked on node0" nothing_blocked 0
	sleep 1
	check "the victim keeps running" alive 0 "$s1"
	check "the incident records the victim" \
		bash -c 'grep -q "victim .*not blocked" <<<"$1"' _ "$(ctl 0 incidents show "${inc:-none}")"
	ctl 0 incidents show "${inc:-none}" | sed 's/^/# node0 incident: /'

	# --- 2. nothing learnable: a dead end ------------------------------------
	check "pair rxe2 <-> rxe1 connected" pair 2 1 18531
	s2=$srv c2=$cli q2=$sq
	out=$(ctl 2 report --qp "rxe2:$q2")
	check "report --qp rxe2:$q2 accepted on node2" [ $? -eq 0 ]
	sed 's/^/# report: /' <<<"$out"
	# The search is asynchronous even with nobody to ask: the reply says
	# the trace did not go (yet), the incident gets the dead end.
	check "the reply says no trace went" grep -Eq "dead end|not traced yet" <<<"$out"
	inc2=$(sed -n 's/.*incident \(I-[^ ]*\).*/\1/p' <<<"$out" | head -1)
	show=$(ctl 2 incidents show "${inc2:-none}")
	sed 's/^/# node2 incident: /' <<<"$show"
	check "the incident has a dead-end event for qp $q2" \
		bash -c 'grep -q "dead-end .*qp $2" <<<"$1"' _ "$show" "$q2"
	check "... saying eBPF observation is off" grep -q "eBPF observation is off" <<<"$show"
	sleep 1
	check "the client on node1 is not blocked by it" not_blocked_on 1 "$c2"
	check "the victim on node2 is not blocked" nothing_blocked 2
	check "both keep running" both_alive "$s2" "$c2"
	check "node2 logged the dead end" grep -q "dead end, no trace" /run/iaskt/n2/sema.log

	for i in 0 1 2; do
		grep -E 'error|warn' /run/iaskt/n$i/sema.log | head -5 | sed "s/^/# n$i sema: /"
	done
	guest_done
fi

# Host part.
# shellcheck source=host_lib.sh
. "$here/host_lib.sh"
guest_needs tests/kernel/kqp_dump sema/sema iasctl/iasctl
guest_tap --nodes 3 --timeout "${IAS_GUEST_TIMEOUT:-300}" -- \
	"$here/test_report_qp.sh" --guest "$bdir"
