#!/usr/bin/env bash
# Daemon tier: the real sema in a temporary state dir, driven by iasctl and
# libias. Covers report, list, release, expiry, escalation, dry-run,
# never-block refusal, restart with blocks restored, unauthorised callers,
# malformed requests and the alert stream.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"

T=$(mktemp -d /tmp/ias-daemon.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
	sema_stop
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# victim NAME: a process of our own to block (a copy of sleep under NAME).
victim() {
	cp /bin/sleep "$T/$1" 2>/dev/null
	"$T/$1" 600 &
	PIDS+=($!)
	VICTIM=$!
}
json() { "$IASCTL" --socket "$T/sema.sock" -o json "$@"; }
ctl() { "$IASCTL" --socket "$T/sema.sock" "$@"; }
field() { # field JSON KEY: first numeric/string value of KEY
	sed -n "s/.*\"$2\": *\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$1" | head -1
}
state_of() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }

# Per-QP pause is an explicit opt-in (the default block_mode is freeze).
sema_setup "$T" "simulated_fabric = yes" "block_duration = 1h" "escalation = 3" \
	"never_block_comm = protected-x" "block_mode = pause" || skip_all "cannot prepare a key file"
check "sema --print-config prints the effective configuration" \
	bash -c "'$SEMA' --config '$T/ias.conf' --print-config | grep -q '^simulated_fabric = yes'"
check "a bad config key is refused with file:line" \
	bash -c "printf 'bogus_key = 1\n' >'$T/bad.conf'; ! '$SEMA' --config '$T/bad.conf' --print-config 2>'$T/err' && grep -q 'bad.conf:1' '$T/err'"
chmod 644 "$T/secmgt.keys"
check "a key file readable by others: the agent refuses to start and says why" \
	bash -c "! '$SEMA' --config '$T/ias.conf' >'$T/err' 2>&1 && grep -qi 'mode\|permission' '$T/err'"
chmod 600 "$T/secmgt.keys"

sema_start "$T" || { not_ok "sema starts"; tap_done; exit 1; }
ok "sema starts with no RDMA port and serves its control socket"
out=$(ctl status)
check "status shows it is waiting for an RDMA port" grep -q "waiting for an RDMA port" <<<"$out"
check "empty block list is []" test "$(json blocks list)" = "[]"

# A process with two simulated QPs: the block must order both paused.
victim app1
V1=$VICTIM
"$TC" register-sim 0x101:5:0x201 0x102:6:0x202 >"$T/orders" 2>&1 &
TCPID=$!
PIDS+=($TCPID)
for i in $(seq 50); do grep -q registered "$T/orders" && break; sleep 0.1; done
check "simulated QPs registered through libias" grep -q "registered 2" "$T/orders"
check "qps list shows them as simulated" bash -c "'$IASCTL' --socket '$T/sema.sock' -o json qps list --pid $TCPID | grep -c simulated | grep -q 2"

out=$(json report --pid "$TCPID" --reason "test attack")
check "report exits 0" test $? -eq 0
BID=$(field "$out" block_id)
check "the block lists both QPs" bash -c "grep -q 257 <<<'$out' && grep -q 258 <<<'$out'"
for i in $(seq 50); do [ "$(grep -c '^order .* pause' "$T/orders")" -ge 2 ] && break; sleep 0.1; done
check "both QPs were ordered to pause" test "$(grep -c '^order .* pause' "$T/orders")" -eq 2
list=$(json blocks list)
check "blocks list -o json shows the reported PID" grep -q "\"pid\": *$TCPID" <<<"$list"
check "the block is an active record with an incident" bash -c "grep -q '\"incident_id\": *\"I-' <<<'$list' && grep -q '\"released_ms\": *0' <<<'$list'"
again=$(json report --pid "$TCPID")
check "reporting a blocked process again returns the same block" test "$(field "$again" block_id)" = "$BID"
out=$(ctl blocks inspect "$BID")
check "blocks inspect shows the audit trail" grep -qi "block" <<<"$out"
out=$(ctl incidents list)
check "incidents list shows the incident" grep -q "I-" <<<"$out"

rel=$(ctl blocks release --pid "$TCPID")
check "release prints what it released and the count" bash -c "grep -q '$TCPID' <<<'$rel' && grep -qi 'released 1' <<<'$rel'"
for i in $(seq 50); do grep -q '^order .* resume' "$T/orders" && break; sleep 0.1; done
check "release ordered the QPs to resume" test "$(grep -c '^order .* resume' "$T/orders")" -eq 2
all=$(json blocks list --all)
check "blocks list --all keeps the released block" bash -c "grep -q '\"pid\": *$TCPID' <<<'$all' && ! grep -q '\"released_ms\": *0[,}]' <<<'$all'"
check "blocks list (active) is empty again" test "$(json blocks list)" = "[]"
ctl blocks release --pid "$TCPID" >/dev/null 2>&1
check "releasing again: exit 5 (not found)" test $? -eq 5

# Freeze mode: a process without libias QPs is stopped and thawed.
ctl policy set block_mode=freeze >/dev/null
ctl report --pid "$V1" >/dev/null
sleep 0.2
check "freeze mode stops the process (SIGSTOP)" test "$(state_of "$V1")" = T
ctl blocks release --pid "$V1" >"$T/rel"
sleep 0.2
check "release thaws it and says so" bash -c "[ \"\$(awk '{print \$3}' /proc/$V1/stat)\" != T ] && grep -q SIGCONT '$T/rel'"

