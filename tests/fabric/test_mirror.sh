#!/usr/bin/env bash
# Fabric tier: mirror-pair look-ups between agents (issue 11).
#   1. the manager's agent list (Set(AgentList)) reaches every agent;
#   2. a registration naming its real peer is confirmed both ways ("peer"),
#      one naming an innocent peer stays "libias (unconfirmed)";
#   3. a QP known only by (local QPN, remote QPN) -- registered with remote
#      QPN but LID 0 -- is found by the fan-out when a trace needs it, and
#      the trace goes on to its owner;
#   4. two agents holding the mirror make the look-up ambiguous: refused,
#      no trace to either;
#   5. an agent that does not answer bounds the look-up by mirror_timeout.
# Parts 3-5 need the trace module to look mirrors up for a remote end it
# has no address for (branch "trace"); parts 1-2 need only this branch.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
. "${top_srcdir:-.}/tests/fabric/bed.sh"

[ -x "$BED_SEM" ] || skip_all "sem not built"
TIMEOUT_MS=2000

why=$(bed_why_not) || skip_all "$why"
bed_init --sem n1 n2 n3 n4 || bed_fail "bed set up"
for n in n1 n2 n3 n4; do
	printf 'mirror_timeout = %sms\n' "$TIMEOUT_MS" >>"$BED/$n/ias.conf"
done
bed_start || bed_fail "bed started (ibsim, OpenSM, sem, agents)"
[ "$BED_SEM_UP" = 1 ] || bed_fail "sem started and is the active manager"
ok "bed up: OpenSM MASTER, sem active, agents on n1..n4 attached"

L1=$(bed_lid n1)
L2=$(bed_lid n2)
L3=$(bed_lid n3)

# rsrc NODE QPN: where NODE's agent learnt QPN's remote end ("" if none).
rsrc() {
	bed_iasctl "$1" -o json qps list 2>/dev/null |
		jq -r --argjson q "$(($2))" '.. | objects | select(.qpn? == $q) | .remote_source // ""' |
		head -1
}
rlid() {
	bed_iasctl "$1" -o json qps list 2>/dev/null |
		jq -r --argjson q "$(($2))" '.. | objects | select(.qpn? == $q) | .remote_lid // 0' | head -1
}
is_rsrc() { [ "$(rsrc "$1" "$2")" = "$3" ]; }
list_on() { grep -Eq "agent list generation [0-9]+ from the manager: $2 agent" "$BED/$1/sema.log"; }
list_everywhere() { local n; for n in n1 n2 n3 n4; do list_on "$n" 4 || return 1; done; }
paused() { [ "$(bed_orders "$1" "$2")" = "$3" ]; }
ms() { date +%s%3N; }

# --- 1. the agent list ------------------------------------------------------
check "the manager's list of the 4 agents reaches every agent" bed_wait_until 30 list_everywhere

# --- 2. registration-time confirmation --------------------------------------
bed_spawn n1 c1 "$BED_TC" register-sim "0x101:$L2:0x202"
bed_spawn n2 c2 "$BED_TC" register-sim "0x202:$L1:0x101" "0x2f0:$L1:0x1f0"
bed_wait_for "$BED/n1/c1.out" '^registered 1' 10 && bed_wait_for "$BED/n2/c2.out" '^registered 2' 10
check "both ends and an innocent claim registered" test $? -eq 0
check "n1: the claimed remote end is confirmed by n2 (peer+libias)" \
	bed_wait_until 10 is_rsrc n1 0x101 "peer+libias" || diag "n1 0x101: '$(rsrc n1 0x101)'"
check "n2: ... and n2's by n1 (peer+libias)" \
	bed_wait_until 10 is_rsrc n2 0x202 "peer+libias" || diag "n2 0x202: '$(rsrc n2 0x202)'"
sleep 1
check "n2: a claim naming a QP n1 does not have stays unconfirmed" \
	is_rsrc n2 0x2f0 "libias (unconfirmed)" || diag "n2 0x2f0: '$(rsrc n2 0x2f0)'"

