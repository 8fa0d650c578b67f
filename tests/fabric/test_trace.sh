#!/usr/bin/env bash
# Fabric tier: trace-back along the paper's three-node chain
#   P1@n1 --QP1(0x101)--(0x202)QP2-- P2@n2 --QP3(0x203)--(0x304)QP4-- P3@n3
# A report on P3 at n3 must block P3, P2 and P1 (each conspirator's libias
# connection receives its pause orders), leave an innocent process on n2
# alone, record one incident id on every node, survive 30% MAD loss on a
# link, report a dead agent as unreachable, and keep blocks and incident
# across an agent restart. Agents that do not serve Set(Trace) are a failure.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
. "${top_srcdir:-.}/tests/fabric/bed.sh"

bed_up --trace n1 n2 n3

L1=$(bed_lid n1)
L2=$(bed_lid n2)
L3=$(bed_lid n3)



# --- 1. the basic chain ---------------------------------------------------
bed_chain p 0x101 0x202 0x203 0x304
check "conspirators registered their QPs" test $? -eq 0
bed_spawn n2 innocent "$BED_TC" register-sim "0x2f0:$L1:0x1f0"
bed_wait_for "$BED/n2/innocent.out" '^registered 1' 10
P3=$(bed_spawn_pid n3 p3)
bed_iasctl n3 report --pid "$P3" --reason "fabric test" >/dev/null
check "report on P3 at n3 accepted" test $? -eq 0
bed_wait_orders n3 p3 "0x304 " 15
check "P3 (QP4) paused" test "$(bed_orders n3 p3)" = "0x304 "
bed_wait_orders n2 p2 "0x202 0x203 " 30
check "P2 (QP2, QP3) paused by the trace" test "$(bed_orders n2 p2)" = "0x202 0x203 "
bed_wait_orders n1 p1 "0x101 " 30
check "P1 (QP1) paused by the trace" test "$(bed_orders n1 p1)" = "0x101 "
sleep 1
check "the innocent process on n2 got no order" bash -c '! grep -q "^order" "$1"' _ "$BED/n2/innocent.out"
I3=$(bed_incident_of n3 "$P3")
I2=$(bed_incident_of n2 "$(bed_spawn_pid n2 p2)")
I1=$(bed_incident_of n1 "$(bed_spawn_pid n1 p1)")
check "one incident id on every node ($I3)" test -n "$I3" -a "$I3" = "$I2" -a "$I3" = "$I1"
check "n2's block came from the trace" grep -q trace <<<\
	"$(bed_iasctl n2 blocks list --incident "$I3")"
check "n2 records the trace hop in the incident" \
	bash -c 'grep -qi "trace" <<<"$1"' _ "$(bed_iasctl n2 incidents show "$I3")"

# --- 2. restart: blocks and incident survive ---------------------------------
before=$(bed_iasctl n2 blocks list --incident "$I3" | tail -n +2 | awk '{print $1, $4}' | sort)
bed_agent_stop n2 TERM
bed_agent_start n2
check "n2's agent restarted" test $? -eq 0
after=$(bed_iasctl n2 blocks list --incident "$I3" | tail -n +2 | awk '{print $1, $4}' | sort)
check "n2's blocks are back after the restart" test -n "$before" -a "$before" = "$after"
check "n2's incident is intact after the restart" \
	bash -c 'grep -q "$2" <<<"$1" && grep -qi trace <<<"$1"' _ "$(bed_iasctl n2 incidents show "$I3")" "$I3"

# --- 3. 30% MAD loss on n2's link -------------------------------------------
bed_console 'Error "n2"[1] 30'
bed_chain q 0x111 0x212 0x213 0x314
Q3=$(bed_spawn_pid n3 q3)
bed_iasctl n3 report --pid "$Q3" --reason "lossy link" >/dev/null
bed_wait_orders n2 q2 "0x212 0x213 " 60
check "with 30% loss on n2's link, P2' is still paused" test "$(bed_orders n2 q2)" = "0x212 0x213 "
bed_wait_orders n1 q1 "0x111 " 60
check "... and the trace still reaches P1'" test "$(bed_orders n1 q1)" = "0x111 "
bed_console 'Error "n2"[1] 0'

# --- 4. an agent dead mid-trace --------------------------------------------
bed_chain r 0x121 0x222 0x223 0x324
bed_agent_stop n1 KILL
R3=$(bed_spawn_pid n3 r3)
bed_iasctl n3 report --pid "$R3" --reason "dead peer" >/dev/null
bed_wait_orders n2 r2 "0x222 0x223 " 30
check "with n1's agent dead, P2'' is still paused" test "$(bed_orders n2 r2)" = "0x222 0x223 "
IR=$(bed_incident_of n3 "$R3")
for i in $(seq 1 300); do
	bed_iasctl n2 incidents show "$IR" 2>/dev/null | grep -qi unreachable && break
	sleep 0.1
done
check "n2 records n1 as unreachable in the incident" \
	bash -c 'grep -qi unreachable <<<"$1"' _ "$(bed_iasctl n2 incidents show "$IR")"

[ "$tap_failed" -eq 0 ] || bed_dump_logs
bed_cleanup
tap_done
