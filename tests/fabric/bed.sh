# Simulated-fabric bed: ibsim + OpenSM + one sema per compute node, each
# compute node in its own PID and mount namespace. Source this file (after
# tests/lib/tap.sh if you speak TAP); see docs/fabric-bed.md.
#
#   bed_up [--trace] [INIT-ARGS...]   the start of a TAP test: skip_all when
#                                    the bed cannot run here, else bed_init
#                                    INIT-ARGS and bed_start; --trace: every
#                                    agent must serve Set(Trace). A bed that
#                                    is available but does not come up (or
#                                    whose agents do not answer) is a failure
#                                    (not ok, logs, exit 1), never a skip
#   bed_fail NAME                    not ok NAME, the logs, clean up, exit 1
#   bed_why_not                      print why the bed cannot run here; 1 if so
#   bed_init [--sem] NODE...         new bed: topology, key file, configs
#   bed_start                        ibsim, OpenSM (MASTER, LIDs), sem, agents
#   bed_lid NODE                     the LID of NODE's port
#   bed_iasctl NODE ARGS...          iasctl on NODE (inside its namespaces)
#   bed_node_run NODE CMD...         run CMD inside NODE's namespaces
#   bed_spawn NODE NAME CMD...       start CMD in the background on NODE;
#                                    output in $BED/NODE/NAME.out
#   bed_spawn_pid NODE NAME          its PID as NODE sees it
#   bed_wait_for FILE REGEX [SECS]   wait until FILE has a line matching REGEX
#   bed_probe ARGS...                secmgt_probe from the "probe" HCA
#   bed_console CMD...               an ibsim console command
#   bed_agent_stop NODE [SIGNAL]     stop NODE's agent (TERM, or e.g. KILL)
#   bed_agent_start NODE             start NODE's agent again
#   bed_sem_start [--fresh]          (re)start the manager (--sem beds); wait
#                                    until it is active
#   bed_sem_stop [SIGNAL]            stop the manager
#   bed_semctl ARGS...               iasctl --manager against the bed's sem
#   bed_sem_lid, bed_sm_guid         the manager's LID, OpenSM's port GUID
#   bed_sem_on NODE GUID [ROLE]      a further manager on the --bare HCA NODE
#                                    beside the SM with port GUID (or auto)
#   bed_sem_on_stop NODE [SIGNAL], bed_semctl_on NODE ARGS...,
#   bed_sem_on_lid NODE, bed_sem_role NODE   the same for it (NODE "sem":
#                                    bed_semctl_on/bed_sem_role for the bed's own)
#   bed_cleanup                      stop everything (also run by the EXIT trap)
#
# Helpers for the tests' checks:
#   bed_wait_until SECS CMD...       poll CMD every 0.2 s until it succeeds
#   bed_chain TAG Q1 Q2 Q3 Q4        conspirators TAG1@n1 (Q1), TAG2@n2 (Q2,
#                                    Q3) and TAG3@n3 (Q4), wired n1-n2-n3 with
#                                    simulated QPs; 0 once all registered
#   bed_orders NODE NAME             QPNs a conspirator was told to pause
#   bed_wait_orders NODE NAME "QPN..." SECS
#   bed_incident_of NODE PID         the incident of PID's block on NODE
#   bed_outbox NODE, bed_held MGR NODE   reports in NODE's outbox / in the
#                                    store of manager MGR ("sem": the bed's)
#   bed_undelivered NODE             how many of NODE's reports wait
#   bed_in_sync MGR NODE...          MGR holds exactly each NODE's outbox
#   bed_delivered NODE...            nothing waits in their outboxes
#
# Every process the bed starts carries IAS_FABRIC_BED=<id> in its environment;
# bed_cleanup (and the next bed_init, for beds whose owner died) kills every
# process carrying its id, so nothing outlives the bed. Each bed has its own
# ibsim socket name, so beds may run side by side.
#
# Daemons are started and awaited by tests/lib/daemon.sh (daemon_start).
# make check sets top_srcdir and top_builddir; elsewhere (the demo, the
# benches) they default to the tree this file is in and its ./build.