# --- 3. found by fan-out -----------------------------------------------------
bed_spawn n1 f1 "$BED_TC" register-sim "0x150:0:0x250"
bed_spawn n3 f3 "$BED_TC" register-sim "0x250:$L1:0x150"
bed_wait_for "$BED/n1/f1.out" '^registered 1' 10 && bed_wait_for "$BED/n3/f3.out" '^registered 1' 10
check "a QP known only by (0x150, remote QP 0x250) registered on n1, its mirror on n3" test $? -eq 0
bed_iasctl n1 report --pid "$(bed_spawn_pid n1 f1)" --reason "mirror test: find" >/dev/null
bed_wait_orders n3 f3 "0x250 " 20
check "the trace found the mirror on n3 by fan-out and paused its owner" paused n3 f3 "0x250 "
S150=$(rsrc n1 0x150) R150=$(rlid n1 0x150)
check "n1 learnt the remote end from the look-up (source '$S150', LID $R150, n3 is $L3)" \
	bash -c '[[ "$1" == *mirror* ]] && [ "$2" = "$3" ]' _ "$S150" "$R150" "$L3"

# --- 4. ambiguous ----------------------------------------------------------------
bed_spawn n1 a1 "$BED_TC" register-sim "0x160:0:0x260"
bed_spawn n2 a2 "$BED_TC" register-sim "0x260:$L1:0x160"
bed_spawn n3 a3 "$BED_TC" register-sim "0x260:$L1:0x160"
bed_wait_for "$BED/n1/a1.out" '^registered 1' 10 && bed_wait_for "$BED/n2/a2.out" '^registered 1' 10 &&
	bed_wait_for "$BED/n3/a3.out" '^registered 1' 10
check "QP 0x160 on n1 with two mirrors (n2 and n3) registered" test $? -eq 0
bed_iasctl n1 report --pid "$(bed_spawn_pid n1 a1)" --reason "mirror test: ambiguous" >/dev/null
bed_wait_for "$BED/n1/sema.log" 'mirror of QP [^ ]*/0x160 .*2 agents hold it; refused' 15
check "n1 refuses the ambiguous look-up (logged)" test $? -eq 0
sleep 1
check "neither candidate was traced" bash -c '[ -z "$1$2" ]' _ "$(bed_orders n2 a2)" "$(bed_orders n3 a3)"
S160=$(rsrc n1 0x160)
check "n1 learnt no remote end for 0x160 (source '$S160')" \
	bash -c '[ -n "$1" ] && [[ "$1" != *mirror* ]]' _ "$S160"

# --- 5. an agent that does not answer ------------------------------------------
P4=$(bed_agent_pid_host n4)
kill -STOP "$P4"
bed_spawn n1 t1 "$BED_TC" register-sim "0x170:0:0x270"
bed_spawn n2 t2 "$BED_TC" register-sim "0x270:$L1:0x170"
bed_wait_for "$BED/n1/t1.out" '^registered 1' 10 && bed_wait_for "$BED/n2/t2.out" '^registered 1' 10
check "QP 0x170 on n1, its mirror on n2, n4's agent stopped" test $? -eq 0
t0=$(ms)
bed_iasctl n1 report --pid "$(bed_spawn_pid n1 t1)" --reason "mirror test: silent agent" >/dev/null
bed_wait_orders n2 t2 "0x270 " 20
el=$(($(ms) - t0))
check "with n4 silent the look-up still finds n2 and the trace goes on" paused n2 t2 "0x270 "
check "... after mirror_timeout and not much later ($el ms for ${TIMEOUT_MS} ms)" \
	test "$el" -ge $((TIMEOUT_MS - 100)) -a "$el" -le $((TIMEOUT_MS + 3000))
kill -CONT "$P4"

[ "$tap_failed" -eq 0 ] || bed_dump_logs
bed_cleanup
tap_done
