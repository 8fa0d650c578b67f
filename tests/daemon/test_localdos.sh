#!/usr/bin/env bash
# Daemon tier: no local user can starve the agent, and the agent trusts no
# file another user could have written (issue 12, items 5 and 6). The real
# sema; unprivileged users are throwaway uids through setpriv:
#  - unprivileged users holding every connection they can: each uid stops at
#    max_clients_per_user, all of them at max_clients - reserved_clients,
#    and root's status and report are still served;
#  - a flood of 20,000 refused requests: the agent's log grows by a bounded
#    number of lines, ending in a per-uid summary;
#  - registrations beyond max_qps_per_client on one connection are refused;
#  - a group/other-writable state directory (with a database planted by
#    another user), a database or -wal file owned by another user, a key
#    file in a directory others may write: the agent refuses to start with
#    one line naming the path and why (and the manager, for its store);
#  - the agent is not dumpable: no core file or same-uid reader gets its keys.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"

DOS=$top_builddir/tests/daemon/ias_dosclient
[ "$(id -u)" -eq 0 ] || skip_all "needs root to act as other, unprivileged users (setpriv)"
command -v setpriv >/dev/null || skip_all "needs setpriv (util-linux) to act as unprivileged users"

T=$(mktemp -d /tmp/ias-localdos.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
	sema_stop
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# as UID CMD...: run CMD as a throwaway unprivileged uid (no passwd entry);
# exec, so that a background "as" is the client's own PID.
as() { local u=$1; shift; (exec setpriv --reuid="$u" --regid="$u" --clear-groups "$@"); }
asbg() { local u=$1; shift; exec setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }
ctl() { "$IASCTL" --socket "$T/sema.sock" "$@"; }
lines() { wc -l <"$T/sema.log"; }
# refuses_start NAME PATTERN CONF: sema exits at start with a line matching PATTERN.
refuses_start() {
	local out
	out=$(timeout 20 "$SEMA" --foreground --config "$3" 2>&1)
	if [ $? -ne 0 ] && grep -Eq "$2" <<<"$out"; then
		ok "$1"
		diag "  $(grep -E "$2" <<<"$out" | head -1)"
	else
		not_ok "$1"
		diag "sema said: $(tail -3 <<<"$out")"
	fi
}

sema_setup "$T" "simulated_fabric = yes" "max_clients = 64" "max_clients_per_user = 16" \
	"reserved_clients = 16" "max_qps_per_client = 100" || skip_all "cannot prepare a key file"
sema_start "$T" || { not_ok "sema starts"; tap_done; exit 1; }
ok "sema starts with max_clients 64, 16 per user, 16 reserved"

# ---- connections -------------------------------------------------------------
# Four uids take what they can (16 each = 48 = 64 - 16 reserved), a fifth
# finds only reserved slots.
for u in 40001 40002 40003 40004 40005; do
	(asbg "$u" "$DOS" hold "$T/sema.sock" 64 >"$T/hold.$u" 2>&1 < <(sleep 300)) &
	PIDS+=($!)
	for _ in $(seq 100); do grep -q held "$T/hold.$u" && break; sleep 0.1; done
done
check "one uid holds no more than max_clients_per_user (16)" grep -qx "held 16" "$T/hold.40001"
check "four uids together hold max_clients - reserved_clients (48)" \
	test "$(cat "$T"/hold.4000[1-4] | awk '{s += $2} END {print s}')" = 48
check "a fifth unprivileged uid gets none of the 16 reserved slots" grep -qx "held 0" "$T/hold.40005"
check "root's iasctl status is still served" ctl status
# Its own process, not a subshell: the agent blocks what it is told, and a
# stopped subshell would keep the script's own `wait` waiting.
cp /bin/sleep "$T/victim"
"$T/victim" 600 &
PIDS+=($!)
VICTIM=$!
check "root's iasctl report is still served" ctl report --pid "$VICTIM" --reason "localdos test"
check "the refused connections are logged with the reason" \
	grep -q "refusing a control connection from uid 40005.*kept for root" "$T/sema.log"
for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
for _ in $(seq 50); do
	[ "$(ls -l /proc/"$SEMA_PID"/fd 2>/dev/null | grep -c socket)" -lt 10 ] && break
	sleep 0.1
done

# ---- a flood of refused requests ----------------------------------------------
# Let the connection refusals' window close first, then count.
sleep 11
before=$(lines)
out=$(as 40006 "$DOS" flood "$T/sema.sock" 20000)
check "20,000 privileged requests from an unprivileged uid are all answered and refused" \
	test "$out" = "refused 20000 of 20000" || diag "the flooding client said: $out"
sleep 11	# the uid's window closes: its summary line
after=$(lines)
diag "agent log grew by $((after - before)) lines for 20,000 refused requests"
check "the agent log grows by a bounded number of lines (at most 10)" test $((after - before)) -le 10
check "the rest is one summary line per uid" \
	grep -Eq "uid 40006: [0-9]+ requests refused in the last 10 s" "$T/sema.log"
check "root is still served after the flood" ctl status

# ---- registrations per connection ---------------------------------------------
(asbg 40007 "$DOS" register "$T/sema.sock" 150 >"$T/reg" 2>&1 < <(sleep 300)) &
REGPID=$!
PIDS+=($REGPID)
for _ in $(seq 100); do grep -q registered "$T/reg" && break; sleep 0.1; done
check "one connection registers up to max_qps_per_client (100)" grep -qx "registered 100" "$T/reg"
check "the 101st registration is refused with a clear error" grep -q "refused: .*max_qps_per_client" "$T/reg"
kill "$REGPID" 2>/dev/null
sema_stop

# ---- files --------------------------------------------------------------------
conf() { # conf NAME KEY=VALUE...: a copy of ias.conf with lines replaced
	local f=$T/$1.conf kv
	shift
	cp "$T/ias.conf" "$f"
	for kv in "$@"; do
		sed -i "/^${kv%% =*} *=/d" "$f"
		echo "$kv" >>"$f"
	done
	echo "$f"
}
chmod 0777 "$T/state"
refuses_start "a group/other-writable state directory: refused at start" \
	"state directory $T/state: mode 0777 lets group or others write" "$T/ias.conf"
chmod 0755 "$T/state"

# Another user plants a database (a copy of a real one, so that only its
# owner is wrong) in a world-writable directory.
mkdir -m 1777 "$T/planted"
cp "$T/state/sema.db" "$T/planted/sema.db" && chown 40008 "$T/planted/sema.db"
refuses_start "a database planted in a world-writable state directory: refused" \
	"state directory $T/planted: mode 1777" "$(conf planted "state_dir = $T/planted")"
chmod 0755 "$T/planted"
refuses_start "a database owned by another user: refused, naming it" \
	"$T/planted/sema.db: owned by uid 40008" "$(conf planted "state_dir = $T/planted")"

chown 40008 "$T/state/sema.db"
refuses_start "our database chowned to another user: refused" \
	"$T/state/sema.db: owned by uid 40008" "$T/ias.conf"
chown 0 "$T/state/sema.db"
touch "$T/state/sema.db-wal" && chmod 0666 "$T/state/sema.db-wal"
refuses_start "a -wal file others may write: refused" "$T/state/sema.db-wal: mode 0666" "$T/ias.conf"
rm -f "$T/state/sema.db-wal"

mkdir -m 0777 "$T/keys"
cp -p "$T/secmgt.keys" "$T/keys/secmgt.keys"
refuses_start "a key file in a world-writable directory: refused" \
	"its directory $T/keys is writable by group or others" \
	"$(conf keys "key_file = $T/keys/secmgt.keys")"
chmod 1777 "$T/keys"
refuses_start "a key file directly in a sticky world-writable directory: refused too" \
	"its directory $T/keys is writable by group or others \(mode 1777\)" \
	"$(conf keys "key_file = $T/keys/secmgt.keys")"
chmod 0755 "$T/keys"
mkdir -m 0777 "$T/open" && mkdir -m 0700 "$T/open/inner"
cp -p "$T/secmgt.keys" "$T/open/inner/secmgt.keys"
refuses_start "a key file below a world-writable (non-sticky) directory: refused" \
	"directory $T/open on the way to it is writable by group or others" \
	"$(conf keys2 "key_file = $T/open/inner/secmgt.keys")"
chown 40009 "$T/open" && chmod 0755 "$T/open"
refuses_start "a key file below a directory another user owns: refused" \
	"directory $T/open on the way to it is owned by uid 40009" \
	"$(conf keys2 "key_file = $T/open/inner/secmgt.keys")"

sema_start "$T" || not_ok "sema starts again once its files are its own"
check "with every file its own again, the agent starts and serves" ctl status
sema_stop

# ---- the manager's store -------------------------------------------------------
# sem keeps a store too (sem.db); it starts without an RDMA port.
mkdir -p "$T/sem/state" && chmod 0755 "$T/sem" "$T/sem/state"
printf '%s\n' "[sem]" "control_socket = $T/sem/sem.sock" "state_dir = $T/sem/state" \
	"key_file = $T/secmgt.keys" "port_retry = 60s" >"$T/sem.conf"
chmod 0777 "$T/sem/state"
out=$(timeout 20 "$SEM" --foreground --config "$T/sem.conf" 2>&1)
check "the manager refuses a world-writable state directory at start" \
	grep -q "state directory $T/sem/state: mode 0777" <<<"$out" || diag "sem said: $out"
chmod 0755 "$T/sem/state"
touch "$T/sem/state/sem.db" && chown 40011 "$T/sem/state/sem.db"
out=$(timeout 20 "$SEM" --foreground --config "$T/sem.conf" 2>&1)
check "the manager refuses a sem.db owned by another user" \
	grep -q "$T/sem/state/sem.db: owned by uid 40011" <<<"$out" || diag "sem said: $out"

# ---- keys out of core dumps ---------------------------------------------------
# An agent run by a plain uid: were it dumpable, its /proc/PID/status and
# environ would belong to that uid, and the uid could read its memory.
U=40020
mkdir "$T/u"
sema_setup "$T/u" "log_level = info" || not_ok "a key file for uid $U"
chown -R "$U:$U" "$T/u" && chmod 0700 "$T/u/state"
(asbg "$U" "$SEMA" --foreground --config "$T/u/ias.conf" >"$T/u.log" 2>&1) &
UPID=$!
PIDS+=($UPID)
for _ in $(seq 100); do grep -q "ready" "$T/u.log" && break; sleep 0.1; done
check "an agent run by uid $U starts" grep -q ready "$T/u.log"
check "it is not dumpable: its /proc entries belong to root, not to uid $U" \
	test "$(stat -c %u "/proc/$UPID/status")" = 0
check "its own uid cannot read its memory or environment" \
	bash -c "! setpriv --reuid=$U --regid=$U --clear-groups cat /proc/$UPID/environ >/dev/null 2>&1"
kill "$UPID" 2>/dev/null
export IAS_SOCKET=$T/sema.sock
tap_done
