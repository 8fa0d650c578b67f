#!/usr/bin/env bash
# Time to block: fail2ban against IAS, side by side in one invocation, on
# the host (root).
#  - fail2ban: `fail2ban-client set iasbench banip ADDR` until ADDR is in
#    the nftables set of the jail (`nft list set ...`, polled). The server
#    runs from a temporary config dir (fail2ban-server -c DIR -s SOCK) inside
#    a network namespace of its own, so its rules land in that namespace's
#    ruleset: nothing of the host's fail2ban config or firewall is touched.
#  - IAS: `iasctl report --pid P` on a real agent in a temporary directory
#    (block_mode = freeze) until the block is committed (iasctl returned)
#    and enforced (P is stopped: cgroup v2 freeze or SIGSTOP; /proc polled).
#  - each command-line client alone (fail2ban-client ping, iasctl status),
#    since client start-up is most of both figures.
# Runs are interleaved; prints medians and the ratio. Installs fail2ban and
# nftables with apt-get when missing. Not part of the test suite.
#   tests/bench/bench_fail2ban.sh [BUILD_DIR] [N]     (default build, 21)
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${1:-$src/build}" && pwd)
N=${2:-21}
export top_srcdir=$src top_builddir
[ "$(id -u)" -eq 0 ] || { echo "bench_fail2ban: needs root (fail2ban's firewall actions)"; exit 1; }
missing=""
command -v fail2ban-server >/dev/null || missing="$missing fail2ban"
command -v nft >/dev/null || missing="$missing nftables"
if [ -n "$missing" ]; then
	echo "# installing:$missing"
	# shellcheck disable=SC2086
	{ DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing ||
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends $missing; }; } >/dev/null 2>&1 ||
		{ echo "bench_fail2ban: could not install:$missing"; exit 1; }
fi
. "$src/tests/lib/tap.sh"
. "$src/tests/lib/daemon.sh"
# The real iasctl binary rather than libtool's wrapper script.
[ -x "$top_builddir/sema/.libs/iasctl" ] && IASCTL=$top_builddir/sema/.libs/iasctl
export LD_LIBRARY_PATH=$top_builddir/verbs_ext/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

T=$(mktemp -d /tmp/ias-bench-f2b.XXXXXX)
NS=ias-f2b-$$
F2B=$T/f2b
f2b_pid="" victim=""
cleanup() {
	[ -n "$victim" ] && kill -9 "$victim" 2>/dev/null
	if [ -n "$f2b_pid" ]; then
		fail2ban-client -s "$F2B/f2b.sock" stop >/dev/null 2>&1
		for _ in $(seq 1 50); do kill -0 "$f2b_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$f2b_pid" 2>/dev/null
	fi
	sema_stop
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fail2ban: a private config dir, one jail whose filter never matches (bans
# come only from the client), the stock nftables action.
mkdir -p "$F2B/filter.d"
cp -r /etc/fail2ban/action.d "$F2B/"
cp /etc/fail2ban/paths-*.conf "$F2B/"
cat >"$F2B/fail2ban.conf" <<EOF
[Definition]
loglevel = INFO
logtarget = $F2B/fail2ban.log
socket = $F2B/f2b.sock
pidfile = $F2B/f2b.pid
dbfile = :memory:
EOF
cat >"$F2B/filter.d/iasbench.conf" <<'EOF'
[Definition]
failregex = ^iasbench-never-written from <HOST>$
EOF
: >"$F2B/empty.log"
cat >"$F2B/jail.conf" <<EOF
[INCLUDES]
before = paths-debian.conf
[DEFAULT]
backend = polling
bantime = 3600
maxretry = 3
[iasbench]
enabled = true
filter = iasbench
logpath = $F2B/empty.log
action = nftables[type=allports, name=iasbench]
EOF
ip netns add "$NS" || { echo "bench_fail2ban: cannot create a network namespace"; exit 1; }
ip netns exec "$NS" fail2ban-server -f -x -c "$F2B" -s "$F2B/f2b.sock" -p "$F2B/f2b.pid" \
	>"$F2B/server.out" 2>&1 &
f2b_pid=$!
for _ in $(seq 1 100); do
	fail2ban-client -s "$F2B/f2b.sock" ping 2>/dev/null | grep -q pong && break
	sleep 0.1
done
fail2ban-client -s "$F2B/f2b.sock" status iasbench >/dev/null 2>&1 ||
	{ echo "bench_fail2ban: fail2ban-server did not come up"; cat "$F2B/server.out" "$F2B/fail2ban.log"; exit 1; }

sema_setup "$T/ias" "log_level = warning" "block_mode = freeze" "block_duration = 0" || exit 1
sema_start "$T/ias" || exit 1

now() { echo "${EPOCHREALTIME/./}"; } # microseconds, no fork
in_set() { ip netns exec "$NS" nft list set inet f2b-table addr-set-iasbench 2>/dev/null | grep -qw "$1"; }
stopped() { # PID stopped by SIGSTOP, or its cgroup v2 frozen
	local l cg
	while read -r l; do
		case $l in State:*T*) return 0 ;; State:*) break ;; esac
	done <"/proc/$1/status"
	cg=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
	[ -n "$cg" ] && grep -qs '^frozen 1' "/sys/fs/cgroup$cg/cgroup.events"
}
# f2b_ban ADDR -> "RETURNED_US INPLACE_US POLLS"
f2b_ban() {
	local t0 t1 t2 n=0
	t0=$(now)
	fail2ban-client -s "$F2B/f2b.sock" set iasbench banip "$1" >/dev/null || { echo fail; return; }
	t1=$(now)
	until in_set "$1"; do
		n=$((n + 1))
		[ $n -gt 5000 ] && { echo fail; return; }
	done
	t2=$(now)
	echo "$((t1 - t0)) $((t2 - t0)) $n"
}
# ias_block -> "RETURNED_US ENFORCED_US POLLS"
ias_block() {
	local t0 t1 t2 n=0 r
	sleep 1000 &
	victim=$!
	t0=$(now)
	"$IASCTL" report --pid "$victim" --reason bench >/dev/null
	r=$?
	t1=$(now)
	if [ $r -ne 0 ]; then echo fail; else
		until stopped "$victim"; do
			n=$((n + 1))
			[ $n -gt 100000 ] && break
		done
		t2=$(now)
		[ $n -gt 100000 ] && echo fail || echo "$((t1 - t0)) $((t2 - t0)) $n"
	fi
	"$IASCTL" blocks release --pid "$victim" >/dev/null 2>&1
	kill -9 "$victim" 2>/dev/null
	wait "$victim" 2>/dev/null
	victim=""
}
# The client alone: a trivial request (start-up + one round trip), to see
# how much of each figure is the command-line client.
ping_f2b() { local t0; t0=$(now); fail2ban-client -s "$F2B/f2b.sock" ping >/dev/null || { echo fail; return; }; echo "$(($(now) - t0)) 0"; }
ping_ias() { local t0; t0=$(now); "$IASCTL" status >/dev/null || { echo fail; return; }; echo "$(($(now) - t0)) 0"; }
# Poll cost of each side (the resolution of the "in place" times).
pc() { local t0 i; t0=$(now); for i in 1 2 3 4 5 6 7 8 9 10; do "$@" >/dev/null; done; echo $((($(now) - t0) / 10)); }

