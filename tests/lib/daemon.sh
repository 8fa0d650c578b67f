# shellcheck shell=bash disable=SC2034
# The one way the tests start an IAS daemon (the agent sema, the manager sem,
# the analyzer) and wait until it is ready. Source after tap.sh. Used by the
# daemon tier, the fabric bed (tests/fabric/bed.sh), the kernel bed's guest
# parts (tests/kernel/*.sh, chain_lib.sh), the benches and the demo.
# Needs top_builddir (make check sets it; the kernel bed's guest has it too).
#
#   daemon_start [OPTIONS] [--] [WRAPPER...] DAEMON [ARG...]
#       start DAEMON (with its args) in the background, after WRAPPER if any
#       (env VAR=..., nsenter ..., unshare ...); wait until it is ready.
#       Ready is decided by --ready CHECK: shell text evaluated until it
#       succeeds. 0 when ready. Otherwise 1, with DAEMON_WHY set to "died"
#       (the process ended first) or "timeout" (it is still running, not
#       ready), and the tail of its log on stderr as "#" lines.
#   daemon_spawn [OPTIONS] [--] CMD...     the same, without the wait
#   daemon_wait                            the wait, for the last daemon_spawn
#                                          (or daemon_wait NAME PID LOG CHECK SECS)
#   daemon_stop PID [SIGNAL [TARGET]]      signal it (TERM; or signal TARGET, e.g. the
#                                          daemon under a wrapper PID), give PID
#                                          5 s to end, then KILL it; reap it
#     OPTIONS: --name NAME       for messages (default: the daemon's basename)
#              --log FILE        its stdout and stderr, appended (default /dev/null)
#              --ready CHECK     see above (required for daemon_start)
#              --timeout SECS    bounded wait (default $IAS_START_TIMEOUT, 20 s)
#              --cd DIR          run it in DIR
#              --pidfile FILE    also write its PID there
#              --tail N          log lines shown on failure (default 30)
#   The PID (of WRAPPER, when there is one) is left in DAEMON_PID.
#
# Shorthands for the usual cases (a control socket reachable from here):
#   sema_setup DIR [CONFIG-LINE...]   key file and ias.conf under DIR
#   sema_start DIR [WRAPPER...]       the agent with DIR/ias.conf; ready when
#                                     `iasctl --socket DIR/sema.sock status`
#                                     answers; its log is DIR/sema.log
#   sema_stop                         stop that agent
#   ready_ctl SOCKET [ARG...]         the readiness check: iasctl ARGs (status)
#                                     answer on SOCKET
#   IASCTL_RUN                        iasctl as a command prefix (array), the
#                                     fastest way to run it here
: "${top_builddir:?top_builddir is not set (run through make check)}"
SEMA=$top_builddir/sema/sema
SEM=$top_builddir/sem/sem
IASCTL=$top_builddir/iasctl/iasctl
TC=$top_builddir/tests/daemon/ias_testclient
KEYGEN=$top_builddir/common/ias-keygen
AZ=$top_builddir/analyzer/ias-analyzer
# IASCTL_RUN: iasctl as a command prefix; the real binary when libtool built
# one beside its wrapper script (the script costs a second or more per call
# in the kernel bed's TCG guest).
if [ -x "$top_builddir/iasctl/.libs/iasctl" ]; then
	IASCTL_RUN=(env LD_LIBRARY_PATH="$top_builddir/verbs_ext/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
		"$top_builddir/iasctl/.libs/iasctl")
else
	IASCTL_RUN=("$IASCTL")
fi
# Default bound of a start: 20 s, 60 s in the kernel bed's emulated guest.
if [ -n "${IAS_GUEST:-}" ]; then IAS_START_TIMEOUT=${IAS_START_TIMEOUT:-60}; fi

