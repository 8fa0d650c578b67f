#!/bin/sh
# ias-analyzer's command line: usage errors, output formats, live snapshots.
. "${top_srcdir:?}/tests/lib/tap.sh"
bin="${top_builddir:?}/analyzer/ias-analyzer"
data="$top_srcdir/tests/data/snapshots"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

# status N CMD...: ok when CMD exits with status N.
status() { want=$1; shift; "$@" >"$tmp/out" 2>"$tmp/err"; got=$?
	if [ "$got" -eq "$want" ]; then ok "exit $want: $*"; else not_ok "exit $want: $* (got $got)"; diag "$(cat "$tmp/err")"; fi; }

status 0 "$bin" --help
check "--help prints usage" grep -q "^Usage: ias-analyzer" "$tmp/out"
status 0 "$bin" --version
check "--version prints the version" grep -q "^ias-analyzer [0-9]" "$tmp/out"
status 0 "$bin" search --help
status 2 "$bin"
status 2 "$bin" frobnicate
status 2 "$bin" search --snapshot "$data/tree.tsv" --level lca
status 2 "$bin" search --snapshot "$data/tree.tsv" --pids 202
status 2 "$bin" search --snapshot "$data/tree.tsv" --level cousin --pids 202
status 2 "$bin" search --snapshot "$data/tree.tsv" --level basic,lca --pids 202
status 2 "$bin" search --snapshot "$data/tree.tsv" --level lca --pids 202,,203
status 2 "$bin" search --snapshot "$data/tree.tsv" --level lca --pids 0
status 2 "$bin" search --snapshot "$data/tree.tsv" --level lca --pids 4194305
status 2 "$bin" search --snapshot "$data/tree.tsv" --level lca --pids -5
status 2 "$bin" search --snapshot "$data/tree.tsv" --level lca --pids 202 -o xml
status 2 "$bin" search --snapshot "$data/tree.tsv" --level lca --pids 202 extra
status 2 "$bin" snapshot --bogus

# JSON output, exactly.
status 0 "$bin" search --snapshot "$data/tree.tsv" --level lca --pids 302,202 -o json
cat >"$tmp/want" <<'JSON'
{ "level": "lca", "input": [ 202, 302 ], "conspirators": [ { "pid": 100, "reason": "LCA of 202 and 302" }, { "pid": 200, "reason": "child of LCA 100" }, { "pid": 202, "reason": "reported" }, { "pid": 300, "reason": "child of LCA 100" }, { "pid": 302, "reason": "reported" } ], "new": [ 100, 200, 300 ] }
JSON
check "lca JSON is exact" cmp -s "$tmp/out" "$tmp/want"
status 0 "$bin" search --snapshot "$data/tree.tsv" --level basic --pids 202 -o json
check "basic JSON: empty new list" grep -qF '"conspirators": [ { "pid": 202, "reason": "reported" } ], "new": [ ] }' "$tmp/out"
status 0 "$bin" search --snapshot "$data/tree.tsv" --level zone --pids 202 -o json
check "zone JSON: slashes not escaped" grep -qF '"same zone as 202 (/user.slice/session-1.scope)"' "$tmp/out"
status 0 "$bin" search --snapshot "$data/tree.tsv" --level sibling,lca --pids 202,203 -o json
check "level list in JSON" grep -qF '{ "level": "sibling,lca",' "$tmp/out"

# Human output.
status 0 "$bin" search --snapshot "$data/tree.tsv" --level sibling --pids 202
check "human: header" grep -q "^PID  *PPID  *REASON  *EXE$" "$tmp/out"
check "human: a row" grep -q "^203  *201  *sibling of 202 running the same program  */opt/evil/bin/agent$" "$tmp/out"
check "human: summary" grep -qx "3 conspirators: 1 reported, 2 new (level sibling)" "$tmp/out"

# Exclusions and PID 1.
status 0 "$bin" search --snapshot "$data/tree.tsv" --level lca --pids 202,302 --exclude 100 -o json
check "excluded LCA skipped" grep -qF '"new": [ ] }' "$tmp/out"
status 0 "$bin" search --snapshot "$data/tree.tsv" --level basic --pids 1,202 -o json
check "PID 1: warned" grep -qF "PID 1 is init and never a conspirator; ignored" "$tmp/err"
check "PID 1: not a conspirator" grep -qF '"conspirators": [ { "pid": 202,' "$tmp/out"

# Snapshot from standard input; escapes survive.
"$bin" search --snapshot - --level basic --pids 5 <"$data/small.tsv" >"$tmp/out" 2>"$tmp/err"
check "snapshot from stdin" test $? -eq 0
check "escaped tab shown as a tab" grep -qF "$(printf '/bin/tab\there')" "$tmp/out"

# Live snapshot.
status 0 "$bin" snapshot -o "$tmp/live.tsv"
check "live snapshot header" sh -c 'head -1 "$1" | grep -qx "$(printf "pid\tppid\texe\tcontext\tzone")"' sh "$tmp/live.tsv"
check "live snapshot lists this shell" grep -q "^$$	" "$tmp/live.tsv"
status 0 "$bin" search --snapshot "$tmp/live.tsv" --level sibling,lca,zone --pids $$
status 0 "$bin" snapshot
check "snapshot to stdout" grep -q "^1	0	" "$tmp/out"
status 1 "$bin" snapshot -o /nonexistent-dir/x.tsv
sleep 30 & s1=$!
sleep 30 & s2=$!
status 0 "$bin" search --level sibling --pids $s1 -o json
check "live search: the other sleep is a sibling" grep -qF "{ \"pid\": $s2, \"reason\": \"sibling of $s1 running the same program\" }" "$tmp/out"
kill $s1 $s2 2>/dev/null
wait 2>/dev/null
if [ -e /sys/fs/selinux/enforce ]; then
	ok "# SKIP SELinux is on here: no error case for the live selinux level"
else
	status 1 "$bin" search --level selinux --pids $$
	check "live selinux level without SELinux: clear error" grep -qF "needs SELinux, which is not enabled" "$tmp/err"
fi

tap_done
