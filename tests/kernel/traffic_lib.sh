# Traffic checks shared by tests/kernel/test_escape.sh and
# test_undo_pause.sh, sourced in the guest. COUNT names a function that
# prints the traffic counter (completions, sends, ...).
#   flowing    the counter moves within 1 s
#   stopped    the counter stays put over 1.5 s, reached within 15 s (what
#              moved is logged)
flowing() { local a; a=$("$COUNT"); sleep 1; [ -n "$a" ] && [ "$a" != "$("$COUNT")" ]; }
stopped() {
	local a b
	for _ in $(seq 1 10); do
		a=$("$COUNT"); sleep 1.5; b=$("$COUNT")
		[ -n "$a" ] && [ "$a" = "$b" ] && return 0
	done
	echo "# traffic still moving: $a -> $b"
	return 1
}
