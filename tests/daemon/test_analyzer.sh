#!/usr/bin/env bash
# Daemon tier: the real ias-analyzer daemon beside a real sema, on real
# process trees this test creates. Every tree hangs under a dedicated root
# process of the test, so no search (LCA included) can reach anything
# outside it; the analyzer also never reports its own ancestors (this shell).
# Each tree runs in a process group of its own (setsid), killed as a whole.
#
#   tree A (sibling):  PA ── w1 w2 w3 (one program)  + o1 (another program)
#   tree B (lca):      RB ── SB1 ── c1, x1
#                         └─ SB2 ── c2
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"

AZREP=$top_builddir/tests/daemon/az_report	# REPORT_ATTACK joining an incident
T=$(mktemp -d /tmp/ias-analyzer.XXXXXX)
chmod 755 "$T"
ROOTS=()
AZ_PID=
cleanup() {
	az_stop
	sema_stop
	for p in "${ROOTS[@]}"; do kill_tree "$p"; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' TERM INT HUP
# kill_tree ROOT: the tree's process group (setsid made ROOT its leader).
kill_tree() { kill -9 -- "-$1" 2>/dev/null; }

json() { "$IASCTL" --socket "$T/sema.sock" -o json "$@"; }
ctl() { "$IASCTL" --socket "$T/sema.sock" "$@"; }
field() { sed -n "s/.*\"$2\": *\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$1" | head -1; }
# Active blocked PIDs among the arguments, ascending, space-separated.
blocked_among() {
	local list p out=
	list=$(json blocks list)
	for p in "$@"; do
		grep -q "\"pid\": *$p[,}]" <<<"$list" && out="$out $p"
	done
	sorted $out
}
sorted() { printf '%s\n' "$@" | sort -n | tr '\n' ' ' | sed 's/ *$//'; }
# wait_log PATTERN: until the analyzer log matches (10 s at most).
wait_log() {
	local i
	for i in $(seq 100); do grep -q "$1" "$T/az.log" && return 0; sleep 0.1; done
	return 1
}
# wait_blocked "PIDS" CANDIDATES...: until exactly PIDS are blocked (10 s).
wait_blocked() {
	local want=$1 i
	shift
	for i in $(seq 100); do
		[ "$(blocked_among "$@")" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

az_start() { # az_start LEVEL [extra --set args...]: start it, wait until it is ready
	local level=$1
	shift
	: >"$T/az.log"
	daemon_start --name ias-analyzer --log "$T/az.log" --ready "grep -q ' ready: level' '$T/az.log'" \
		-- "$AZ" daemon --foreground --set control_socket="$T/sema.sock" --set level="$level" \
		--set log_level=debug --set reconnect_interval=200ms "$@" || not_ok "the analyzer starts (level $level)"
	AZ_PID=$DAEMON_PID
}
az_stop() {
	daemon_stop "${AZ_PID:-}"
	AZ_PID=
}
release_all() { ctl blocks release --pid "$1" >/dev/null 2>&1; }

# A private root running a shell script (its children are the tree).
cp /bin/sleep "$T/worker"
cp /bin/sleep "$T/other"
cp /bin/sleep "$T/innocent"
tree_a() {
	rm -f "$T"/a.*
	setsid bash -c 'd=$0
		for i in 1 2 3; do "$d/worker" 600 & echo $! >>"$d/a.w"; done
		"$d/other" 600 & echo $! >"$d/a.o"
		echo $$ >"$d/a.root"; wait' "$T" >/dev/null 2>&1 </dev/null &
	ROOTS+=($!)
	for i in $(seq 50); do [ -s "$T/a.root" ] && [ "$(wc -l <"$T/a.w" 2>/dev/null)" = 3 ] && [ -s "$T/a.o" ] && break; sleep 0.1; done
	PA=$(cat "$T/a.root"); ROOTS+=("$PA"); mapfile -t W <"$T/a.w"; O1=$(cat "$T/a.o")
}
tree_b() {
	rm -f "$T"/b.*
	setsid bash -c 'd=$0
		bash -c "\"$d/worker\" 600 & echo \$! >$d/b.c1; \"$d/innocent\" 600 & echo \$! >$d/b.x1; echo \$\$ >$d/b.s1; wait" &
		bash -c "\"$d/worker\" 600 & echo \$! >$d/b.c2; echo \$\$ >$d/b.s2; wait" &
		echo $$ >"$d/b.root"; wait' "$T" >/dev/null 2>&1 </dev/null &
	ROOTS+=($!)
	for i in $(seq 50); do
		[ -s "$T/b.root" ] && [ -s "$T/b.c1" ] && [ -s "$T/b.x1" ] && [ -s "$T/b.c2" ] &&
			[ -s "$T/b.s1" ] && [ -s "$T/b.s2" ] && break
		sleep 0.1
	done
	RB=$(cat "$T/b.root"); ROOTS+=("$RB"); SB1=$(cat "$T/b.s1"); SB2=$(cat "$T/b.s2")
	C1=$(cat "$T/b.c1"); C2=$(cat "$T/b.c2"); X1=$(cat "$T/b.x1")
}

# ---- configuration --------------------------------------------------------------
check "daemon --print-config prints the [analyzer] section" \
	bash -c "'$AZ' daemon --set level=lca,sibling --print-config | grep -q '^level = sibling,lca'"
check "--daemon is the same mode" bash -c "'$AZ' --daemon --print-config | grep -q '^\[analyzer\]'"
check "a bad level is refused" bash -c "! '$AZ' daemon --set level=cousins --print-config 2>/dev/null"
check "a bad auto_release is refused" bash -c "! '$AZ' daemon --set auto_release=soon --print-config 2>/dev/null"
printf '[analyzer]\nbogus = 1\n' >"$T/bad.conf"
check "an unknown key is refused with file:line" \
	bash -c "! '$AZ' daemon --config '$T/bad.conf' --print-config 2>'$T/err' && grep -q 'bad.conf:2' '$T/err'"
if command -v selinuxenabled >/dev/null && selinuxenabled; then
	ok "# SKIP SELinux is enabled here: the selinux level is allowed"
else
	check "level selinux without SELinux: a start-up error that says why" \
		bash -c "! '$AZ' daemon --set level=selinux --set control_socket='$T/none.sock' 2>'$T/err' && grep -qi 'selinux.*not enabled' '$T/err'"
fi

sema_setup "$T" "block_duration = 1h" "never_block_exe = $T/other" || skip_all "cannot prepare a key file"
sema_start "$T" || { not_ok "sema starts"; tap_done; exit 1; }

# ---- sibling level ---------------------------------------------------------------
tree_a
az_start sibling
wait_log "connected to the agent" && ok "the analyzer connects and subscribes" || not_ok "the analyzer connects and subscribes"
out=$(json report --pid "${W[0]}" --reason "detector: bad traffic")
INC=$(field "$out" incident_id)
ALL_A=("$PA" "${W[@]}" "$O1")
want=$(sorted "${W[@]}")
wait_blocked "$want" "${ALL_A[@]}"
check "sibling: exactly the 3 workers are blocked (not the other program, not the parent)" \
	test "$(blocked_among "${ALL_A[@]}")" = "$want"
show=$(ctl incidents show "$INC")
check "incident shows the sibling reason for W2" grep -q "sibling of ${W[0]} running the same program" <<<"$show"
check "the analyzer's blocks joined the reported incident" \
	test "$(json blocks list --incident "$INC" | grep -o '"pid"' | wc -l)" -eq 3
b=$(json blocks list --pid "${W[1]}")
check "the analyzer's blocks have origin analyzer" grep -q '"origin": *"analyzer"' <<<"$b"
wait_log "alert: PID ${W[1]}, incident $INC (reported by an analyzer"
check "its own reports come back as alerts and start no round" \
	test "$(grep -c "incident $INC: .* seed(s)" "$T/az.log")" -eq 1
for p in "${W[@]}"; do release_all "$p"; done

# never-block: the agent refuses, the analyzer logs it at info and goes on.
rm -f "$T/a.o"; kill -9 "$O1" 2>/dev/null
ctl report --pid "${W[0]}" --reason "again" >/dev/null
wait_blocked "$want" "${W[@]}"
check "a second incident on the same tree blocks the workers again" \
	test "$(blocked_among "${W[@]}")" = "$want"
for p in "${W[@]}"; do release_all "$p"; done
az_stop
kill_tree "$PA"

# A never-blocked sibling: two copies of "other" under one parent.
setsid bash -c 'd=$0; "$d/other" 600 & echo $! >"$d/n.1"; "$d/other" 600 & echo $! >"$d/n.2"; wait' "$T" \
	>/dev/null 2>&1 </dev/null &
ROOTS+=($!)
for i in $(seq 50); do [ -s "$T/n.1" ] && [ -s "$T/n.2" ] && break; sleep 0.1; done
N1=$(cat "$T/n.1"); N2=$(cat "$T/n.2"); ROOTS+=("$(cut -d" " -f4 /proc/$N1/stat)")
az_start sibling
wait_log "connected to the agent"
ctl report --pid "$N1" --override >/dev/null
wait_log "PID $N2 .* not blocked: "
check "a never-block sibling: refused by the agent, logged at info, not blocked" \
	bash -c "grep -q 'info.*PID $N2 .*not blocked' '$T/az.log' && test -z '$(blocked_among "$N2")'"
release_all "$N1"
az_stop

# ---- the worked detector example: a log line naming a PID becomes a report ----------
DET=$top_srcdir/analyzer/examples/journald-detector
setsid "$T/innocent" 600 >/dev/null 2>&1 </dev/null &
VD=$!
ROOTS+=("$VD")
printf 'boot ok\nids: attack detected from pid=%s on port 7\nother pid=%s\n' "$VD" "$$" >"$T/ids.log"
IASCTL="$IASCTL" "$DET" -o -f "$T/ids.log" 'attack detected' 2>"$T/det.err"
check "journald-detector reports the PID its pattern names (and only that one)" \
	bash -c "test '$(blocked_among "$VD" $$)' = '$VD' && grep -q 'reported PID $VD' '$T/det.err'"
check "with the matching line as the reason" \
	bash -c "'$IASCTL' --socket '$T/sema.sock' -o json blocks list --pid $VD | grep -q 'journald-detector: ids: attack detected'"
release_all "$VD"
kill_tree "$VD"

# ---- lca level, and alerts that waited while the analyzer was down -----------------
tree_b
ALL_B=("$RB" "$SB1" "$SB2" "$C1" "$C2" "$X1")
out=$(json report --pid "$C1" --reason "detector: c1")
INC=$(field "$out" incident_id)
"$AZREP" "$T/sema.sock" "$C2" "$INC" "detector: c2" >/dev/null
check "with the analyzer down only the reported two are blocked" \
	test "$(blocked_among "${ALL_B[@]}")" = "$(sorted "$C1" "$C2")"
az_start lca
want=$(sorted "$RB" "$SB1" "$SB2" "$C1" "$C2")
wait_blocked "$want" "${ALL_B[@]}"
check "lca: the LCA root, its children and the reported pair are blocked; the grandchild is not" \
	test "$(blocked_among "${ALL_B[@]}")" = "$want"
show=$(ctl incidents show "$INC")
check "incident shows 'LCA of C1 and C2' for the root" grep -q "LCA of $(sorted "$C1" "$C2" | sed 's/ / and /')" <<<"$show"
check "incident shows 'child of LCA' for the subtree roots" grep -q "child of LCA $RB" <<<"$show"
check "the shell running the test is never blocked" test -z "$(blocked_among $$ "$PPID")"
for p in "${ALL_B[@]}"; do release_all "$p"; done

# ---- the lca pair reported one at a time, with auto-release --------------------------
az_stop
kill_tree "$RB"
tree_b
ALL_B=("$RB" "$SB1" "$SB2" "$C1" "$C2" "$X1")
az_start lca --set auto_release=1s
wait_log "connected to the agent"
out=$(json report --pid "$C1")
INC=$(field "$out" incident_id)
wait_log "incident $INC: 1 seed(s), 0 found"
check "one reported process adds nothing at the lca level" \
	test "$(blocked_among "${ALL_B[@]}")" = "$C1"
"$AZREP" "$T/sema.sock" "$C2" "$INC" >/dev/null
wait_log "incident $INC: 2 seed(s), 3 found"
check "the second report of the incident completes the pair: 3 found" \
	grep -q "incident $INC: 2 seed(s), 3 found" "$T/az.log"
for i in $(seq 100); do
	[ "$(grep -c 'after a clean investigation window' "$T/az.log")" -ge 3 ] && break
	sleep 0.1
done
check "the analyzer blocked the LCA and its children" \
	bash -c "grep -q 'reported PID $RB (LCA of' '$T/az.log' && grep -q 'reported PID $SB1 (child of LCA $RB)' '$T/az.log'"
check "auto-release: the analyzer's blocks are released after the window, the reported ones stay" \
	test "$(blocked_among "${ALL_B[@]}")" = "$(sorted "$C1" "$C2")"
check "auto-release is logged" grep -q "after a clean investigation window" "$T/az.log"

# ---- the agent restarts under the analyzer --------------------------------------------
sema_stop
wait_log "lost the agent"
check "a lost agent is noticed" grep -q "lost the agent" "$T/az.log"
sema_start "$T" >/dev/null
for i in $(seq 50); do [ "$(grep -c 'connected to the agent' "$T/az.log")" -ge 2 ] && break; sleep 0.1; done
check "and reconnected" test "$(grep -c 'connected to the agent' "$T/az.log")" -ge 2
check "the analyzer is still running" kill -0 "$AZ_PID"
az_stop
check "it stops on SIGTERM with a summary" grep -q "stopping: .* reported" "$T/az.log"

tap_done
