#!/usr/bin/env bash
# The real sem without an RDMA port, driven by iasctl --manager: start-up
# refusals, the control socket's ops, policy set/show and its persistence
# across a restart, refusals of bad values and of ops only agents serve.
# Needs no bed (it runs in the daemon tier).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"

T=$(mktemp -d /tmp/ias-sem.XXXXXX)
chmod 755 "$T"
SEM_PID=
cleanup() {
	[ -n "$SEM_PID" ] && kill -TERM "$SEM_PID" 2>/dev/null && wait "$SEM_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
"$KEYGEN" "$T/keys" >/dev/null || skip_all "cannot make a key file"
cat >"$T/ias.conf" <<EOC
[sem]
control_socket = $T/sem.sock
state_dir = $T/state
key_file = $T/keys
port_retry = 60s
log_level = debug
level = sibling
EOC
export IAS_MANAGER_SOCKET=$T/sem.sock
mctl() { "$IASCTL" --manager "$@"; }
export -f mctl
export IASCTL

sem_start() {
	daemon_start --name sem --log "$T/sem.log" --ready "mctl status" \
		-- "$SEM" --foreground --config "$T/ias.conf" || return 1
	SEM_PID=$DAEMON_PID
}
sem_stop() {
	kill -TERM "$SEM_PID" 2>/dev/null
	wait "$SEM_PID"
	local rc=$?
	SEM_PID=
	return $rc
}
# exits WANT CMD...: the command exits with status WANT.
exits() { local want=$1; shift; "$@" >/dev/null 2>&1; test $? -eq "$want"; }

check "--print-config shows the [sem] section" \
	bash -c "'$SEM' --config '$T/ias.conf' --print-config | grep -q '^level = sibling'"
check "a bad sm_guid is refused" exits 1 "$SEM" --config "$T/ias.conf" --set sm_guid=fish --print-config
chmod 644 "$T/keys"
check "a key file readable by others: sem refuses to start and says why" \
	bash -c "! '$SEM' --config '$T/ias.conf' >'$T/err' 2>&1 && grep -qi 'mode\|permission' '$T/err'"
chmod 600 "$T/keys"

sem_start || { not_ok "sem starts"; tap_done; exit 1; }
ok "sem starts without an RDMA port and serves its socket"
check "status says it waits for a port" bash -c "mctl status | grep -q 'waiting for an RDMA port'"
out=$("$IASCTL" -o json fabric status)
check "fabric status goes to the manager without --manager (JSON: standby)" \
	grep -q '"role": "standby"' <<<"$out"
check "fabric status lists nodes as an array" grep -q '"nodes": \[' <<<"$out"
check "the initial fabric policy comes from the config" \
	bash -c "mctl policy show | grep -q '^level *sibling'"
check "policy set makes version 2" \
	bash -c "mctl -o json policy set level=lca hop_limit=8 | grep -q '\"policy_version\": 2'"
check "hop_limit above 255 is refused (exit 1)" exits 1 mctl policy set hop_limit=300
check "max below base is refused (exit 1)" exits 1 mctl policy set base_duration_s=100 max_duration_s=10
check "incidents list is [] before any report" test "$(mctl -o json incidents list)" = "[]"
check "an unknown incident: exit 5" exits 5 mctl incidents show I-000001-1
check "a malformed incident id: exit 1" exits 1 mctl incidents show I-zz
check "ops only agents serve are refused (exit 1)" exits 1 mctl blocks list
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	check "policy set needs root or the control group (exit 4)" \
		exits 4 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$IASCTL" --socket "$T/sem.sock" policy set level=basic
fi
check "sem stops cleanly on SIGTERM" sem_stop
sem_start || not_ok "sem restarts"
check "the fabric policy survives a restart" \
	bash -c "mctl -o json policy show | grep -q '\"policy_version\": 2'"
check "the store is in state_dir" test -s "$T/state/sem.db"
tap_done
