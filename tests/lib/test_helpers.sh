#!/usr/bin/env bash
# Unit tier: the test helpers themselves (tests/lib/tap.sh, tests/lib/daemon.sh,
# tests/kernel/host_lib.sh), with stand-in daemons and a stand-in guest.sh:
#  - daemon_start is ready once its check succeeds, runs a wrapper and a
#    working directory, and fails bounded (DAEMON_WHY "died" or "timeout")
#    with the daemon's log tail; daemon_stop reaps it;
#  - skip_all on CI accepts only "the bed cannot run here";
#  - guest_tap numbers and counts the guest part's results itself and fails a
#    guest part that died before its end marker.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"

T=$(mktemp -d /tmp/ias-helpers.XXXXXX)
trap 'rm -rf "$T"' EXIT

# ---- daemon.sh ------------------------------------------------------------------
daemon_start --log "$T/d1.log" --cd "$T" --ready "test -e '$T/d1.ready'" --timeout 10 \
	-- env HELPER_X=1 sh -c 'echo "x=$HELPER_X"; sleep 0.3; touch d1.ready; exec sleep 30'
check "daemon_start: ready once the check succeeds (wrapper and --cd applied)" \
	test $? -eq 0 -a -e "$T/d1.ready"
check "daemon_start: the daemon's output is in its log" grep -q '^x=1$' "$T/d1.log"
p=$DAEMON_PID
daemon_stop "$p"
check "daemon_stop: the daemon is gone and reaped" bash -c "! kill -0 $p 2>/dev/null"

daemon_start --name flaky --log "$T/d2.log" --ready false -- sh -c 'echo "cannot open the port"; exit 3' \
	2>"$T/d2.err"
check "a daemon that exits first: failure, DAEMON_WHY=died" test $? -ne 0 -a "$DAEMON_WHY" = died
check "... its log tail is shown" grep -q '^#   cannot open the port$' "$T/d2.err"

s=$(date +%s)
daemon_start --name slow --log "$T/d3.log" --ready false --timeout 1 -- sleep 30 2>"$T/d3.err"
check "a daemon not ready in time: failure, DAEMON_WHY=timeout, within the bound" \
	test $? -ne 0 -a "$DAEMON_WHY" = timeout -a $(($(date +%s) - s)) -le 5
check "... and the message says so" grep -q 'slow (PID [0-9]*) not ready after 1s' "$T/d3.err"
daemon_stop "$DAEMON_PID"

# ---- skip_all on CI ---------------------------------------------------------------
skip() { (CI=$1; tap_n=0; tap_failed=0; skip_all "$2") >"$T/skip.out"; }
skip true "ibsim not installed (ibsim-utils)"
check "CI: a bed that cannot run here may skip" \
	bash -c '[ $1 -eq 0 ] && grep -qx "1..0 # SKIP ibsim not installed (ibsim-utils)" "$2"' _ $? "$T/skip.out"
skip true "trace protocol not in this build"
check "CI: any other reason is a failure" \
	bash -c '[ $1 -ne 0 ] && grep -q "^not ok 1 - on CI this test may not skip" "$2"' _ $? "$T/skip.out"
skip "" "sem not built"
check "off CI the same reason skips" bash -c '[ $1 -eq 0 ] && grep -q "^1..0 # SKIP" "$2"' _ $? "$T/skip.out"

# ---- guest_tap --------------------------------------------------------------------
mkdir -p "$T/k"
cat >"$T/k/guest.sh" <<'EOF'
#!/bin/sh
# Stand-in: the bed is available; "run" runs the command here.
case $1 in check|prepare) exit 0 ;; esac
shift
while [ "$1" != -- ]; do shift; done
shift
exec "$@"
EOF
cat >"$T/k/part.sh" <<EOF
. "$top_srcdir/tests/lib/tap.sh"
check "first" true
echo "# a diagnostic"
echo "okay, not a result"
not_ok "second"
ok "third - with a dash"
[ "\${1:-}" = die ] && exit 3
guest_done
EOF
chmod +x "$T/k/guest.sh"
host() { (here=$T/k; . "$top_srcdir/tests/kernel/host_lib.sh"; guest_tap --nodes 1 -- bash "$T/k/part.sh" "$@") >"$T/host.out" 2>&1; }
host
check "guest_tap: the guest's results renumbered, the plan is what ran" \
	bash -c '[ "$(grep -E "^(not )?ok [0-9]+ - " "$1" | cut -d" " -f1-3 | tr "\n" " ")" = "ok 1 - not ok 2 ok 3 - ok 4 - ok 5 - " ] &&
		grep -qx "1..5" "$1" && grep -qx "ok 3 - third - with a dash" "$1"' _ "$T/host.out"
check "guest_tap: '#' lines pass, other output does not count" \
	bash -c 'grep -qx "# a diagnostic" "$1" && ! grep -q "okay" "$1"' _ "$T/host.out"
host die
check "guest_tap: a guest part that died before its end marker fails" \
	bash -c 'grep -q "^not ok 4 - guest run completed (status 3)" "$1" &&
		grep -q "^not ok 5 - guest part ran to its end" "$1"' _ "$T/host.out"
tap_done