top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
export top_srcdir top_builddir
# shellcheck source=../lib/daemon.sh
. "$top_srcdir/tests/lib/daemon.sh"
BED_UMAD2SIM=${BED_UMAD2SIM:-/usr/lib/x86_64-linux-gnu/umad2sim/libumad2sim.so}
BED_SHIM=$top_builddir/tests/fabric/.libs/libiasumadfd.so
BED_SEMA=$top_builddir/sema/sema
BED_IASCTL=$top_builddir/iasctl/iasctl
BED_TC=$top_builddir/tests/daemon/ias_testclient
BED_KEYGEN=$top_builddir/common/ias-keygen
BED_PROBE=$top_builddir/tests/fabric/secmgt_probe
BED_SEM=$top_builddir/sem/sem
BED_VERBOSE=${BED_VERBOSE:-0}

BED=
BED_ID=
BED_NODES=
BED_WITH_SEM=0
BED_SEM_UP=0
BED_BARE=

bed_say() { printf '# bed: %s\n' "$*" >&2; }

bed_why_not() {
	local t
	if [ "$(id -u)" -ne 0 ]; then echo "needs root (PID/mount namespaces)"; return 1; fi
	for t in ibsim opensm unshare nsenter mkfifo; do
		command -v "$t" >/dev/null 2>&1 || { echo "$t not installed (ibsim-utils, opensm, util-linux)"; return 1; }
	done
	[ -r "$BED_UMAD2SIM" ] || { echo "umad2sim not installed at $BED_UMAD2SIM (ibsim-utils)"; return 1; }
	for t in "$BED_SEMA" "$BED_IASCTL" "$BED_TC" "$BED_KEYGEN" "$BED_PROBE" "$BED_SHIM"; do
		[ -e "$t" ] || { echo "$t not built (make check TESTS=)"; return 1; }
	done
	unshare --pid --fork --mount-proc true 2>/dev/null ||
		{ echo "cannot create PID namespaces here"; return 1; }
	return 0
}

# Kill every process whose environment carries IAS_FABRIC_BED=$1, except us.
bed_sweep() {
	local id=$1 p env left=0
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = "$$" ] || [ "$p" = "${BASHPID:-$$}" ] && continue
		env=$(tr '\0' '\n' 2>/dev/null <"/proc/$p/environ") 2>/dev/null || continue
		case "$env" in *"IAS_FABRIC_BED=$id"*)
			kill -KILL "$p" 2>/dev/null && left=$((left + 1));;
		esac
	done
	[ "$left" -eq 0 ] || bed_say "swept $left stray process(es) of bed $id"
}

# Beds whose owning shell died (killed -9, ...) are swept and removed.
bed_sweep_orphans() {
	local d owner
	for d in "${TMPDIR:-/tmp}"/ias-fabric.*; do
		[ -f "$d/owner.pid" ] || continue
		owner=$(cat "$d/owner.pid")
		kill -0 "$owner" 2>/dev/null && continue
		bed_sweep "$(basename "$d")"
		rm -rf "$d"
	done
}

