#!/usr/bin/env bash
# Fabric tier: the manager (sem) beside OpenSM on the simulated fabric.
#   discovery finds every agent; the fabric policy reaches every agent (and
#   one that joins later); agents learn the manager's LID; the three-node
#   chain trace reaches the manager as every node's reports, exactly once,
#   and `iasctl --manager incidents show` draws it (text and --dot); with sem
#   down a trace still completes agent to agent and, once sem is back, it
#   holds every report exactly once (compared with the agents' outboxes);
#   sem restarted on an empty state dir rebuilds everything from the agents.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
. "${top_srcdir:-.}/tests/fabric/bed.sh"

command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 (the command) not installed"
[ -x "$BED_SEM" ] || skip_all "sem not built"

# n4 joins later: its namespaces exist from the start, its agent does not.
bed_up --trace --sem --bare n4 n1 n2 n3
[ "$BED_SEM_UP" = 1 ] || bed_fail "sem started and is the active manager"
ok "sem started and is the active manager (sm_guid $(bed_sm_guid))"

L1=$(bed_lid n1)
L2=$(bed_lid n2)
L3=$(bed_lid n3)
LS=$(bed_sem_lid)

fstatus() { bed_semctl fabric status 2>/dev/null; }
# agent_state NODE: its AGENT and POLICY columns in the manager's view.
agent_state() { fstatus | awk -v n="$1" '$1 == n { print $5, $6, $7 }'; }
reachable() { local n; for n in "$@"; do agent_state "$n" | grep -q '^reachable' || return 1; done; }
policy_on() { # NODE VERSION: the agent itself shows it
	bed_iasctl "$1" policy show 2>/dev/null | grep -Eq "^policy_version +$2\$"
}
policy_everywhere() { local v=$1 n; shift; for n in "$@"; do policy_on "$n" "$v" || return 1; done; }
paused() { [ "$(bed_orders "$1" "$2")" = "$3" ]; }

# --- 1. discovery and policy --------------------------------------------------
bed_wait_until 20 reachable n1 n2 n3
check "discovery: the manager reaches the agents on n1, n2, n3" test $? -eq 0
check "the CAs without an agent (sem, probe, n4) are not taken for agents" \
	bash -c '! grep -Eq "^(sem|probe|n4) .* reachable" <<<"$1"' _ "$(fstatus)"
bed_wait_until 20 policy_everywhere 1 n1 n2 n3
check "every agent holds the manager's policy (version 1)" test $? -eq 0
for n in n1 n2 n3; do
	bed_wait_until 10 grep -q "manager at LID $LS\$" "$BED/$n/sema.log"
	check "$n learnt the manager's LID ($LS) from its Set(Policy)" test $? -eq 0
done
bed_semctl policy set hop_limit=12 level=sibling >/dev/null
check "policy set through the manager" test $? -eq 0
bed_wait_until 20 policy_everywhere 2 n1 n2 n3
check "version 2 reaches every agent" test $? -eq 0
check "... with its content (hop_limit 12, level sibling on n2)" \
	bash -c 'grep -Eq "^hop_limit +12$" <<<"$1" && grep -Eq "^level +sibling$" <<<"$1"' _ \
	"$(bed_iasctl n2 policy show)"
bed_agent_start n4
bed_wait_until 20 reachable n4
check "an agent that joins later (n4) is discovered" test $? -eq 0
bed_wait_until 20 policy_everywhere 2 n4
check "... and gets the fabric policy (version 2)" test $? -eq 0
n4_current() { [ "$(agent_state n4)" = "reachable v2 current" ]; }
bed_wait_until 10 n4_current
check "the manager shows n4's policy as current" test "$(agent_state n4)" = "reachable v2 current"

# --- 2. the chain trace, as the manager sees it ---------------------------------
bed_chain p 0x101 0x202 0x203 0x304
check "conspirators registered their QPs" test $? -eq 0
bed_spawn n2 innocent "$BED_TC" register-sim "0x2f0:$L1:0x1f0"
bed_wait_for "$BED/n2/innocent.out" '^registered 1' 10
P1=$(bed_spawn_pid n1 p1)
P2=$(bed_spawn_pid n2 p2)
P3=$(bed_spawn_pid n3 p3)
bed_iasctl n3 report --pid "$P3" --reason "fabric test" >/dev/null
bed_wait_until 30 paused n1 p1 "0x101 "
check "the trace paused P1 at the far end of the chain" paused n1 p1 "0x101 "
I=$(bed_incident_of n3 "$P3")
bed_wait_until 20 bed_in_sync sem n1 n2 n3
check "the manager holds every node's reports, exactly once" bed_in_sync sem n1 n2 n3
check "... and every agent's outbox is acknowledged" bed_delivered n1 n2 n3
check "the innocent process on n2 got no order" bash -c '! grep -q "^order" "$1"' _ "$BED/n2/innocent.out"
tree=$(bed_semctl incidents show "$I" 2>&1)
check "incidents show $I from the manager" test $? -eq 0
printf '%s\n' "$tree" | sed 's/^/#   /'
check "the tree names n1, n2, n3 and their PIDs" bash -c '
	for w in "$@"; do grep -q -- "$w" <<<"$0" || exit 1; done' "$tree" \
	"- n1" "- n2" "- n3" "pid $P1" "pid $P2" "pid $P3"
