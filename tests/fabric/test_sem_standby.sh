#!/usr/bin/env bash
# Fabric tier: the manager's active/standby roles (issue 3) on the simulated
# fabric. Two managers: the bed's sem beside the master OpenSM (active) and
# sem2 on its own HCA whose sm_guid names a port that is not the master SM's
# (standby). A second, real OpenSM in STANDBY cannot run under ibsim (see
# docs/fabric-bed.md, "Active/standby on the bed"), so the handover is done by
# restarting sem2 naming the master SM's GUID, which is what sem sees when
# OpenSM's own election makes its SM the master.
#   - sem2 reports role standby (fabric status) and pushes no policy: no
#     Set(Policy) from it, the agents' policy version, content and manager
#     LID stay those of the active manager, even after a policy is set on it;
#   - it still receives and acknowledges reports (an agent configured to
#     report to it: each report held exactly once, the outbox acknowledged);
#   - handover: sem2 becomes active, pushes its policy, agents learn its LID
#     from its Set(Policy), a report made afterwards reaches it exactly once,
#     and it then holds every agent's reports (those the old manager took by
#     Get(Report)) exactly once.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
. "${top_srcdir:-.}/tests/fabric/bed.sh"

command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 (the command) not installed"
[ -x "$BED_SEM" ] || skip_all "sem not built"

bed_up --sem --bare sem2 n1 n2
[ "$BED_SEM_UP" = 1 ] || bed_fail "the bed's sem is the active manager"
ok "the bed's sem is the active manager (beside the master OpenSM, $(bed_sm_guid))"

L1=$(bed_lid n1)
L2=$(bed_lid n2)
LS=$(bed_sem_lid)

# agent_state MGR NODE: the AGENT and POLICY columns in MGR's view.
agent_state() { bed_semctl_on "$1" fabric status 2>/dev/null | awk -v n="$2" '$1 == n { print $5, $6, $7 }'; }
reachable() { local m=$1 n; shift; for n in "$@"; do agent_state "$m" "$n" | grep -q '^reachable' || return 1; done; }
policy_on() { bed_iasctl "$1" policy show 2>/dev/null | grep -Eq "^policy_version +$2\$"; }
policy_everywhere() { local v=$1 n; shift; for n in "$@"; do policy_on "$n" "$v" || return 1; done; }
hop_limit_of() { bed_iasctl "$1" policy show 2>/dev/null | awk '$1 == "hop_limit" { print $2 }'; }
pushes() { grep -c 'pushing policy version' "$BED/$1/sem.log" 2>/dev/null; }
fabric_sets() { grep -c 'policy version .* set over the fabric' "$BED/$1/sema.log" 2>/dev/null; }
manager_of() { sed -n 's/.*report_manager_seen: manager at LID \([0-9]*\)$/\1/p' "$BED/$1/sema.log" | tail -1; }
# has_reports NODE N: NODE's outbox has more than N reports.
has_reports() { [ "$(bed_outbox "$1" | wc -l)" -gt "$2" ]; }
# report_on NODE TAG QPN PEER_LID PEER_QPN: a process with one QP, reported.
report_on() {
	local n=$1 t=$2 p
	bed_spawn "$n" "$t" "$BED_TC" register-sim "$3:$4:$5"
	bed_wait_for "$BED/$n/$t.out" '^registered 1' 10 || return 1
	p=$(bed_spawn_pid "$n" "$t") || return 1
	bed_iasctl "$n" report --pid "$p" --reason "standby test $t" >/dev/null
}

# --- 1. the standby manager -------------------------------------------------------
bed_wait_until 20 reachable sem n1 n2 && bed_wait_until 20 policy_everywhere 1 n1 n2
check "the active manager reaches n1, n2 and its policy (version 1) is on both" test $? -eq 0
for n in n1 n2; do bed_wait_until 10 test "$(manager_of $n)" = "$LS"; done
check "both agents report to the active manager (LID $LS)" \
	test "$(manager_of n1) $(manager_of n2)" = "$LS $LS"
HOP0=$(hop_limit_of n1)

# sm_guid = auto: sem2's own port, where no SM runs, so never the master.
bed_sem_on sem2 auto standby
check "sem2 started beside a non-master port (sm_guid auto)" test $? -eq 0
LS2=$(bed_sem_on_lid sem2)
check "sem2 says 'Manager: standby' (iasctl --manager fabric status)" test "$(bed_sem_role sem2)" = standby
bed_wait_until 20 reachable sem2 n1 n2
check "the standby keeps discovering: it reaches the agents on n1, n2" test $? -eq 0
check "the master SM it sees is the bed's OpenSM, not its own port" bash -c '
	grep -q "GUID $(printf "0x%016x" "$1")," <<<"$2"' _ "$(bed_sm_guid)" "$(bed_semctl_on sem2 fabric status | head -1)"