# bed_init [--sem] [--bare NODE]... NODE...: node names are [a-z0-9]+, at
# most 7 nodes (ibsim allows 10 clients: OpenSM, sem, agents, and one tool at
# a time). A --bare node gets its namespaces but no agent (bed_spawn_sim can
# run a request-serving tool there instead).
bed_init() {
	local n i port
	BED_WITH_SEM=0
	BED_BARE=
	while :; do
		case "${1:-}" in
		--sem) BED_WITH_SEM=1; shift;;
		--bare) BED_BARE="$BED_BARE $2"; shift 2;;
		*) break;;
		esac
	done
	set -- $BED_BARE "$@"
	[ $# -ge 1 ] && [ $# -le 7 ] || { bed_say "bed_init: 1..7 nodes"; return 1; }
	bed_sweep_orphans
	BED=$(mktemp -d "${TMPDIR:-/tmp}/ias-fabric.XXXXXX") || return 1
	BED_ID=$(basename "$BED")
	echo "$$" >"$BED/owner.pid"
	BED_NODES="$*"
	trap bed_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# One switch "sw" (OpenSM runs on its port 0); HCAs "sem", "probe" (test
	# tools) and the compute nodes, each on its own switch port. OpenSM is
	# not on an HCA: umad2sim crashes a client that receives a MAD of a class
	# it never registered, and the manager sends SecMgt probes to every
	# channel adapter (SMPs and SA queries to the switch are harmless).
	{
		echo "Switch 16 \"sw\""
		port=1
		for n in sem probe $BED_NODES; do
			echo "[$port] \"$n\"[1]"
			port=$((port + 1))
		done
		echo
		port=1
		for n in sem probe $BED_NODES; do
			printf 'Hca 1 "%s"\n[1] "sw"[%d]\n\n' "$n" "$port"
			port=$((port + 1))
		done
	} >"$BED/topology"
	"$BED_KEYGEN" "$BED/secmgt.keys" >/dev/null || return 1
	mkdir -p "$BED/sm"
	# OpenSM must not query the agents' SMInfo: umad2sim crashes a client
	# that receives a MAD before it has opened its umad port.
	printf 'ignore_other_sm TRUE\nforce_log_flush TRUE\n' >"$BED/sm/opensm.conf"
	for n in $BED_NODES; do
		case "$n" in sm|sem|probe|sw|*[!a-z0-9]*) bed_say "bad node name $n"; return 1;; esac
		mkdir -p "$BED/$n/state"
		# The bed's QPs are simulated registrations: they can only be
		# paused (the default block_mode is freeze), so pause is chosen.
		cat >"$BED/$n/ias.conf" <<-EOF
		control_socket = /run/ias/sema.sock
		state_dir = $BED/$n/state
		key_file = $BED/secmgt.keys
		node_name = $n
		simulated_fabric = yes
		log_level = debug
		port_retry = 500ms
		kernel_scan_interval = 0
		block_mode = pause
		EOF
	done
	i=0
	for n in $BED_NODES; do i=$((i + 1)); done
	[ "$BED_VERBOSE" = 0 ] || bed_say "bed $BED: nodes $BED_NODES"
}

bed_wait_for() {
	local file=$1 re=$2 secs=${3:-10} i
	for i in $(seq 1 $((secs * 10))); do
		grep -Eq "$re" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

bed_start() {
	local n i
	mkfifo "$BED/ibsim.in" || return 1
	# ibsim reads console commands from the FIFO; a holder keeps it open so
	# ibsim never sees end-of-file.
	(cd "$BED" && exec env IAS_FABRIC_BED="$BED_ID" sleep infinity >"$BED/ibsim.in") &
	echo $! >"$BED/holder.pid"
	(cd "$BED" && exec env IAS_FABRIC_BED="$BED_ID" IBSIM_SOCKNAME="$BED_ID" \
		ibsim ${BED_IBSIM_OPTS:-} -s topology <"$BED/ibsim.in" >"$BED/ibsim.log" 2>&1) &
	echo $! >"$BED/ibsim.pid"
	bed_wait_for "$BED/ibsim.log" 'Network simulator ready' 10 ||
		{ bed_say "ibsim did not start"; cat "$BED/ibsim.log" >&2; return 1; }
	bed_node_create sm 0 || return 1
	(cd "$BED/sm" && exec env OSM_CACHE_DIR="$BED/sm" IAS_FABRIC_BED="$BED_ID" \
		IBSIM_SOCKNAME="$BED_ID" SIM_HOST=sw LD_PRELOAD="$BED_UMAD2SIM" \
		nsenter -t "$(cat "$BED/sm/init.pid")" -m -p -- \
		opensm -F "$BED/sm/opensm.conf" -f "$BED/sm/opensm.log" >"$BED/sm/opensm.out" 2>&1) &
	echo $! >"$BED/sm/opensm.pid"
	bed_wait_for "$BED/sm/opensm.log" 'Entering MASTER state' 20 &&
		bed_wait_for "$BED/sm/opensm.log" 'SUBNET UP' 20 ||
		{ bed_say "OpenSM did not reach MASTER / SUBNET UP"; tail -20 "$BED/sm/opensm.log" >&2; return 1; }
	bed_node_create probe 1 || return 1
	if [ "$BED_WITH_SEM" = 1 ] && [ -x "$BED_SEM" ]; then
		bed_node_create sem 2 || return 1
		bed_sem_start || bed_say "sem did not start; going on without it"
	fi
	i=3
	for n in $BED_NODES; do
		bed_node_create "$n" "$i" || return 1
		i=$((i + 1))
	done
	for n in $BED_NODES; do
		case " $BED_BARE " in *" $n "*) continue;; esac
		bed_agent_start "$n" || return 1
	done
}

