# Helpers to run a real sema in a private directory. Source after tap.sh.
# Needs top_builddir (set by make check); defines SEMA, IASCTL, TC.
: "${top_builddir:?top_builddir is not set (run through make check)}"
SEMA=$top_builddir/sema/sema
IASCTL=$top_builddir/iasctl/iasctl
TC=$top_builddir/tests/daemon/ias_testclient
KEYGEN=$top_builddir/common/ias-keygen

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

# sema_start DIR: start the agent; wait until its socket answers.
sema_start() {
	local dir=$1 i
	"$SEMA" --foreground --config "$dir/ias.conf" >>"$dir/sema.log" 2>&1 &
	SEMA_PID=$!
	for i in $(seq 1 100); do
		if "$IASCTL" --socket "$dir/sema.sock" status >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$SEMA_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# sema did not start; log follows" >&2
	sed 's/^/# /' "$dir/sema.log" >&2
	return 1
}

sema_stop() {
	[ -n "${SEMA_PID:-}" ] || return 0
	kill -TERM "$SEMA_PID" 2>/dev/null
	wait "$SEMA_PID" 2>/dev/null
	SEMA_PID=
}
