#!/usr/bin/env bash
# Fabric tier: the trace fast path (sema/trace.c, sema/engine.c).
#   P1@n1 --(0x101)--(0x202)-- P2@n2 --(0x203)--(0x304)-- P3@n3
# Onward traces leave before the hop is written, yet:
# - each hop records its arrival, onward send and enforcement with
#   microsecond times, in causal order;
# - a repeated trace (same incident, already blocked owner) re-executes
#   nothing and sends nothing on; sent by the probe, whose port is not
#   QP 0x202's remote end, it is refused as not connected (a duplicate from
#   the real peer is answered "already blocked": tests/unit/test_trace.c);
# - an allow-list entry added after the owner's QPs were registered (its
#   never-block verdict cached then) is honoured: refused, not forwarded.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
. "${top_srcdir:-.}/tests/fabric/bed.sh"

command -v sqlite3 >/dev/null || skip_all "sqlite3 (the command) is not installed"
bed_up --trace n1 n2 n3

L1=$(bed_lid n1)
L2=$(bed_lid n2)
L3=$(bed_lid n3)

# ev NODE INCIDENT KIND: the us times of that kind of event, in order.
ev() {
	sqlite3 -readonly "$BED/$1/state/sema.db" "SELECT ts_us FROM incident_events
		WHERE incident = '$2' AND kind = '$3' ORDER BY id" 2>/dev/null | tr '\n' ' '
}
nev() { sqlite3 -readonly "$BED/$1/state/sema.db" "SELECT count(*) FROM incident_events
	WHERE incident = '$2' AND kind = '$3'" 2>/dev/null; }
wait_ev() {	# NODE INCIDENT KIND SECS
	local i
	for i in $(seq 1 $(($4 * 10))); do
		[ "$(nev "$1" "$2" "$3")" -gt 0 ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# The MAD form of an incident id: tag << 40 | seq.
inc64() { local t=${1#I-}; printf '0x%x' $(( (0x${t%%-*} << 40) | ${t#*-} )); }

# --- 1. a chain, with per-hop microsecond times --------------------------------
bed_chain p 0x101 0x202 0x203 0x304
check "conspirators registered their QPs" test $? -eq 0
P3=$(bed_spawn_pid n3 p3)
bed_iasctl n3 report --pid "$P3" --reason "fast path" >/dev/null
bed_wait_orders n1 p1 "0x101 " 30
check "the trace reached P1 through n2" test "$(bed_orders n1 p1)" = "0x101 "
check "P2 paused by the trace" test "$(bed_orders n2 p2)" = "0x202 0x203 "
I=$(bed_incident_of n3 "$P3")
wait_ev n1 "$I" enforced 10
read -r in2 _ <<<"$(ev n2 "$I" trace-in)"
read -r out2 _ <<<"$(ev n2 "$I" trace-out)"
read -r en2 _ <<<"$(ev n2 "$I" enforced)"
read -r out3 _ <<<"$(ev n3 "$I" trace-out)"
read -r in1 _ <<<"$(ev n1 "$I" trace-in)"
check "n2 recorded arrival, onward send and enforcement in us ($in2 $out2 $en2)" \
	test -n "${in2:-}" -a -n "${out2:-}" -a -n "${en2:-}"
check "n2: arrival <= onward send <= block in force" \
	test "${in2:-0}" -gt 0 -a "${in2:-0}" -le "${out2:-0}" -a "${out2:-0}" -le "${en2:-0}"
check "send before arrival along the chain (n3 out <= n2 in, n2 out <= n1 in)" \
	test "${out3:-1}" -le "${in2:-0}" -a "${out2:-1}" -le "${in1:-0}"
check "the ms time agrees with the us time" bash -c '
	[ "$(sqlite3 -readonly "$1" "SELECT count(*) FROM incident_events
		WHERE ts_ms <> ts_us / 1000")" = 0 ]' _ "$BED/n2/state/sema.db"

# --- 2. a repeated trace is not re-executed ------------------------------------
outs=$(nev n2 "$I" trace-out)
ins1=$(nev n1 "$I" trace-in)
dup=$(bed_probe -t 3000 "$L2" trace dest=0x202 sender_qpn=0x101 incident="$(inc64 "$I")" \
	hop=1 hop_limit=8 2>&1)
check "a repeated trace to n2 from a port not connected to QP 0x202 is refused" \
	grep -q "result=not-connected" <<<"$dup" || diag "probe said: $dup"
check "... with no onward hop in the answer" grep -Eq " hops= +rtt_us=" <<<"$dup"
sleep 1
check "... and n2 sent no trace on" test "$(nev n2 "$I" trace-out)" = "$outs"
check "... so n1 saw no second trace" test "$(nev n1 "$I" trace-in)" = "$ins1"
check "... and P2 still has one block" test "$(bed_iasctl n2 -o json blocks list \
	--incident "$I" | grep -c '"pid"')" = 1

# --- 3. an allow-list change after the verdict was cached --------------------------
bed_chain q 0x111 0x212 0x213 0x314
Q2=$(bed_spawn_pid n2 q2)
Q3=$(bed_spawn_pid n3 q3)
bed_iasctl n2 allowlist add pid "$Q2" >/dev/null
check "P2' put on n2's allow-list after its QPs were registered" test $? -eq 0
bed_iasctl n3 report --pid "$Q3" --reason "fast path, allow-list" >/dev/null
bed_wait_orders n3 q3 "0x314 " 30
IQ=$(bed_incident_of n3 "$Q3")
wait_ev n2 "$IQ" refused 10
check "n2 refused to block P2' (allow-list)" test "$(nev n2 "$IQ" refused)" -ge 1
check "... and forwarded nothing" test "$(nev n2 "$IQ" trace-out)" = 0
sleep 1
check "P2' got no order" bash -c '! grep -q "^order" "$1"' _ "$BED/n2/q2.out"
check "P1' got no order" bash -c '! grep -q "^order" "$1"' _ "$BED/n1/q1.out"

[ "$tap_failed" -eq 0 ] || bed_dump_logs
bed_cleanup
tap_done