# bed_node_create NAME INDEX: the node's namespaces. PID 1 is a small shell
# that mounts a private tmpfs on /run/ias and reaps orphans. --kill-child: if
# unshare dies, so does the namespace (and with PID 1 every process in it).
# umad2sim names its sockets after the client's PID and ibsim tells clients
# apart by PID, so every namespace that hosts simulator clients starts its
# PIDs in a range of its own (INDEX * pid_max / 11).
bed_node_create() {
	local n=$1 idx=$2 u i c base
	base=$(( idx * $(cat /proc/sys/kernel/pid_max) / 11 ))
	[ "$base" -ge 300 ] || base=300
	mkdir -p /run/ias "$BED/$n"
	(cd "$BED/$n" && exec env IAS_FABRIC_BED="$BED_ID" BED_PID_BASE="$base" unshare --pid --fork \
		--mount-proc --mount --propagation private --kill-child \
		bash -c 'mount -t tmpfs -o mode=0755 ias-run /run/ias || exit 1
			 echo "$BED_PID_BASE" >/proc/sys/kernel/ns_last_pid || exit 1
			 echo up >node.up
			 while :; do sleep 3600 & wait $!; done' >"$BED/$n/init.log" 2>&1) &
	u=$!
	echo "$u" >"$BED/$n/unshare.pid"
	for i in $(seq 1 50); do
		c=$(cat "/proc/$u/task/$u/children" 2>/dev/null)
		c=${c%% *}
		[ -n "$c" ] && [ -f "$BED/$n/node.up" ] && break
		c=
		sleep 0.1
	done
	[ -n "$c" ] || { bed_say "node $n: namespace did not come up"; cat "$BED/$n/init.log" >&2; return 1; }
	echo "$c" >"$BED/$n/init.pid"
}

bed_node_run() {
	local n=$1
	shift
	(cd "$BED/$n" && exec env IAS_FABRIC_BED="$BED_ID" IAS_SOCKET=/run/ias/sema.sock \
		nsenter -t "$(cat "$BED/$n/init.pid")" -m -p -- "$@")
}

bed_iasctl() {
	local n=$1
	shift
	bed_node_run "$n" "$BED_IASCTL" --socket /run/ias/sema.sock "$@"
}

bed_agent_start() {
	local n=$1 try l
	# umad2sim crashes a client that receives a MAD before it has opened its
	# umad port (docs/fabric-bed.md, problem 1). With a manager on the bed,
	# its probes of every channel adapter can hit that window: an agent that
	# dies before attaching is started again (after one MAD to its LID, so
	# that ibsim drops the dead client).
	for try in 1 2 3; do
		: >"$BED/$n/agent.started"
		bed_daemon "$n" sema "bed_attached $n" "$BED_SEMA" --foreground \
			--config "$BED/$n/ias.conf" && return 0
		[ "$DAEMON_WHY" = died ] || break	# alive, not attached
		[ "$BED_SEM_UP" = 1 ] || break
		l=$(cat "$BED/$n/lid" 2>/dev/null)
		[ -n "$l" ] || l=$(bed_semctl fabric status 2>/dev/null | awk -v n="$n" '$1 == n { print $2 }')
		bed_say "agent on $n died before attaching (try $try); starting it again"
		wait "$(cat "$BED/$n/agent.pid")" 2>/dev/null
		[ -n "$l" ] && bed_probe -t 200 --linger 0 "$l" cpi >/dev/null 2>&1
	done
	bed_say "agent on $n did not attach to the simulated port"
	return 1
}

# bed_attached NODE: NODE's agent answers and has a LID.
bed_attached() { bed_iasctl "$1" status 2>/dev/null | grep -Eq 'Port: .* lid [1-9]'; }

# bed_sim_wrap NODE: BED_WRAP, the command prefix that runs a program as
# NODE's request-serving simulator client inside NODE's namespaces.
bed_sim_wrap() {
	BED_WRAP=(env IAS_FABRIC_BED="$BED_ID" IBSIM_SOCKNAME="$BED_ID" SIM_HOST="$1" SIM_SET_ISSM=1
		LD_PRELOAD="$BED_UMAD2SIM $BED_SHIM" nsenter -t "$(cat "$BED/$1/init.pid")" -m -p --)
}

# bed_daemon NODE KIND READY CMD...: start the daemon CMD (KIND sema or sem:
# its log $BED/NODE/KIND.log, PID file agent.pid or sem.pid) as NODE's
# simulator client (tests/lib/daemon.sh); 0 once READY succeeds.
bed_daemon() {
	local n=$1 kind=$2 ready=$3 pidf=sem.pid
	shift 3
	[ "$kind" = sema ] && pidf=agent.pid
	bed_sim_wrap "$n"
	daemon_start --name "$kind on $n" --cd "$BED/$n" --log "$BED/$n/$kind.log" \
		--pidfile "$BED/$n/$pidf" --ready "$ready" -- "${BED_WRAP[@]}" "$@"
}

# The agent runs as a child of nsenter; signal the agent itself.
bed_agent_pid_host() {
	local n=$1 p
	p=$(cat "$BED/$n/agent.pid" 2>/dev/null) || return 1
	p=$(cat "/proc/$p/task/$p/children" 2>/dev/null)
	p=${p%% *}
	[ -n "$p" ] && echo "$p"
}

# bed_stop_daemon PIDFILE PID SIGNAL: signal the daemon PID (if any), give
# the process in PIDFILE (its namespace holder or wrapper) 5 s to end, then
# kill it.
bed_stop_daemon() {
	local f=$1 p=$2 sig=$3 w
	w=$(cat "$f" 2>/dev/null) || return 0
	daemon_stop "$w" "$sig" "$p"
	rm -f "$f"
}

bed_agent_stop() {
	local n=$1 sig=${2:-TERM}
	[ -e "$BED/$n/agent.pid" ] || return 0
	bed_stop_daemon "$BED/$n/agent.pid" "$(bed_agent_pid_host "$n")" "$sig"
	# ibsim forgets a client only when it notices the client is gone: after a
	# hard kill, a MAD to the node's LID makes it drop the dead client so
	# that the node's request-serving slot can be taken again.
	if [ "$sig" = KILL ] || [ "$sig" = 9 ]; then
		bed_probe -t 200 --linger 0 "$(bed_lid "$n")" cpi >/dev/null 2>&1
	fi
	return 0
}

bed_lid() {
	local n=$1 l
	l=$(cat "$BED/$n/lid" 2>/dev/null)
	if [ -z "$l" ]; then
		l=$(bed_iasctl "$n" status 2>/dev/null | sed -n 's/.*Port: .* lid \([0-9]*\).*/\1/p')
		[ -n "$l" ] && [ "$l" != 0 ] && echo "$l" >"$BED/$n/lid"
	fi
	[ -n "$l" ] && echo "$l"
}

bed_spawn() {
	local n=$1 name=$2
	shift 2
	(cd "$BED/$n" && exec env IAS_FABRIC_BED="$BED_ID" \
		nsenter -t "$(cat "$BED/$n/init.pid")" -m -p -- \
		env IAS_SOCKET=/run/ias/sema.sock "$@" >"$BED/$n/$name.out" 2>&1) &
	echo $! >"$BED/$n/$name.pid"
}

# bed_spawn_sim NODE NAME CMD...: like bed_spawn, as the node's
# request-serving simulator client (for tools on --bare nodes).
bed_spawn_sim() {
	local n=$1 name=$2
	shift 2
	bed_sim_wrap "$n"
	: >"$BED/$n/$name.out"
	daemon_spawn --cd "$BED/$n" --log "$BED/$n/$name.out" --pidfile "$BED/$n/$name.pid" \
		-- "${BED_WRAP[@]}" "$@"
}

# bed_has_trace NODE: 0 if NODE's agent serves Set(Trace) (answers anything
# but "method/attribute not supported").
bed_has_trace() {
	local out
	out=$(bed_probe -t 2000 "$(bed_lid "$1")" trace dest=0xfffffe sender_qpn=0xfffffd \
		incident=0x7e57 hop_limit=1 2>/dev/null)
	case "$out" in
	*"status=0x000c"*|*timeout*|"") return 1;;
	*) return 0;;
	esac
}

