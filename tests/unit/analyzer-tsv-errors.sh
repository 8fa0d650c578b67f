#!/bin/sh
# Malformed TSV snapshots: the real command must exit 1 with exactly one
# line "FILE:LINE: message" naming the offending line.
. "${top_srcdir:?}/tests/lib/tap.sh"
bin="${top_builddir:?}/analyzer/ias-analyzer"
data="$top_srcdir/tests/data/snapshots"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

# expect FILE LINE MESSAGE-SUBSTRING
expect() {
	f=$data/$1
	"$bin" search --snapshot "$f" --level lca --pids 1 >"$tmp/out" 2>"$tmp/err"
	rc=$?
	lines=$(wc -l <"$tmp/err")
	if [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && [ ! -s "$tmp/out" ] &&
	   grep -qF "$f:$2: $3" "$tmp/err"; then
		ok "$1: line $2: $3"
	else
		not_ok "$1: line $2: $3"
		diag "rc=$rc stderr: $(cat "$tmp/err")"
	fi
}

expect bad-empty.tsv 1 "empty file: missing the header line"
expect bad-header.tsv 1 "header must be exactly"
expect bad-crlf.tsv 1 "header must be exactly"
expect bad-duplicate.tsv 5 "duplicate PID 5 (first on line 3)"
expect bad-noparent.tsv 4 "parent PID 50 of PID 6 is not in the snapshot"
expect bad-parent0.tsv 3 "parent 0 is allowed only for PID 1 and kernel threads"
expect bad-cycle.tsv 4 "PID 12 is its own ancestor (parent cycle)"
expect bad-selfparent.tsv 3 "PID 9 is its own parent"
expect bad-few-columns.tsv 3 "expected 5 tab-separated columns, found 4"
expect bad-many-columns.tsv 3 "expected 5 tab-separated columns, found 6"
expect bad-blank-line.tsv 3 "expected 5 tab-separated columns, found 1"
expect bad-nonnumeric.tsv 3 "pid column is not a decimal number"
expect bad-negative.tsv 3 "ppid column is not a decimal number"
expect bad-range.tsv 3 "pid column out of range 1..4194304"
expect bad-pid0.tsv 3 "pid column out of range 1..4194304"
expect bad-empty-column.tsv 3 "empty context column"
expect bad-long-line.tsv 3 "line longer than 16384 bytes"
expect bad-escape.tsv 3 "unknown escape in the exe column"
expect bad-relative-exe.tsv 3 "exe column must be an absolute path or -"
expect bad-zone.tsv 3 "zone column must be a cgroup path"

# A raw control character inside a column (here a CR on a data line).
printf 'pid\tppid\texe\tcontext\tzone\n1\t0\t/sbin/init\t-\t-\r\n' >"$tmp/cr.tsv"
"$bin" search --snapshot "$tmp/cr.tsv" --level basic --pids 1 2>"$tmp/err" >/dev/null
check "raw CR in a column: exit 1" test $? -eq 1
check "raw CR in a column: named at line 2" grep -qF "$tmp/cr.tsv:2: raw control character 0x0d in the zone column" "$tmp/err"

# A PID asked for that is not in the snapshot.
"$bin" search --snapshot "$data/tree.tsv" --level lca --pids 202,99999 >"$tmp/out" 2>"$tmp/err"
check "missing PID: exit 1" test $? -eq 1
check "missing PID: one line naming it" sh -c '[ $(wc -l <"$1") -eq 1 ] && grep -qF "PID 99999 is not in the snapshot" "$1"' sh "$tmp/err"

# An unreadable file.
"$bin" search --snapshot "$tmp/nonexistent" --level basic --pids 1 2>"$tmp/err" >/dev/null
check "missing file: exit 1" test $? -eq 1
check "missing file: says so" grep -qF "No such file or directory" "$tmp/err"

tap_done
