#!/usr/bin/env bash
# Daemon tier, kill -9 crash tests: a real agent freezing a real victim in a
# real cgroup v2 tree is killed (SIGKILL, through the test-only hook
# IAS_TEST_CRASH_AT) at each step of a report -- decided, rows written,
# enforced, committed, replied -- and restarted. After each restart: no
# process is left frozen without an active block record (an orphan is undone
# or adopted, and the log says which), and no acknowledged block is lost.
# Then the state directory is replaced while a process is blocked: the agent
# refuses to start, naming the cgroups, until --release-orphans.
# Needs root and a writable cgroup v2 hierarchy (a private cgroup2 mount is
# made when /sys/fs/cgroup is not one); skips otherwise.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (cgroup freezer)"
T=$(mktemp -d /tmp/ias-crash.XXXXXX)
chmod 755 "$T"
CG=/sys/fs/cgroup
MOUNTED=
if [ ! -w "$CG/cgroup.procs" ] || [ ! -e "$CG/cgroup.controllers" ]; then
	CG=$T/cg
	mkdir -p "$CG"
	mount -t cgroup2 none "$CG" 2>/dev/null || { rm -rf "$T"; skip_all "no writable cgroup v2 hierarchy"; }
	MOUNTED=1
fi
PARENT=ias-crash-$$
mkdir -p "$CG/$PARENT" || { rm -rf "$T"; skip_all "cannot make a cgroup under $CG"; }
VPIDS=()
cleanup() {
	sema_stop
	for p in "${VPIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	# Thaw and remove whatever block cgroups are left, then our parent.
	for d in "$CG/$PARENT"/*/ias-block-*; do
		[ -d "$d" ] || continue
		echo 0 >"$d/cgroup.freeze" 2>/dev/null
		while read -r p; do echo "$p" >"$CG/cgroup.procs" 2>/dev/null; done <"$d/cgroup.procs"
		rmdir "$d" 2>/dev/null
	done
	rmdir "$CG/$PARENT"/* "$CG/$PARENT" 2>/dev/null
	[ -n "$MOUNTED" ] && umount "$CG" 2>/dev/null
	[ -n "${IAS_TEST_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

json() { "$IASCTL" --socket "$D/sema.sock" -o json "$@"; }
# frozen PID: the process sits in a block cgroup that is frozen, or is stopped.
frozen() {
	local cg
	cg=$(sed -n 's/^0:://p' "/proc/$1/cgroup" 2>/dev/null)
	case "$cg" in */ias-block-*) grep -q '^frozen 1' "$CG$cg/cgroup.events" 2>/dev/null && return 0;; esac
	[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]
}
has_block() { json blocks list --pid "$1" 2>/dev/null | grep -q '"pid"'; }
no_block() { ! has_block "$1"; }
not_frozen() { ! frozen "$1"; }
# wait_frozen PID: up to 2 s (the freeze is confirmed asynchronously).
wait_frozen() { local i; for i in $(seq 40); do frozen "$1" && return 0; sleep 0.05; done; return 1; }

# setup NAME [config lines]: a fresh agent directory D, and a block cgroup
# parent of its own (each scenario's database is another instance).
setup() {
	D=$T/$1
	mkdir -p "$D" "$CG/$PARENT/$1"
	sema_setup "$D" "block_mode = freeze" "cgroup_root = $CG" "block_cgroup_parent = $PARENT/$1" \
		"rdma_cap = no" "${@:2}" || skip_all "cannot prepare a key file"
}
victim() { cp /bin/sleep "$T/victim-$1"; "$T/victim-$1" 600 & VPIDS+=($!); V=$!; }

# crash_at STEP NAME [config lines]: report a fresh victim with the agent
# set to die at STEP; restart it; leaves V and D.
crash_at() {
	local step=$1 name=$2 out
	shift 2
	setup "$name" "$@"
	IAS_TEST_CRASH_AT=$step sema_start "$D" || { not_ok "$step: sema starts"; return 1; }
	victim "$name"
	out=$(json report --pid "$V" --reason "crash test" 2>&1)
	REPLIED=0
	grep -q '"incident' <<<"$out" && REPLIED=1
	for i in $(seq 50); do kill -0 "$SEMA_PID" 2>/dev/null || break; sleep 0.1; done
	check "$step: the agent died of SIGKILL at the step" bash -c "! kill -0 $SEMA_PID 2>/dev/null"
	wait "$SEMA_PID" 2>/dev/null
	SEMA_PID=
	sema_start "$D" || { not_ok "$step: sema restarts"; return 1; }
	ok "$step: the agent restarts"
}

for step in decide rows enforce commit reply; do
	crash_at "$step" "$step" || continue
	if frozen "$V"; then
		check "$step: the victim is frozen and has an active block record" has_block "$V"
	else
		check "$step: the victim runs and has no block record" no_block "$V"
	fi
	if [ "$REPLIED" = 1 ]; then
		check "$step: the acknowledged block survived" has_block "$V"
		check "$step: and is in force" wait_frozen "$V"
	fi
	case $step in
	enforce) check "enforce: the log says the orphan was undone" grep -q "orphan block cgroup .* undone" "$D/sema.log";;
	commit|reply) check "$step: the committed block is re-applied" frozen "$V";;
	esac
	sema_stop
done

# Adopt instead of undo.
crash_at enforce adopt "adopt_orphans = yes" && {
	check "adopt: the log says the orphan was adopted" grep -q "adopted as block" "$D/sema.log"
	check "adopt: the victim is frozen under a recovered block" has_block "$V"
	check "adopt: the recovered block is frozen" frozen "$V"
	sema_stop
}

# The state directory replaced while a process is blocked.
setup reset
sema_start "$D" || not_ok "reset: sema starts"
victim reset
json report --pid "$V" >/dev/null
check "reset: blocked and frozen" wait_frozen "$V"
sema_stop
rm -rf "$D/state"
mkdir -p "$D/state"
if sema_start "$D" 2>/dev/null; then
	not_ok "reset: the agent refuses to start over another database's block cgroups"
	sema_stop
else
	ok "reset: the agent refuses to start over another database's block cgroups"
	check "reset: the message names the cgroup and the way out" \
		bash -c "grep -q 'ias-block-' '$D/sema.log' && grep -q -- '--release-orphans' '$D/sema.log'"
fi
SEMA_PID=
"$SEMA" --foreground --config "$D/ias.conf" --release-orphans >>"$D/sema.log" 2>&1 &
SEMA_PID=$!
for i in $(seq 50); do "$IASCTL" --socket "$D/sema.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
check "reset: with --release-orphans it starts" kill -0 "$SEMA_PID"
check "reset: and the victim runs again" not_frozen "$V"
sema_stop
tap_done