# The spawned process's PID inside its node's PID namespace.
bed_spawn_pid() {
	local n=$1 name=$2 w c i
	w=$(cat "$BED/$n/$name.pid") || return 1
	for i in $(seq 1 50); do
		c=$(cat "/proc/$w/task/$w/children" 2>/dev/null)
		c=${c%% *}
		[ -n "$c" ] && break
		sleep 0.1
	done
	[ -n "$c" ] || return 1
	awk '/^NSpid:/ { print $NF }' "/proc/$c/status"
}

bed_spawn_stop() {
	local n=$1 name=$2 w c
	w=$(cat "$BED/$n/$name.pid" 2>/dev/null) || return 0
	c=$(cat "/proc/$w/task/$w/children" 2>/dev/null)
	c=${c%% *}
	[ -n "$c" ] && kill -TERM "$c" 2>/dev/null
	kill -TERM "$w" 2>/dev/null
	wait "$w" 2>/dev/null
	return 0
}

bed_probe() {
	(cd "$BED/probe" && exec env IAS_FABRIC_BED="$BED_ID" IBSIM_SOCKNAME="$BED_ID" SIM_HOST=probe \
		LD_PRELOAD="$BED_UMAD2SIM $BED_SHIM" nsenter -t "$(cat "$BED/probe/init.pid")" -m -p -- \
		"$BED_PROBE" -k "$BED/secmgt.keys" "$@")
}