check "the tree shows the hops' QPs (n3 -> n2 qp 0x203, n2 -> n1 qp 0x101)" bash -c '
	grep -q "traced to n2 (LID $2) qp 0x203" <<<"$0" && grep -q "traced to n1 (LID $1) qp 0x101" <<<"$0"' \
	"$tree" "$L1" "$L2"
check "the innocent process is not in the tree" bash -c '! grep -q "pid $2[^0-9]" <<<"$1"' _ "$tree" \
	"$(bed_spawn_pid n2 innocent)"
dot=$(bed_semctl incidents show "$I" --dot 2>&1)
# The manager's hop events name the node each trace went to (PEER_NODE), so
# the edges are exactly the trace's hops.
check "--dot gives a Graphviz digraph: a box for n1, n2, n3 and the edges n3 -> n2 -> n1" bash -c '
	grep -q "^digraph" <<<"$0" && grep -q "^}" <<<"$0" &&
	for n in n1 n2 n3; do grep -q "^	\"$n\" \[label=" <<<"$0" || exit 1; done &&
	grep -q -- "\"n3\" -> \"n2\"" <<<"$0" && grep -q -- "\"n2\" -> \"n1\"" <<<"$0" &&
	[ "$(grep -c -- " -> " <<<"$0")" -eq 2 ]' "$dot"

# --- 3. sem down during an incident ---------------------------------------------
bed_sem_stop KILL
check "sem stopped (killed)" test ! -S "$BED/sem/sem.sock" -o -z "$(fstatus)"
bed_chain q 0x111 0x212 0x213 0x314
Q3=$(bed_spawn_pid n3 q3)
bed_iasctl n3 report --pid "$Q3" --reason "manager down" >/dev/null
q_paused() { [ "$(tr -d " " <<<"$(bed_orders n3 q3)$(bed_orders n2 q2)$(bed_orders n1 q1)")" = 0x3140x2120x2130x111 ]; }
bed_wait_until 30 q_paused
check "with sem down, the trace still completes agent to agent" q_paused ||
	diag "orders seen: n3 [$(bed_orders n3 q3)] n2 [$(bed_orders n2 q2)] n1 [$(bed_orders n1 q1)]"
IQ=$(bed_incident_of n3 "$Q3")
check "the agents keep the reports queued meanwhile" \
	test "$(( $(bed_undelivered n1) + $(bed_undelivered n2) + $(bed_undelivered n3) ))" -gt 0
bed_sem_start
check "sem restarted" test $? -eq 0
all_in() { bed_in_sync sem n1 n2 n3 && bed_delivered n1 n2 n3; }
bed_wait_until 40 all_in
check "after the restart the manager holds every report exactly once (no gap, no duplicate)" \
	bed_in_sync sem n1 n2 n3
check "... and every outbox is acknowledged" bed_delivered n1 n2 n3
tq=$(bed_semctl incidents show "$IQ" 2>&1)
check "the manager shows incident $IQ on all three nodes" bash -c '
	grep -q -- "- n1" <<<"$1" && grep -q -- "- n2" <<<"$1" && grep -q -- "- n3" <<<"$1"' _ "$tq"

# --- 4. sem restarted on an empty state dir --------------------------------------
bed_sem_stop TERM
bed_sem_start --fresh
check "sem restarted with an empty state dir" test $? -eq 0
bed_wait_until 40 bed_in_sync sem n1 n2 n3
check "it rebuilt every node's reports from the agents (Get(Report))" bed_in_sync sem n1 n2 n3
check "both incidents are listed again" bash -c '
	grep -q "$1" <<<"$3" && grep -q "$2" <<<"$3"' _ "$I" "$IQ" "$(bed_semctl incidents list 2>&1)"
via=$(sqlite3 -readonly "$BED/sem/state/sem.db" 'SELECT via, count(*) FROM reports GROUP BY via' 2>&1)
check "the rebuilt reports came by Get(Report), not as new Reports ($(echo $via))" \
	test "$(echo $via)" = "2|$(( $(bed_outbox n1 | wc -l) + $(bed_outbox n2 | wc -l) + $(bed_outbox n3 | wc -l) ))"
bed_wait_until 20 policy_everywhere 1 n1 n2 n3 n4
check "its (configured) policy version 1 is pushed to every agent again" test $? -eq 0

[ "$tap_failed" -eq 0 ] || { bed_dump_logs; tail -40 "$BED/sem/sem.log" | sed 's/^/#   /'; }
bed_cleanup
tap_done
