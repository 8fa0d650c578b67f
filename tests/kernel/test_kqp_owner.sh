#!/usr/bin/env bash
# Kernel test: QP ownership as kqp_dump (sema/rdmanl) reads it from the real
# kernel, in a QEMU guest with one soft-RoCE device.
#  - freshly booted: only kernel QPs (GSI), none with a pid;
#  - with an ibv_rc_pingpong server and client running: their RC QPs, with
#    their PIDs, each one's rqpn the other's lqpn, matching iproute2's view;
#  - after they exit: their QPs are gone.
# On the host this script boots the guest and runs itself inside it
# (--guest); the guest part reports through tests/lib/tap.sh and the host part
# (host_lib.sh, guest_tap) counts its results.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	kqp=$2
	# shellcheck source=../lib/tap.sh
	. "$top_srcdir/tests/lib/tap.sh"
	fresh=$(mktemp) qps=$(mktemp)

	"$kqp" -a >"$fresh"
	check "fresh guest: kqp_dump succeeds" [ $? -eq 0 ]
	check "fresh guest: at least one QP reported" [ -s "$fresh" ]
	check "fresh guest: a GSI QP on rxe0" grep -q '^rxe0 1 1 - GSI RTS - ' "$fresh"
	check "fresh guest: no QP has a pid" awk '$7 != "-" { exit 1 }' "$fresh"
	check "fresh guest: every QP names its kernel owner" awk '$11 == "-" { exit 1 }' "$fresh"
	sed 's/^/# fresh: /' "$fresh"

	port=18515
	ibv_rc_pingpong -d rxe0 -g "$IAS_GID6_0" -n 1000000000 -p $port >/tmp/srv.log 2>&1 &
	srv=$!
	cli=""
	for _ in $(seq 1 100); do
		# The server listens once it has set up its QP.
		if grep -q ":$(printf '%04X' $port) " /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			ibv_rc_pingpong -d rxe0 -g "$IAS_GID6_0" -n 1000000000 -p $port localhost \
				>/tmp/cli.log 2>&1 &
			cli=$!
			break
		fi
		sleep 0.2
	done
	check "pingpong client started" [ -n "$cli" ]
	# Wait (bounded) until both RC QPs are connected.
	for _ in $(seq 1 100); do
		"$kqp" >"$qps"
		[ "$(awk '$5 == "RC" && $6 == "RTS"' "$qps" | wc -l)" -ge 2 ] && break
		sleep 0.2
	done
	sed 's/^/# running: /' "$qps"
	sline=$(awk -v p="$srv" '$5 == "RC" && $7 == p' "$qps")
	cline=$(awk -v p="${cli:-none}" '$5 == "RC" && $7 == p' "$qps")
	check "server's RC QP reported with the server's pid ($srv)" [ "$(printf '%s\n' "$sline" | grep -c .)" -eq 1 ]
	check "client's RC QP reported with the client's pid (${cli:-none})" [ "$(printf '%s\n' "$cline" | grep -c .)" -eq 1 ]
	read -r _ _ slq srq _ sst _ <<<"$sline"
	read -r _ _ clq crq _ cst _ <<<"$cline"
	same() { [ -n "$1" ] && [ "$1" = "$2" ]; }
	check "server rqpn (${srq:-}) is the client's lqpn (${clq:-})" same "${clq:-}" "${srq:-}"
	check "client rqpn (${crq:-}) is the server's lqpn (${slq:-})" same "${slq:-}" "${crq:-}"
	check "both RC QPs in RTS" same "${sst:-}/${cst:-}" "RTS/RTS"
	# Independent reader: iproute2's "rdma res show qp" must list the same
	# lqpn/pid pairs.
	ours=$(awk '{ print $3, $7 }' "$qps" | sort)
	theirs=$(rdma res show qp | awk '{
		l = "-"; p = "-"
		for (i = 1; i < NF; i++) { if ($i == "lqpn") l = $(i + 1); if ($i == "pid") p = $(i + 1) }
		print l, p }' | sort)
	check "lqpn/pid pairs match iproute2 rdma res show qp" [ "$ours" = "$theirs" ]
	[ "$ours" = "$theirs" ] || { echo "# ours: $ours" | tr '\n' ' '; echo; echo "# rdma: $theirs" | tr '\n' ' '; echo; }

	kill "$srv" ${cli:+"$cli"} 2>/dev/null
	wait 2>/dev/null
	"$kqp" >"$qps"
	check "after the processes exit their QPs are gone" \
		awk -v s="$srv" -v c="${cli:-none}" '$7 == s || $7 == c { exit 1 }' "$qps"
	check "no user QP left at all" awk '$7 != "-" { exit 1 }' "$qps"
	guest_done
fi

# Host part.
# shellcheck source=host_lib.sh
. "$here/host_lib.sh"
guest_needs tests/kernel/kqp_dump
kqp=$bdir/tests/kernel/kqp_dump
guest_tap --nodes 1 -- "$here/test_kqp_owner.sh" --guest "$kqp"
