# Shared by tests/kernel/test_block_chain.sh and tests/bench/bench_chain.sh,
# sourced inside the guest (bash) after B (the build directory) is set.
# The paper's chain on three soft-RoCE nodes, each in its own PID and mount
# namespace with its own agent (sema); the agents share one SecMgt key and
# address each other by GID. One rc_chain process per node:
#   node0 P1  <-RC->  node1 P2 (two QPs)  <-RC->  node2 P3
# P1 and P2 run under libias-preload.so; P3 does not use libias.
#
#   chain_agents_up          start the three agents; 0 when all answer (a
#                            function chain_conf_extra I, if defined, adds
#                            lines to node I's ias.conf)
#                            (CHAIN_NODES: which nodes, default "0 1 2";
#                            CHAIN_CONF: lines added to every agent's config)
#   chain_ns_up, chain_agents_start   its two halves: the namespaces, then
#                            the agents (kept in CHAIN_AGENT[i])
#   chain_agents_stop        stop the agents; the namespaces stay
#   chain_traffic_up         start P1..P3; 0 when four RC QPs are in RTS
#                            (CHAIN_PRELOAD="": P1 and P2 without libias too)
#   nsr I CMD..., ctl I ARGS...   run in node I / iasctl against node I
#   psns                     "dev lqpn sq_psn" of every RC QP (kernel)
#   moving, still            traffic flows on all four QPs / no PSN moved
#                            over 1.5 s (both bounded by a deadline)
#   chain_pids               sets p0 p1 p2 (PIDs inside their namespaces)
#   chain_counters           "node qpn sends recvs last_us refused errors"
#   chain_wait_blocked INC I...   every node I has a block in incident INC,
#                            within 40 s (else their logs' trace lines)
#   uptime_s                 the guest's uptime in seconds
top_builddir=$B
# shellcheck source=../lib/daemon.sh
. "$top_srcdir/tests/lib/daemon.sh"
KQP=$B/tests/kernel/kqp_dump RCC=$B/tests/kernel/rc_chain KOBS=$B/ias-kobs
PRE=$B/verbs_ext/.libs/libias-preload.so
declare -a NS
nsr() { local i=$1; shift; nsenter -t "${NS[i]}" -p -m -- "$@"; }
ctl() { local i=$1; shift; nsr "$i" "${IASCTL_RUN[@]}" --socket /run/iaskt/n$i/sema.sock "$@"; }

# Node i: a PID+mount namespace (held by a sleeping PID 1) and an agent. The
# three agents start together; each must answer within the bound
# (tests/lib/daemon.sh; a late one's log is shown).
chain_agents_up() {
	chain_ns_up && chain_agents_start
}

chain_ns_up() {
	local i d gi holder
	mkdir -p /run/iaskt
	"$KEYGEN" /run/iaskt/secmgt.keys >/dev/null
	for i in ${CHAIN_NODES:-0 1 2}; do
		d=/run/iaskt/n$i
		mkdir -p $d/state
		gi=IAS_GID6_$i
		cat >$d/ias.conf <<-EOF2
		control_socket = $d/sema.sock
		state_dir = $d/state
		key_file = /run/iaskt/secmgt.keys
		node_name = n$i
		umad_ca = rxe$i
		gid_index = ${!gi}
		mad_timeout = 1s
		log_level = ${CHAIN_LOG_LEVEL:-debug}
		kernel_scan_interval = 1s
		block_duration = 0
		$(declare -F chain_conf_extra >/dev/null && chain_conf_extra "$i")
		${CHAIN_CONF:-}
		EOF2
		unshare --pid --fork --mount-proc sleep 100000 &
		holder=$!
		for _ in $(seq 1 50); do
			NS[i]=$(pgrep -P $holder sleep) && break
			sleep 0.1
		done
	done
}

