# TAP helpers for shell tests. Source it; call tap_done at the end.
tap_n=0
tap_failed=0
ok()     { tap_n=$((tap_n+1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n+1)); tap_failed=$((tap_failed+1)); echo "not ok $tap_n - $*"; }
# check NAME COMMAND...: ok when the command succeeds.
check()  { name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; return 1; fi; }
diag()   { echo "# $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
tap_done() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }
