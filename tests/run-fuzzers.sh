#!/usr/bin/env bash
# Run every libFuzzer harness built in the given build tree for
# IAS_FUZZ_SECONDS seconds each, starting from a copy of its stored corpus.
# Output is TAP: one line per harness.
set -u
bdir=${1:?usage: run-fuzzers.sh BUILD_DIR}
secs=${IAS_FUZZ_SECONDS:-15}
src=$(cd "$(dirname "$0")/.." && pwd)
n=0 failed=0
for f in "$bdir"/tests/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=${f##*/fuzz_}
	work=$(mktemp -d)
	cp -r "$src/tests/fuzz/corpus/$name/." "$work/" 2>/dev/null
	n=$((n + 1))
	if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$bdir/fuzz-$name-" "$work" >"$bdir/fuzz-$name.log" 2>&1; then
		runs=$(grep -o 'Done [0-9]* runs' "$bdir/fuzz-$name.log" | tail -1)
		echo "ok $n - fuzz $name: ${runs:-ran} in ${secs}s without a finding"
	else
		failed=$((failed + 1))
		echo "not ok $n - fuzz $name: finding, see $bdir/fuzz-$name.log"
		grep -m5 -E 'ERROR|SUMMARY' "$bdir/fuzz-$name.log" | sed 's/^/# /'
	fi
	rm -rf "$work"
done
[ "$n" -eq 0 ] && echo "1..0 # SKIP no fuzz harness built" && exit 0
echo "1..$n"
[ "$failed" -eq 0 ]