bed_console() {
	echo "$*" >"$BED/ibsim.in"
}

# bed_sm_guid: the port GUID OpenSM bound to (from its log).
bed_sm_guid() {
	sed -n 's/.*binding to port GUID \(0x[0-9a-fA-F]*\).*/\1/p' "$BED/sm/opensm.log" | head -1
}

# bed_sem_conf NODE SM_GUID: a manager's configuration for NODE's directory.
bed_sem_conf() {
	cat <<-EOF
	control_socket = $BED/$1/sem.sock
	state_dir = $BED/$1/state
	key_file = $BED/secmgt.keys
	node_name = $1
	simulated_fabric = yes
	sm_guid = $2
	discovery_interval = $BED_SEM_DISCOVERY
	mad_timeout = 300ms
	port_retry = 500ms
	log_level = debug
	block_mode = pause
	EOF
}

# bed_sem_start [--fresh]: start the manager on its own HCA "sem" (the
# simulator has one request-serving client per node), serving beside the
# bed's OpenSM (sm_guid = OpenSM's port GUID, so it is the active manager).
# --fresh empties its state dir first. Waits for its control socket.
BED_SEM_DISCOVERY=${BED_SEM_DISCOVERY:-1s}
bed_sem_start() {
	local guid try
	[ "${1:-}" = --fresh ] && rm -rf "$BED/sem/state"
	mkdir -p "$BED/sem/state"
	guid=$(bed_sm_guid)
	[ -n "$guid" ] || { bed_say "sem: OpenSM's port GUID not found in its log"; return 1; }
	bed_sem_conf sem "$guid" >"$BED/sem/ias.conf"
	BED_SEM_UP=0
	# Under umad2sim a client that receives a MAD before it has opened its
	# port crashes (docs/fabric-bed.md); agents with queued reports may hit
	# a restarting sem in that window. Start it again, as for agents.
	for try in 1 2 3; do
		rm -f "$BED/sem/sem.sock"
		if bed_daemon sem sem "bed_sem_is sem active" "$BED_SEM" --foreground \
			--config "$BED/sem/ias.conf"; then
			BED_SEM_UP=1
			return 0
		fi
		[ "$DAEMON_WHY" = died ] || break
		bed_say "sem died before it was up (try $try); starting it again"
	done
	bed_say "sem did not become the active manager"
	return 1
}

# bed_sem_stop [SIGNAL]: stop the manager (TERM, or e.g. KILL).
bed_sem_stop() {
	local sig=${1:-TERM}
	[ -e "$BED/sem/sem.pid" ] || return 0
	bed_sem_on_stop sem "$sig"
	BED_SEM_UP=0
	# As for agents: a MAD to the node makes ibsim drop a hard-killed client.
	if [ "$sig" = KILL ] || [ "$sig" = 9 ]; then
		bed_probe -t 200 --linger 0 "$(bed_sem_lid)" cpi >/dev/null 2>&1
	fi
	return 0
}