daemon_spawn() {
	local cd=
	DAEMON_NAME='' DAEMON_LOG=/dev/null DAEMON_READY='' DAEMON_TIMEOUT=${IAS_START_TIMEOUT:-20}
	DAEMON_PIDFILE='' DAEMON_TAIL=30 DAEMON_WHY=''
	while [ $# -gt 0 ]; do
		case $1 in
		--name) DAEMON_NAME=$2; shift 2 ;;
		--log) DAEMON_LOG=$2; shift 2 ;;
		--ready) DAEMON_READY=$2; shift 2 ;;
		--timeout) DAEMON_TIMEOUT=$2; shift 2 ;;
		--cd) cd=$2; shift 2 ;;
		--pidfile) DAEMON_PIDFILE=$2; shift 2 ;;
		--tail) DAEMON_TAIL=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	[ $# -gt 0 ] || { echo "# daemon_spawn: no command" >&2; return 1; }
	if [ -z "$DAEMON_NAME" ]; then
		# The daemon is the first argument that is a path to a program.
		local a
		for a in "$@"; do case $a in */*) DAEMON_NAME=${a##*/}; break ;; esac; done
		DAEMON_NAME=${DAEMON_NAME:-$1}
	fi
	(
		[ -z "$cd" ] || cd "$cd" || exit 1
		exec "$@" >>"$DAEMON_LOG" 2>&1 </dev/null
	) &
	DAEMON_PID=$!
	[ -z "$DAEMON_PIDFILE" ] || echo "$DAEMON_PID" >"$DAEMON_PIDFILE"
	return 0
}

# Milliseconds of the wall clock, without a fork where bash has EPOCHREALTIME.
daemon_ms() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		local t=${EPOCHREALTIME/[.,]/}
		echo $((10#$t / 1000))
	else
		echo $(($(date +%s%N) / 1000000))
	fi
}

daemon_wait() {
	local name=${1:-$DAEMON_NAME} pid=${2:-$DAEMON_PID} log=${3:-$DAEMON_LOG}
	local check=${4:-$DAEMON_READY} secs=${5:-$DAEMON_TIMEOUT} end
	[ -n "$check" ] || { echo "# daemon_wait: no readiness check for $name" >&2; return 1; }
	end=$(($(daemon_ms) + secs * 1000))
	while :; do
		if eval "$check" >/dev/null 2>&1; then
			DAEMON_WHY=
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			DAEMON_WHY=died
			break
		fi
		if [ "$(daemon_ms)" -ge "$end" ]; then
			DAEMON_WHY=timeout
			break
		fi
		sleep 0.1
	done
	if [ "$DAEMON_WHY" = died ]; then
		echo "# $name (PID $pid) exited before it was ready; last lines of $log:" >&2
	else
		echo "# $name (PID $pid) not ready after ${secs}s ($check); last lines of $log:" >&2
	fi
	tail -n "${DAEMON_TAIL:-30}" "$log" 2>/dev/null | sed 's/^/#   /' >&2
	return 1
}

daemon_start() {
	daemon_spawn "$@" && daemon_wait
}

daemon_stop() {
	local pid=$1 sig=${2:-TERM} target=${3-$1}
	[ -n "$pid" ] || return 0
	[ -z "$target" ] || kill -"$sig" "$target" 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

ready_ctl() {
	local sock=$1
	shift
	"${IASCTL_RUN[@]}" --socket "$sock" "${@:-status}"
}

# sema_setup DIR [extra config lines...]: key file and config under DIR.
sema_setup() {
	local dir=$1 l k
	shift
	mkdir -p "$dir/state"
	"$KEYGEN" "$dir/secmgt.keys" >/dev/null || return 1
	{
		# Defaults for a test agent; a line given by the caller wins.
		for l in "control_socket = $dir/sema.sock" "state_dir = $dir/state" \
			 "key_file = $dir/secmgt.keys" "node_name = ${SEMA_NODE_NAME:-testnode}" \
			 "log_level = debug" "port_retry = 60s"; do
			k=${l%% *}
			printf '%s\n' "$@" | grep -q "^$k *=" || echo "$l"
		done
		for l in "$@"; do echo "$l"; done
	} >"$dir/ias.conf"
	export IAS_SOCKET=$dir/sema.sock
}

# sema_start DIR [WRAPPER...]: start the agent; wait until its socket answers.
sema_start() {
	local dir=$1
	shift
	daemon_start --name sema --log "$dir/sema.log" --ready "ready_ctl '$dir/sema.sock'" \
		-- "$@" "$SEMA" --foreground --config "$dir/ias.conf" || return 1
	SEMA_PID=$DAEMON_PID
}

sema_stop() {
	daemon_stop "${SEMA_PID:-}"
	SEMA_PID=
}