# Escalation: the same program reported again gets 3x the duration.
ctl policy set block_mode=pause >/dev/null
b2=$(json report --pid "$V1")
d2=$(( $(field "$b2" until_ms) - $(field "$b2" created_ms) ))
check "a repeat offence counts" test "$(field "$b2" offence)" = 2
check "a repeat offence escalates the duration (1h x 3)" test "$d2" -eq 10800000
ctl blocks release --pid "$V1" >/dev/null

# Expiry.
ctl policy set base_duration_s=1 >/dev/null
victim app2
ctl report --pid "$VICTIM" >/dev/null
sleep 2.5
exp=$(json blocks list --all --pid "$VICTIM")
check "a block expires on time and says so" bash -c "grep -q expired <<<'$exp' && ! grep -q '\"released_ms\": *0[,}]' <<<'$exp'"
ctl policy set base_duration_s=3600 >/dev/null

# Dry run.
ctl policy set dry_run=yes block_mode=freeze >/dev/null
victim app3
dr=$(json report --pid "$VICTIM")
sleep 0.2
check "dry-run records a simulated block" grep -q '"simulated": *true' <<<"$dr"
check "dry-run enforces nothing" test "$(state_of "$VICTIM")" != T
ctl blocks release --pid "$VICTIM" >/dev/null
ctl policy set dry_run=no block_mode=pause >/dev/null

# Never-block list and allowlist.
ctl report --pid 1 >/dev/null 2>&1
check "PID 1 is refused (exit 6)" test $? -eq 6
victim protected-x
ctl report --pid "$VICTIM" >/dev/null 2>&1
check "a configured never-block command is refused (exit 6)" test $? -eq 6
check "--override blocks it anyway" ctl report --pid "$VICTIM" --override
ctl blocks release --pid "$VICTIM" >/dev/null
victim app4
check "allowlist add" ctl allowlist add exe "$T/app4"
ctl report --pid "$VICTIM" >/dev/null 2>&1
check "an allowlisted executable is refused (exit 6)" test $? -eq 6
check "allowlist list shows the entry" bash -c "'$IASCTL' --socket '$T/sema.sock' allowlist list | grep -q app4"
check "allowlist remove" ctl allowlist remove exe "$T/app4"
check "after removal it can be blocked" ctl report --pid "$VICTIM"

# Joining an existing incident.
victim app6
j1=$(json report --pid "$VICTIM" --reason "first of two")
INC=$(field "$j1" incident_id)
victim app7
j2=$(json report --pid "$VICTIM" --reason "second of two" --incident "$INC")
check "report --incident adds the block to that incident" test "$(field "$j2" incident_id)" = "$INC"
check "the incident shows both reports" bash -c "'$IASCTL' --socket '$T/sema.sock' incidents show '$INC' | grep -q 'second of two'"
ctl report --pid "$VICTIM" --incident "" >/dev/null 2>&1
check "report --incident with an empty id is a usage error (exit 2)" test $? -eq 2

# Alerts and GetAttackPID through libias.
victim app5
"$TC" alert "$VICTIM" >"$T/alert.out" 2>&1
while read -r line; do
	case "$line" in "ok - "*) ok "${line#ok - }";; "not ok - "*) not_ok "${line#not ok - }";; esac
done <"$T/alert.out"

# Restart: blocks come back.
before=$(json blocks list | grep -o '"block_id": *[0-9]*' | sort)
sema_stop
sema_start "$T" || not_ok "sema restarts"
after=$(json blocks list | grep -o '"block_id": *[0-9]*' | sort)
check "after a restart the active blocks are restored" test -n "$before" -a "$before" = "$after"
check "the audit of a block survives the restart" bash -c "'$IASCTL' --socket '$T/sema.sock' blocks inspect $BID | grep -qi release"

# Unauthorised callers.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	asnobody "$IASCTL" --socket "$T/sema.sock" report --pid "$V1" >/dev/null 2>&1
	check "report by an unprivileged user is refused (exit 4)" test $? -eq 4
	asnobody "$IASCTL" --socket "$T/sema.sock" blocks release --pid "$V1" >/dev/null 2>&1
	check "release by an unprivileged user is refused (exit 4)" test $? -eq 4
	check "an unprivileged user may read the block list" asnobody "$IASCTL" --socket "$T/sema.sock" blocks list
	check "an unprivileged user cannot register simulated QPs for another PID's sake (own PID only)" \
		bash -c "IAS_SOCKET='$T/sema.sock' setpriv --reuid=nobody --regid=nogroup --clear-groups '$TC' register-sim 0x301 & p=\$!; sleep 0.5; '$IASCTL' --socket '$T/sema.sock' -o json qps list --pid \$p | grep -q 769; r=\$?; kill \$p; exit \$r"
else
	ok "# SKIP unprivileged-caller checks need root and setpriv"
fi

# Malformed requests.
"$TC" garbage >"$T/garbage.out" 2>&1
while read -r line; do
	case "$line" in "ok - "*) ok "${line#ok - }";; "not ok - "*) not_ok "${line#not ok - }";; esac
done <"$T/garbage.out"
check "the agent is still running after the malformed requests" kill -0 "$SEMA_PID"
check "the agent logged no crash" bash -c "! grep -qi 'assert\|segfault\|sanitizer' '$T/sema.log'"

tap_done
