#!/usr/bin/env bash
# The IAS demo on the simulated fabric (ibsim + OpenSM, one agent per node in
# its own namespaces). Run through "./quickstart demo [chain|large]".
#
#   chain (default)  the paper's chain P1@n1 <-> P2@n2 <-> P3@n3; an attack
#                    reported on P3 is traced back to P2 and P1
#   large            7 nodes: fan-out, a cycle, an innocent pair that must
#                    stay unblocked
#
# While the agents do not serve Set(Trace) yet, both fall back to the
# single-node scenario: report, list and release on one agent.
# Prints the trace as a tree, every node's blocks, releases the incident
# everywhere; exit 0 only if every expected QP was blocked. When the manager
# (sem) runs, the tree and the blocks come from it (`iasctl --manager
# incidents show`, `fabric status`), once it holds every node's reports;
# otherwise (or if it lags) from each agent. The last line is
#   demo: blocked <N> QPs on <M> nodes in <T> ms
# (T: from the report to the last block, from the agents' incident events).
set -u
# bed.sh sets top_srcdir and top_builddir (this tree, ./build) unless given.
. "$(dirname "${BASH_SOURCE[0]}")/../fabric/bed.sh"

scenario=${1:-chain}
case "$scenario" in chain|large) ;; *)
	echo "usage: run-demo.sh [chain|large]" >&2; exit 2;; esac

say() { printf '%s\n' "$*"; }
now_ms() { date +%s%3N; }

why=$(bed_why_not) || { say "demo: cannot run here: $why"; exit 1; }

case "$scenario" in
chain) nodes="n1 n2 n3";;
large) nodes="n1 n2 n3 n4 n5 n6 n7";;
esac
sem_opt=
[ -x "$BED_SEM" ] && sem_opt=--sem
bed_init $sem_opt $nodes || exit 1
say "demo: starting ibsim, OpenSM and $(echo $nodes | wc -w) agents (bed $BED)"
bed_start || { bed_dump_logs; say "demo: the bed did not start"; exit 1; }
[ "$BED_SEM_UP" = 1 ] && say "demo: sem is running beside OpenSM"
for n in $nodes; do eval "L_$n=$(bed_lid "$n")"; done
lid() { eval "echo \$L_$1"; }

# proc NODE NAME QPN:PEER_NODE:PEER_QPN...: a process with simulated QPs.
declare -A EXPECT=()	# "node name" -> expected paused QPNs (sorted)
procs=()
proc() {
	local n=$1 name=$2 spec=() s q pn pq
	shift 2
	for s in "$@"; do
		IFS=: read -r q pn pq <<<"$s"
		spec+=("$q:$(lid "$pn"):$pq")
	done
	bed_spawn "$n" "$name" "$BED_TC" register-sim "${spec[@]}"
	procs+=("$n $name $#")
}
expect() { EXPECT["$1 $2"]=$(printf '%s\n' "${@:3}" | sort -u | tr '\n' ' '); }
orders() { sed -n 's/^order \(0x[0-9a-f]*\) pause$/\1/p' "$BED/$1/$2.out" | sort -u | tr '\n' ' '; }

trace=1
bed_has_trace n1 || trace=0
if [ "$trace" = 0 ]; then
	say "demo: the agents do not serve Set(Trace) in this build: single-node scenario"
	proc n1 p1 0x101:n1:0x102
	expect n1 p1 0x101
	origin="n1 p1"
	innocent=
elif [ "$scenario" = chain ]; then
	proc n1 p1 0x101:n2:0x202
	proc n2 p2 0x202:n1:0x101 0x203:n3:0x304
	proc n3 p3 0x304:n2:0x203
	proc n2 innocent 0x2f0:n1:0x1f0
	expect n1 p1 0x101; expect n2 p2 0x202 0x203; expect n3 p3 0x304
	origin="n3 p3"
	innocent="n2 innocent"
else
	proc n1 a 0x101:n2:0x201 0x102:n3:0x301 0x103:n4:0x401
	proc n2 b 0x201:n1:0x101 0x202:n5:0x501
	proc n3 c 0x301:n1:0x102
	proc n4 d 0x401:n1:0x103 0x402:n6:0x601
	proc n5 e 0x501:n2:0x202 0x502:n6:0x602
	proc n6 f 0x601:n4:0x402 0x602:n5:0x502
	proc n1 h 0x1f0:n7:0x701
	proc n7 g 0x701:n1:0x1f0
	expect n1 a 0x101 0x102 0x103; expect n2 b 0x201 0x202; expect n3 c 0x301
	expect n4 d 0x401 0x402; expect n5 e 0x501 0x502; expect n6 f 0x601 0x602
	origin="n1 a"
	innocent="n1 h|n7 g"
fi
for p in "${procs[@]}"; do
	read -r n name k <<<"$p"
	bed_wait_for "$BED/$n/$name.out" "^registered $k" 10 ||
		{ say "demo: $name on $n did not register its QPs"; exit 1; }
done

