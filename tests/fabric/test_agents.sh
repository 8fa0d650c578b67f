#!/usr/bin/env bash
# Fabric tier: agents on the simulated fabric answer authenticated SecMgt
# requests, apply a Set(Policy) from the fabric, and refuse (silently, counted
# and logged) MADs signed with a wrong key, replayed or stale, including an
# intruder's well-formed Block, Trace, Release and Policy MADs.
set -u
. "${top_srcdir:-.}/tests/lib/tap.sh"
. "${top_srcdir:-.}/tests/fabric/bed.sh"

rejected() { bed_iasctl "$1" status | sed -n 's/.*MADs rejected: *\([0-9]*\).*/\1/p'; }

bed_up n1 n2

L1=$(bed_lid n1)
L2=$(bed_lid n2)
check "agents report distinct non-zero LIDs ($L1, $L2)" test -n "$L1" -a -n "$L2" -a "$L1" != "$L2"

out=$(bed_probe "$L1" cpi)
check "Get(ClassPortInfo) from n1: role agent, node name n1" \
	grep -q 'status=0x0000 (OK) role=agent .* node=n1 ' <<<"$out"
out=$(bed_probe "$L2" cpi)
check "Get(ClassPortInfo) from n2 names n2" grep -q 'role=agent .* node=n2 ' <<<"$out"

out=$(bed_probe "$L2" status)
check "Get(Status) answers with the node's counters" \
	grep -q 'response Status status=0x0000 (OK) .* mads_rejected=0 ' <<<"$out"

out=$(bed_probe "$L1" policy-set version=42 mode=freeze hop=5 fanout=7 base=60 max=600)
check "Set(Policy) answered with the new policy" grep -q 'version=42 .*mode=freeze .*hop=5 fanout=7' <<<"$out"
pol=$(bed_iasctl n1 policy show)
check "iasctl policy show on n1 shows the policy set over the fabric" \
	grep -Eq '^block_mode +freeze' <<<"$pol"
check "... hop limit 5, fan-out 7, version 42" \
	bash -c 'grep -Eq "^hop_limit +5$" <<<"$1" && grep -Eq "^fanout_limit +7$" <<<"$1" && grep -Eq "^policy_version +42$" <<<"$1"' _ "$pol"
pol2=$(bed_iasctl n2 policy show)
check "n2's policy is untouched" grep -Eq '^block_mode +pause' <<<"$pol2"

# An innocent process on n2 with a registered QP: the intruder aims at it.
bed_spawn n2 victim "$BED_TC" register-sim "0x120:$L1:0x110"
bed_wait_for "$BED/n2/victim.out" '^registered 1' 10
check "victim on n2 registered its QP" grep -q '^registered 1' "$BED/n2/victim.out"
VPID=$(bed_spawn_pid n2 victim)

r1=$(rejected n1)
r2=$(rejected n2)

# Intruder, no key: well-formed Policy, Block, Trace, Release MADs.
bed_probe -t 700 --wrong-key "$L1" policy-set version=99 mode=kill >/dev/null
check "forged Set(Policy) gets no answer" test $? -eq 3
bed_probe -t 700 --wrong-key "$L2" block "pid=$VPID" reason=forged override=1 >/dev/null
check "forged Set(Block) gets no answer" test $? -eq 3
bed_probe -t 700 --wrong-key "$L2" trace dest=0x120 sender_qpn=0x110 incident=0x77 >/dev/null
check "forged Set(Trace) gets no answer" test $? -eq 3
bed_probe -t 700 --wrong-key "$L2" release "pid=$VPID" >/dev/null
check "forged Set(Release) gets no answer" test $? -eq 3
# A key holder's MAD that is stale (2 minutes old) or from the future.
bed_probe -t 700 --stale 120000 "$L1" policy-set version=98 mode=kill >/dev/null
check "stale Set(Policy) gets no answer" test $? -eq 3
bed_probe -t 700 --stale -120000 "$L2" block "pid=$VPID" >/dev/null
check "future-dated Set(Block) gets no answer" test $? -eq 3
# A replay: the same bytes again after they were accepted once.
out=$(bed_probe -t 700 --replay "$L1" policy-set version=43 mode=freeze hop=5 fanout=7 base=60 max=600)
check "a valid Set(Policy) is answered once" grep -q '^response Policy status=0x0000 .*version=43' <<<"$out"
check "its replay gets no answer" grep -q '^replay: timeout' <<<"$out"

check "n1 counted 3 refused MADs (forged policy, stale, replay)" test "$(rejected n1)" -eq $((r1 + 3))
check "n2 counted 4 refused MADs (forged block, trace, release; future)" test "$(rejected n2)" -eq $((r2 + 4))
pol=$(bed_iasctl n1 policy show)
check "n1's policy is the valid one (version 43, not kill)" \
	bash -c 'grep -Eq "^policy_version +43$" <<<"$1" && grep -Eq "^block_mode +freeze" <<<"$1"' _ "$pol"
check "nothing is blocked on n2 (no block record at all)" test -z "$(bed_iasctl n2 blocks list --all | tail -n +2)"
check "the victim received no order" bash -c '! grep -q "^order" "$1"' _ "$BED/n2/victim.out"
check "n2's log names the forgeries" grep -q 'refused: bad authentication tag' "$BED/n2/sema.log"
check "n1's log names the stale and replayed MADs" \
	bash -c 'grep -q "refused: timestamp outside window" "$1" && grep -q "refused: replayed nonce" "$1"' _ "$BED/n1/sema.log"
out=$(bed_probe "$L2" status)
check "n2 still answers a valid request after the forgeries" grep -q 'status=0x0000 (OK)' <<<"$out"

bed_spawn_stop n2 victim
[ "$tap_failed" -eq 0 ] || bed_dump_logs
bed_cleanup
check "no process of the bed is left" test -z "$(grep -l "IAS_FABRIC_BED=$BED_ID" /proc/[0-9]*/environ 2>/dev/null)"
tap_done