bed_semctl_on sem2 policy set hop_limit=9 >/dev/null
check "a policy set on the standby is stored there (version 2)" \
	bash -c 'grep -Eq "policy version 2" <<<"$1"' _ "$(bed_semctl_on sem2 fabric status | head -1)"
check "bed_sem_role says active for the bed's sem" test "$(bed_sem_role sem)" = active
sets1=$(fabric_sets n1); sets2=$(fabric_sets n2)

# --- 2. reports to the standby ----------------------------------------------------
# n2 reports to the standby (manager_lid in its config); n1 to the active one.
echo "manager_lid = $LS2" >>"$BED/n2/ias.conf"
bed_agent_stop n2 TERM
bed_agent_start n2
check "n2 restarted, reporting to the standby (manager_lid $LS2)" test $? -eq 0
bed_spawn n1 t "$BED_TC" register-sim "0x101:$L2:0x202"
bed_wait_for "$BED/n1/t.out" '^registered 1' 10
report_on n2 s 0x202 "$L1" 0x101
check "a process on n2 reported (its peer is on n1)" test $? -eq 0
bed_wait_until 30 has_reports n1 0
bed_wait_until 30 bed_in_sync sem2 n2
check "the standby holds n2's reports exactly once" bed_in_sync sem2 n2
bed_wait_until 10 bed_delivered n2
check "... and acknowledged them: n2's outbox has nothing undelivered" bed_delivered n2
bed_wait_until 20 bed_in_sync sem n1
check "n1's reports (the trace's far end) reach the active manager exactly once" bed_in_sync sem n1

# --- 3. the standby pushed nothing -------------------------------------------------
check "no Set(Policy) from the standby (its log: $(pushes sem2) pushes)" test "$(pushes sem2)" = 0
check "the agents keep the active manager's policy: version 1 on n1 and n2" policy_everywhere 1 n1 n2
check "... hop_limit unchanged ($HOP0) on n1 and n2" test "$(hop_limit_of n1) $(hop_limit_of n2)" = "$HOP0 $HOP0"
check "no Set(Policy) reached the agents meanwhile (n1: $sets1 -> $(fabric_sets n1), n2: $sets2 -> $(fabric_sets n2))" \
	test "$(fabric_sets n1) $(fabric_sets n2)" = "$sets1 $sets2"
check "n1 still reports to the active manager (LID $LS)" test "$(manager_of n1)" = "$LS"

# --- 4. handover ------------------------------------------------------------------
# What OpenSM's election does for sem2 (its SM becomes the master) is done by
# naming the master SM's GUID; the old master's manager goes away with its node.
bed_sem_stop TERM
bed_sem_on_stop sem2 TERM
bed_sem_on sem2 "$(bed_sm_guid)" active
check "handover: sem2 is active once its SM is the master" test "$(bed_sem_role sem2)" = active
bed_wait_until 30 policy_everywhere 2 n1 n2
check "it pushes its policy: version 2 on n1 and n2" test $? -eq 0
check "... with its content (hop_limit 9)" test "$(hop_limit_of n1) $(hop_limit_of n2)" = "9 9"
check "Set(Policy) from sem2 now ($(pushes sem2) pushes)" test "$(pushes sem2)" -gt 0
bed_wait_until 20 test "$(manager_of n1)" = "$LS2"
check "n1 learnt the new manager's LID ($LS2) from its Set(Policy)" test "$(manager_of n1)" = "$LS2"
N1=$(bed_outbox n1 | wc -l)
report_on n1 h 0x111 "$L2" 0x212
check "a process on n1 reported after the handover" test $? -eq 0
bed_wait_until 30 has_reports n1 "$N1"
bed_wait_until 30 bed_in_sync sem2 n1 n2
check "the new active manager holds every report of n1 and n2 exactly once" bed_in_sync sem2 n1 n2
check "... and every outbox is acknowledged" bed_delivered n1 n2

[ "$tap_failed" -eq 0 ] || { bed_dump_logs; tail -40 "$BED/sem2/sem.log" | sed 's/^/#   /'; }
bed_cleanup
tap_done
