# shellcheck shell=bash
# TAP helpers for shell tests. Source it; call tap_done at the end.
tap_n=0
tap_failed=0
ok()     { tap_n=$((tap_n+1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n+1)); tap_failed=$((tap_failed+1)); echo "not ok $tap_n - $*"; }
# check NAME COMMAND...: ok when the command succeeds.
check()  { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; return 1; fi; }
diag()   { echo "# $*"; }
tap_done() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

# skip_all REASON: the whole test cannot run here.
# On CI (CI=true) a bed that is available must be used: a skip is accepted
# only when REASON says the bed itself cannot run (it matches
# TAP_UNAVAILABLE, below: no root, a tool or package not installed, no PID
# namespaces, not x86_64). Any other reason ("not built", "the agents do not
# answer", ...) is a failure there: it would hide exactly the regression the
# test exists for. See docs/fabric-bed.md, "Skips and CI".
TAP_UNAVAILABLE='needs root|not root|not installed|missing packages|could not install|cannot create PID namespaces|not x86_64'
skip_all() {
	if [ "${CI:-}" = true ] && [ "$tap_n" -eq 0 ] && ! grep -Eqi "$TAP_UNAVAILABLE" <<<"$*"; then
		not_ok "on CI this test may not skip: $*"
		tap_done
		exit 1
	fi
	if [ "$tap_n" -gt 0 ]; then
		# Results were already printed: a plan of 0 would contradict them.
		not_ok "skipped after $tap_n result(s): $*"
		tap_done
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

# ---- guest side of a kernel-bed test ------------------------------------------
# The guest part of a kernel test (tests/kernel/test_*.sh --guest) reports
# with ok / not_ok / check like any test, and ends with guest_done; the host
# part (tests/kernel/host_lib.sh, guest_tap) numbers the results again,
# counts them itself, and fails the run when the end marker never arrived
# (the guest part died on the way).
TAP_GUEST_DONE='# guest done'
guest_done() { echo "$TAP_GUEST_DONE ($tap_n results, $tap_failed failed)"; exit 0; }