declare -a CHAIN_AGENT
chain_agents_start() {
	local i
	for i in ${CHAIN_NODES:-0 1 2}; do
		daemon_spawn --log /run/iaskt/n$i/sema.log \
			-- nsenter -t "${NS[i]}" -p -m -- "$SEMA" --foreground --config /run/iaskt/n$i/ias.conf
		CHAIN_AGENT[i]=$DAEMON_PID
	done
	for i in ${CHAIN_NODES:-0 1 2}; do
		daemon_wait "sema on node$i" "${CHAIN_AGENT[i]}" /run/iaskt/n$i/sema.log "ctl $i status" \
			"$IAS_START_TIMEOUT" || return 1
	done
}

# The agent is nsenter's child (nsenter forks to enter the PID namespace).
chain_agents_stop() {
	local i
	for i in ${CHAIN_NODES:-0 1 2}; do
		daemon_stop "${CHAIN_AGENT[i]}" TERM "$(pgrep -P "${CHAIN_AGENT[i]}")"
	done
}

# P2 on node1 serves both links; P3 on node2 runs without libias.
chain_traffic_up() {
	lib() { local i=$1; shift; nsr "$i" env LD_PRELOAD="${CHAIN_PRELOAD-$PRE}" IAS_SOCKET=/run/iaskt/n$i/sema.sock "$@"; }
	lib 1 "$RCC" -d rxe1 -x "$IAS_GID6_1" -o /tmp/st1 -l 18515 -l 18516 >/tmp/p1.log 2>&1 &
	lib 0 "$RCC" -d rxe0 -x "$IAS_GID6_0" -o /tmp/st0 -c 18515 >/tmp/p0.log 2>&1 &
	nsr 2 "$RCC" -d rxe2 -x "$IAS_GID6_2" -o /tmp/st2 -c 18516 >/tmp/p2.log 2>&1 &
	for _ in $(seq 1 150); do
		[ "$("$KQP" | awk '$5 == "RC" && $6 == "RTS"' | wc -l)" -ge 4 ] && return 0
		sleep 0.2
	done
	return 1
}

chain_pids() {
	p0=$(nsr 0 pgrep -f "rc_chain -d rxe0")
	p1=$(nsr 1 pgrep -f "rc_chain -d rxe1")
	p2=$(nsr 2 pgrep -f "rc_chain -d rxe2")
}

chain_counters() {
	local i
	for i in 0 1 2; do "$RCC" --read /tmp/st$i | sed "s/^/n$i /"; done
}

# "dev lqpn sq_psn" of every RC QP (of device $ONLY if set), from the root
# namespace.
psns() { "$KQP" -a | awk -v d="${ONLY:-}" '$5 == "RC" && (d == "" || $1 == d) { print $1, $3, $8 }' | sort; }

# Every QP's PSN moves within the deadline.
moving() {
	local a b n
	a=$(psns)
	for _ in $(seq 1 40); do
		sleep 0.25
		b=$(psns)
		n=$(printf '%s\n%s\n' "$a" "$b" | awk '{ k = $1 "/" $2
			if (k in v) { if (v[k] != $3) c++ } else v[k] = $3 } END { print c + 0 }')
		[ "$n" -ge 4 ] && return 0
	done
	return 1
}

# No QP's PSN moves over 1.5 s, reached within the deadline.
still() {
	local a b
	for _ in $(seq 1 40); do
		a=$(psns)
		sleep 1.5
		b=$(psns)
		[ "$a" = "$b" ] && return 0
	done
	return 1
}

chain_wait_blocked() {
	local inc=$1 i n
	shift
	for _ in $(seq 1 200); do
		n=0
		for i in "$@"; do
			ctl "$i" -o json blocks list 2>/dev/null | grep -q "\"incident_id\": *\"$inc\"" && n=$((n + 1))
		done
		[ $n -eq $# ] && return 0
		sleep 0.2
	done
	for i in "$@"; do grep -E 'trace|MAD|kernel' /run/iaskt/n$i/sema.log | tail -8 | sed "s/^/# n$i sema: /"; done
	return 1
}

uptime_s() { local u; read -r u _ </proc/uptime; echo "$u"; }
