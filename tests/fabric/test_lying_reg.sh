#!/usr/bin/env bash
# Fabric tier: a registration that lies about its remote end (issue 11 item
# 6, the red-team case), and a Trace for a QP not connected to its sender
# (issue 12 item 3).
#   innocent@n1 QP 0x1b0 <---> QP 0x2b0 partner@n2   (a real pair, both registered)
#   liar@n2     QP 0x2a0 claims "lid n1, qp 0x1b0"     (the innocent's QP: a lie)
# Reporting the liar blocks it on n2 and nothing on n1; the incident shows
# the unconfirmed claim. A raw authenticated Trace (secmgt_probe, holding the
# fabric key) naming the innocent's QP from a sender it is not connected to
# is refused "not-connected": counted, and nothing is blocked on n1.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
. "${top_srcdir:-.}/tests/fabric/bed.sh"

bed_up --trace n1 n2

L1=$(bed_lid n1)
L2=$(bed_lid n2)

bed_spawn n1 innocent "$BED_TC" register-sim "0x1b0:$L2:0x2b0"
bed_spawn n2 partner "$BED_TC" register-sim "0x2b0:$L1:0x1b0"
bed_spawn n2 liar "$BED_TC" register-sim "0x2a0:$L1:0x1b0"
bed_wait_for "$BED/n1/innocent.out" '^registered 1' 10 &&
	bed_wait_for "$BED/n2/partner.out" '^registered 1' 10 &&
	bed_wait_for "$BED/n2/liar.out" '^registered 1' 10
check "innocent, partner and liar registered their QPs" test $? -eq 0
# Registration-time confirmations (if any) have had time to answer.
sleep 2

# --- 1. the lie is shown, and goes nowhere ----------------------------------
qps=$(bed_iasctl n2 qps list)
check "n2 lists the liar's remote end as unconfirmed" \
	bash -c 'grep -q "^0x2a0 .*libias (unconfirmed)" <<<"$1"' _ "$qps"
check "JSON carries it as remote_source" \
	bash -c 'grep -q "\"remote_source\": *\"libias (unconfirmed)\"" <<<"$1"' _ \
	"$(bed_iasctl n2 -o json qps list)"
check "n1 lists the innocent's real pair as peer-confirmed" \
	bash -c 'grep -q "^0x1b0 .*peer+libias" <<<"$1"' _ "$(bed_iasctl n1 qps list)"
LIAR=$(bed_spawn_pid n2 liar)
bed_iasctl n2 report --pid "$LIAR" --reason "lying registration" >/dev/null
check "report on the liar at n2 accepted" test $? -eq 0
bed_wait_orders n2 liar "0x2a0 " 15
check "the liar is paused on n2" test "$(bed_orders n2 liar)" = "0x2a0 "
IL=$(bed_incident_of n2 "$LIAR")
for i in $(seq 1 100); do
	bed_iasctl n2 incidents show "$IL" 2>/dev/null | grep -q "unconfirmed" && break
	sleep 0.1
done
show=$(bed_iasctl n2 incidents show "$IL")
check "the incident shows the unconfirmed claim ($IL)" \
	bash -c 'grep -q "unconfirmed .*claims lid $2 qp 0x1b0; not traced" <<<"$1"' _ "$show" "$L1"
check "and marks it as not followed" bash -c 'grep -q "were not followed" <<<"$1"' _ "$show"
check "no trace left n2 for it" bash -c '! grep -q "trace-out" <<<"$1"' _ "$show"
sleep 1
check "nothing is blocked on n1" test -z "$(bed_iasctl n1 blocks list | tail -n +2)"
check "the innocent on n1 got no order" bash -c '! grep -q "^order" "$1"' _ "$BED/n1/innocent.out"
check "n1 never heard of the incident" bash -c '! grep -q "$2" <<<"$1"' _ \
	"$(bed_iasctl n1 incidents list)" "$IL"

# --- 2. a Trace not bound to a connection is refused --------------------------
out=$(bed_probe -t 2000 "$L1" trace dest=0x1b0 sender_qpn=0x2a0 incident=0x7e5701 hop_limit=4)
check "a Trace naming the innocent's QP with the liar's QPN: refused" \
	bash -c 'grep -q "result=not-connected" <<<"$1"' _ "$out"
out=$(bed_probe -t 2000 "$L1" trace dest=0x1b0 sender_qpn=0x2b0 incident=0x7e5702 hop_limit=4)
check "... with the partner's QPN but from another port: refused" \
	bash -c 'grep -q "result=not-connected" <<<"$1"' _ "$out"
check "n1 counts the refused traces" \
	bash -c 'grep -Eq "Traces refused: +2 " <<<"$1"' _ "$(bed_iasctl n1 status)"
check "still nothing blocked on n1" test -z "$(bed_iasctl n1 blocks list | tail -n +2)"
check "the innocent on n1 still got no order" bash -c '! grep -q "^order" "$1"' _ "$BED/n1/innocent.out"

[ "$tap_failed" -eq 0 ] || bed_dump_logs
bed_cleanup
tap_done