# bed_semctl ARGS...: iasctl --manager against the bed's sem.
bed_semctl() {
	"$BED_IASCTL" --socket "$BED/sem/sem.sock" "$@"
}

# The manager's LID (from its own status).
bed_sem_lid() {
	local l
	l=$(cat "$BED/sem/lid" 2>/dev/null)
	if [ -z "$l" ]; then
		l=$(sed -n 's/.*SecMgt manager on .* (LID \([0-9]*\),.*/\1/p' "$BED/sem/sem.log" | tail -1)
		[ -n "$l" ] && [ "$l" != 0 ] && echo "$l" >"$BED/sem/lid"
	fi
	[ -n "$l" ] && echo "$l"
}

# ---- a further manager (active/standby) -----------------------------------
# The bed's own sem is unchanged by these. A second manager runs on a --bare
# HCA (bed_init --sem --bare sem2 NODE...), with its own state dir, log
# ($BED/NODE/sem.log) and control socket ($BED/NODE/sem.sock).
#
# bed_sem_on NODE SM_GUID [ROLE]: a further manager on the --bare HCA NODE,
# serving beside the SM whose port GUID is SM_GUID; waits until its control
# socket ($BED/NODE/sem.sock) answers with role ROLE (default: any).
bed_sem_on() {
	local n=$1 guid=$2 role=${3:-}
	mkdir -p "$BED/$n/state"
	bed_sem_conf "$n" "$guid" >"$BED/$n/sem.conf"
	rm -f "$BED/$n/sem.sock"
	bed_daemon "$n" sem "bed_sem_is $n $role" "$BED_SEM" --foreground --config "$BED/$n/sem.conf" ||
		{ bed_say "the manager on $n did not come up${role:+ as $role}"; return 1; }
}

# bed_sem_is NODE [ROLE]: the manager on NODE answers (with role ROLE).
bed_sem_is() { bed_semctl_on "$1" fabric status 2>/dev/null | grep -q "^Manager: ${2:-[a-z]}"; }

# bed_semctl_on NODE ARGS...: iasctl --manager against the manager on NODE.
bed_semctl_on() {
	local n=$1
	shift
	"$BED_IASCTL" --socket "$BED/$n/sem.sock" "$@"
}

# bed_sem_role NODE: active or standby, as the manager on NODE ("sem" for
# the bed's own) says.
bed_sem_role() {
	bed_semctl_on "$1" fabric status 2>/dev/null | sed -n 's/^Manager: \([a-z]*\),.*/\1/p'
}

# bed_sem_on_stop NODE [SIGNAL]: stop the manager on NODE (TERM by default).
bed_sem_on_stop() {
	local n=$1 sig=${2:-TERM} w p
	w=$(cat "$BED/$n/sem.pid" 2>/dev/null) || return 0
	p=$(cat "/proc/$w/task/$w/children" 2>/dev/null)
	bed_stop_daemon "$BED/$n/sem.pid" "${p%% *}" "$sig"
	return 0
}

# bed_sem_on_lid NODE: the LID of the manager on NODE (from its log).
bed_sem_on_lid() {
	sed -n 's/.*SecMgt manager on .* (LID \([0-9]*\),.*/\1/p' "$BED/$1/sem.log" | tail -1
}

bed_dump_logs() {
	local n f
	[ -n "$BED" ] && [ -d "$BED" ] || return 0
	for n in $BED_NODES sem; do
		for f in "$BED/$n/sema.log" "$BED/$n/sem.log"; do
			[ -f "$f" ] || continue
			echo "# ---- ${f#"$BED"/} (last 30 lines)"
			tail -30 "$f" | sed 's/^/#   /'
		done
	done
}

bed_fail() {
	not_ok "$*"
	bed_dump_logs
	bed_cleanup
	tap_done
	exit 1
}