# The first ban of a jail also creates its table and set: measured apart.
first=$(f2b_ban 198.51.100.1)
echo "# fail2ban first ban (also creates the nftables table): $first"
echo "# warm-up IAS report: $(ias_block)"
res=""
for i in $(seq 1 "$N"); do
	res+="f2b $(f2b_ban "198.51.100.$((i + 1))")"$'\n'
	res+="ias $(ias_block)"$'\n'
	res+="pf2b $(ping_f2b)"$'\n'
	res+="pias $(ping_ias)"$'\n'
done
sleep 1000 &
victim=$!
poll_f2b=$(pc in_set 198.51.100.250)
poll_ias=$(pc stopped "$victim")
kill -9 "$victim"; wait "$victim" 2>/dev/null; victim=""
mech=$("$IASCTL" -o json blocks list --all 2>/dev/null | grep -o '"mechanism": *"[^"]*"' | sort | uniq -c | tr -s ' ')
note=$("$IASCTL" -o json blocks list --all 2>/dev/null | grep -o '"release_note": *"[^"]*"' | tail -1)
banned=$(ip netns exec "$NS" nft list set inet f2b-table addr-set-iasbench | grep -o '198\.51\.100\.[0-9]*' | wc -l)

med() { sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v k="$1" -v c="$2" '$1 == k && $2 != "fail" { printf "%.2f\n", $c / 1000 }' <<<"$res"; } # microseconds -> ms
fails() { awk -v k="$1" '$1 == k && $2 == "fail"' <<<"$res" | wc -l; }
spread() { sort -g | awk '{ a[NR] = $1 } END { if (NR) printf "%s-%s", a[1], a[NR] }'; }
fr=$(col f2b 2 | med) fi=$(col f2b 3 | med)
ir=$(col ias 2 | med) ii=$(col ias 3 | med)
echo "# IAS mechanisms used: $mech; last $note"
echo "# addresses in the fail2ban set at the end: $banned (expected $((N + 1)))"
echo "# poll cost: fail2ban (ip netns exec nft list set) $((poll_f2b / 1000)).$(((poll_f2b % 1000) / 100)) ms, IAS (/proc read) $poll_ias us"
echo
printf '%-40s %12s %12s %8s\n' "time to block, median of $N (ms)" fail2ban IAS "f2b/IAS"
printf '%-40s %12s %12s %8s\n' "command returned" "$fr" "$ir" "$(awk -v a="$fr" -v b="$ir" 'BEGIN { printf "%.1f", a / b }')"
printf '%-40s %12s %12s %8s\n' "rule in place / process stopped" "$fi" "$ii" "$(awk -v a="$fi" -v b="$ii" 'BEGIN { printf "%.1f", a / b }')"
pf=$(col pf2b 2 | med) pi=$(col pias 2 | med)
printf '%-40s %12s %12s %8s\n' "client alone (ping / status)" "$pf" "$pi" "$(awk -v a="$pf" -v b="$pi" 'BEGIN { printf "%.1f", a / b }')"
printf '%-40s %12s %12s %8s\n' "in place minus client alone" "$(awk -v a="$fi" -v b="$pf" 'BEGIN { printf "%.2f", a - b }')" \
	"$(awk -v a="$ii" -v b="$pi" 'BEGIN { printf "%.2f", a - b }')" \
	"$(awk -v a="$fi" -v b="$pf" -v c="$ii" -v d="$pi" 'BEGIN { if (c - d > 0) printf "%.1f", (a - b) / (c - d); else print "n/a" }')"
printf '%-40s %12s %12s\n' "in place: range (min-max)" "$(col f2b 3 | spread)" "$(col ias 3 | spread)"
printf '%-40s %12s %12s\n' "failures" "$(fails f2b)" "$(fails ias)"
