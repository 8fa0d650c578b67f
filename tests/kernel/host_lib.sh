# The host part shared by the kernel-bed tests, sourced with $here set to
# tests/kernel (it sources tests/lib/tap.sh).
#
#   guest_needs FILE...       set $bdir (the build directory) and skip unless
#                             every FILE (relative to it) was built (on CI:
#                             fail, see tests/lib/tap.sh)
#   guest_tap RUN-ARGS...     run the guest part and turn it into this test's
#                             TAP stream
#
# guest_tap skips (with the bed's one-line reason) only when the bed cannot
# run here (guest.sh check); once it can, anything that goes wrong is a
# failure. It boots the guest with `guest.sh run RUN-ARGS...`. The guest part
# reports with tap.sh's ok / not_ok / check and ends with guest_done; its
# results are numbered again here and counted as they come (the plan is what
# ran), its "#" lines are passed through, and two checks close the stream:
# the guest run ended with status 0, and the guest part's end marker
# ("# guest done") arrived: without it the guest part died on the way, and
# whatever it did not report is lost.
# shellcheck source=../lib/tap.sh
. "${top_srcdir:-$here/../..}/tests/lib/tap.sh"

guest_needs() {
	local f
	bdir=$(cd "${top_builddir:-$here/../../build}" 2>/dev/null && pwd)
	for f in "$@"; do
		[ -e "$bdir/$f" ] || skip_all "$f not built"
	done
}

guest_tap() {
	local reason start end rc out line done=0 re='^(not )?ok( [0-9]+)?( - | |$)(.*)$'
	reason=$("$here/guest.sh" check) || skip_all "kernel bed unavailable: $reason"
	if ! "$here/guest.sh" prepare; then
		not_ok "kernel bed: guest.sh prepare (guest.sh check says the bed can run here)"
		tap_done
		exit 1
	fi
	start=$(date +%s.%N)
	out=$("$here/guest.sh" run "$@")
	rc=$?
	end=$(date +%s.%N)
	diag "guest run (boot + test + poweroff): $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"
	while IFS= read -r line; do
		if [[ $line =~ $re ]]; then
			if [ -n "${BASH_REMATCH[1]}" ]; then not_ok "${BASH_REMATCH[4]}"; else ok "${BASH_REMATCH[4]}"; fi
			continue
		fi
		case $line in
		"$TAP_GUEST_DONE"*) done=1; echo "$line" ;;
		"#"*) echo "$line" ;;
		esac
	done <<<"$out"
	check "guest run completed (status $rc)" [ "$rc" -eq 0 ]
	check "guest part ran to its end ('$TAP_GUEST_DONE' seen)" [ "$done" -eq 1 ]
	tap_done
}