read -r on oname <<<"$origin"
opid=$(bed_spawn_pid "$on" "$oname")
say "demo: reporting an attack by pid $opid ($oname) on $on"
t0=$(now_ms)
out=$(bed_iasctl "$on" report --pid "$opid" --reason "demo attack") ||
	{ say "demo: the report was refused: $out"; exit 1; }
say "  $out"
inc=$(sed -n 's/.*incident \(I-[^ ,]*\).*/\1/p' <<<"$out")

# Wait until every expected process saw its pause orders (or 60 s).
deadline=$(( $(date +%s) + 60 ))
while :; do
	missing=0
	for k in "${!EXPECT[@]}"; do
		read -r n name <<<"$k"
		[ "$(orders "$n" "$name")" = "${EXPECT[$k]}" ] || missing=$((missing + 1))
	done
	[ "$missing" = 0 ] || [ "$(date +%s)" -ge "$deadline" ] && break
	sleep 0.1
done
sleep 0.5	# let late (wrong) orders show up too

# The manager holds the incident once every blocked node's reports are in.
sem_has_all() {
	local t k n
	t=$(bed_semctl incidents show "$inc" 2>/dev/null) || return 1
	for k in "${!EXPECT[@]}"; do
		read -r n _ <<<"$k"
		grep -q -- "- $n\$" <<<"$t" || return 1
	done
}
if [ "$BED_SEM_UP" = 1 ]; then
	for i in $(seq 1 50); do
		sem_has_all && break
		sleep 0.2
	done
	sem_has_all || { say "demo: the manager does not hold every node's reports yet: per-node view"; BED_SEM_UP=0; }
fi

say ""
say "== trace of incident $inc =="
shown=0
if [ "$BED_SEM_UP" = 1 ]; then
	say "(from the manager: iasctl --manager incidents show $inc)"
	bed_semctl incidents show "$inc" 2>/dev/null && shown=1
fi
if [ "$shown" = 0 ]; then
	for n in $nodes; do
		t=$(bed_iasctl "$n" incidents show "$inc" 2>/dev/null) || continue
		say "-- $n"
		say "$t"
	done
fi

say ""
say "== blocks =="
if [ "$BED_SEM_UP" = 1 ] && say "(from the manager: iasctl --manager fabric status)" &&
	bed_semctl fabric status 2>/dev/null; then
	:
else
	for n in $nodes; do
		t=$(bed_iasctl "$n" blocks list --incident "$inc" 2>/dev/null | tail -n +2)
		[ -n "$t" ] || continue
		say "-- $n"
		bed_iasctl "$n" blocks list --incident "$inc"
	done
fi

# Count from the agents' own records: QPs and nodes, last block time.
nqps=0 nnodes=0 last=0
for n in $nodes; do
	q=$(bed_iasctl "$n" -o json blocks list --incident "$inc" 2>/dev/null |
		awk '/"qpns": \[/ { inq = 1; next } inq && /\]/ { inq = 0 } inq && /[0-9]/ { c++ } END { print c + 0 }')
	[ "$q" -gt 0 ] || continue
	nqps=$((nqps + q))
	nnodes=$((nnodes + 1))
	l=$(bed_iasctl "$n" -o json incidents show "$inc" 2>/dev/null |
		awk '/"ts_ms":/ { gsub(/[^0-9]/, "", $2); ts = $2 + 0 } /"kind": "block"/ { if (ts > m) m = ts } END { printf "%.0f\n", m }')
	[ "$l" -gt "$last" ] && last=$l
done
ms=$(( last > t0 ? last - t0 : 0 ))

status=0
say ""
say "== check =="
for k in "${!EXPECT[@]}"; do
	read -r n name <<<"$k"
	got=$(orders "$n" "$name")
	if [ "$got" = "${EXPECT[$k]}" ]; then
		say "  ok: $name on $n paused: $got"
	else
		say "  MISSING: $name on $n expected ${EXPECT[$k]}got ${got:-nothing}"
		status=1
	fi
done
IFS='|' read -r -a inn <<<"$innocent"
for k in "${inn[@]}"; do
	[ -n "$k" ] || continue
	read -r n name <<<"$k"
	if grep -q '^order' "$BED/$n/$name.out"; then
		say "  WRONG: innocent $name on $n got orders: $(orders "$n" "$name")"
		status=1
	else
		say "  ok: innocent $name on $n untouched"
	fi
done

say ""
say "== release =="
for n in $nodes; do
	[ -n "$(bed_iasctl "$n" blocks list --incident "$inc" 2>/dev/null | tail -n +2)" ] || continue
	t=$(bed_iasctl "$n" blocks release --incident "$inc" 2>&1 | tail -1)
	say "  $n: $t"
done
if [ "$BED_SEM_UP" = 1 ]; then
	for i in $(seq 1 25); do
		bed_semctl incidents list 2>/dev/null | grep -q "^$inc .*released" && break
		sleep 0.2
	done
	say "(the manager's incidents after the release)"
	bed_semctl incidents list 2>/dev/null
fi

[ "$status" = 0 ] || bed_dump_logs
bed_cleanup
echo "demo: blocked $nqps QPs on $nnodes nodes in $ms ms"
exit "$status"
