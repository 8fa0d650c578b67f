# The host part shared by the kernel-bed tests, sourced with $here set to
# tests/kernel (it sources tests/lib/tap.sh).
#
#   guest_needs FILE...       set $bdir (the build directory) and skip unless
#                             every FILE (relative to it) was built
#   guest_tap NRESULTS RUN-ARGS...
#
# Skips (with the bed's one-line reason) when the bed cannot run, boots the
# guest with `guest.sh run RUN-ARGS...`, turns the guest part's
# "RESULT ok|not_ok NAME" lines into TAP and passes its "#" lines through,
# checks that the run completed and that NRESULTS results arrived (fewer
# means the guest part died on the way), and ends the TAP stream.
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
	local want=$1 reason start end rc out line n
	shift
	reason=$("$here/guest.sh" check) || skip_all "kernel bed unavailable: $reason"
	"$here/guest.sh" prepare || skip_all "kernel bed: guest.sh prepare failed"
	start=$(date +%s.%N)
	out=$("$here/guest.sh" run "$@")
	rc=$?
	end=$(date +%s.%N)
	diag "guest run (boot + test + poweroff): $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"
	check "guest run completed (status $rc)" [ "$rc" -eq 0 ]
	while IFS= read -r line; do
		case $line in
		"RESULT ok "*) ok "${line#RESULT ok }" ;;
		"RESULT not_ok "*) not_ok "${line#RESULT not_ok }" ;;
		"#"*) echo "$line" ;;
		esac
	done <<<"$out"
	n=$(grep -c '^RESULT ' <<<"$out")
	check "guest reported all $want results (got $n)" [ "$n" -eq "$want" ]
	tap_done
}