bed_up() {
	local trace=0 why n
	[ "${1:-}" = --trace ] && { trace=1; shift; }
	why=$(bed_why_not) || skip_all "$why"
	bed_init "$@" || bed_fail "bed set up"
	bed_start || bed_fail "bed started (ibsim, OpenSM, daemons)"
	if [ "$trace" = 1 ]; then
		for n in $BED_NODES; do
			case " $BED_BARE " in *" $n "*) continue;; esac
			bed_has_trace "$n" || bed_fail "the agent on $n serves Set(Trace)"
		done
	fi
	ok "bed up: OpenSM MASTER, agents attached${BED_BARE:+ (bare:$BED_BARE)}$([ "$trace" = 1 ] && echo ", serving Set(Trace)")"
}

bed_cleanup() {
	[ -n "$BED" ] && [ -d "$BED" ] || return 0
	trap - EXIT
	# The shell reports each killed background job on stderr; not news.
	bed_cleanup_quiet 2>/dev/null
	if [ -n "${IAS_FABRIC_KEEP:-}" ]; then
		bed_say "kept $BED"
	else
		rm -rf "$BED"
	fi
	BED=
}

bed_cleanup_quiet() {
	local n p
	for n in $BED_NODES; do
		[ -f "$BED/$n/agent.pid" ] && bed_agent_stop "$n" TERM
	done
	for p in "$BED"/*/*.pid "$BED"/sem/sem.pid "$BED"/sm/opensm.pid; do
		[ -f "$p" ] && kill -TERM "$(cat "$p")" 2>/dev/null
	done
	sleep 0.2
	for p in "$BED"/*/unshare.pid; do
		[ -f "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null
	done
	for p in "$BED/ibsim.pid" "$BED/holder.pid"; do
		[ -f "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null
	done
	bed_sweep "$BED_ID"
	wait
}

# ---- helpers for the tests' checks ------------------------------------------

bed_wait_until() {
	local secs=$1 i
	shift
	for i in $(seq 1 $((secs * 5))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

bed_chain() {
	local t=$1 q1=$2 q2=$3 q3=$4 q4=$5 l1 l2 l3
	l1=$(bed_lid n1) l2=$(bed_lid n2) l3=$(bed_lid n3)
	bed_spawn n1 "${t}1" "$BED_TC" register-sim "$q1:$l2:$q2"
	bed_spawn n2 "${t}2" "$BED_TC" register-sim "$q2:$l1:$q1" "$q3:$l3:$q4"
	bed_spawn n3 "${t}3" "$BED_TC" register-sim "$q4:$l2:$q3"
	bed_wait_for "$BED/n1/${t}1.out" '^registered 1' 10 &&
		bed_wait_for "$BED/n2/${t}2.out" '^registered 2' 10 &&
		bed_wait_for "$BED/n3/${t}3.out" '^registered 1' 10
}

bed_orders() { sed -n 's/^order \(0x[0-9a-f]*\) pause$/\1/p' "$BED/$1/$2.out" | sort -u | tr '\n' ' '; }

bed_wait_orders() {
	local i
	for i in $(seq 1 $(($4 * 10))); do
		[ "$(bed_orders "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

bed_incident_of() {
	bed_iasctl "$1" -o json blocks list --pid "$2" |
		sed -n 's/.*"incident[_a-z]*": *"\(I-[^"]*\)".*/\1/p' | head -1
}

bed_outbox() {
	sqlite3 -readonly "$BED/$1/state/sema.db" \
		"SELECT seq, kind, pid, peer_lid, peer_qpn FROM reports ORDER BY seq" 2>/dev/null
}

bed_held() {
	sqlite3 -readonly "$BED/$1/state/sem.db" \
		"SELECT r.seq, r.kind, r.pid, r.peer_lid, r.peer_qpn FROM reports r
		 JOIN nodes n ON n.guid = r.node_guid WHERE n.name = '$2' ORDER BY r.seq" 2>/dev/null
}

bed_undelivered() { sqlite3 -readonly "$BED/$1/state/sema.db" "SELECT count(*) FROM reports WHERE delivered_ms = 0"; }

bed_in_sync() {
	local m=$1 n a
	shift
	for n in "$@"; do
		a=$(bed_outbox "$n")
		[ -n "$a" ] && [ "$a" = "$(bed_held "$m" "$n")" ] || return 1
	done
}

bed_delivered() { local n; for n in "$@"; do [ "$(bed_undelivered "$n")" = 0 ] || return 1; done; }
