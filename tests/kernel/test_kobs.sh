#!/usr/bin/env bash
# Kernel test: kobs (sema/bpf), the kernel's own view of QPs through eBPF, in
# a QEMU guest with two soft-RoCE "nodes" (rxe0, rxe1). Stock Debian programs
# only (no libias, no preload):
#  - where BPF cannot be used, ias-kobs says why in one line (exit 2);
#  - ias-kobs loads and pins; an ibv_rc_pingpong server on rxe0 and client on
#    rxe1: for each of the two RC QPs, the record's owner pid is the one
#    rdma netlink (`rdma res show qp -j`) gives, its start time is field 22
#    of /proc/PID/stat, its destination QPN is the other QP (and rdma's
#    rqpn), its destination GID the other node's, its port 1, state RTS;
#  - change events came through the ring buffer (create, modify, destroy);
#  - a second ias-kobs finds the pinned programs and the same records;
#  - when the processes exit, their records go;
#  - UD: an ibv_ud_pingpong pair: UD QP records with their owners, and the
#    address handles rxe creates in the kernel, with the destination GID;
#  - unload removes the pins.
# On the host this script boots the guest and runs itself inside it
# (--guest); the guest part reports through tests/lib/tap.sh and the host
# (host_lib.sh, guest_tap) counts its results.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	KOBS=$2
	# shellcheck source=../lib/tap.sh
	. "$top_srcdir/tests/lib/tap.sh"
	same() { [ -n "$1" ] && [ "$1" = "$2" ]; }
	pin=/sys/fs/bpf/ias-test
	# A socket in LISTEN on the port.
	listening() { awk -v p=":$(printf '%04X' "$1")" 'substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 } END { exit !f }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null; }
	wait_port() { for _ in $(seq 1 150); do listening "$1" && return 0; kill -0 "$2" 2>/dev/null || return 1; sleep 0.2; done; return 1; }
	stop_pid() {
		kill "$1" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
	}

	# pair TOOL PORT: a server on rxe0 and a client on rxe1, endless; sets
	# $psrv and $pcli (empty when the server never listened).
	pair() {
		"$1" -d rxe0 -g "$IAS_GID6_0" -n 1000000000 -p "$2" >"/tmp/$1.srv" 2>&1 &
		psrv=$! pcli=""
		wait_port "$2" $psrv || return
		"$1" -d rxe1 -g "$IAS_GID6_1" -n 1000000000 -p "$2" "$IAS_ADDR4_0" >"/tmp/$1.cli" 2>&1 &
		pcli=$!
	}

	# 1. Unavailable: a pin directory that is not on a bpf filesystem.
	why=$("$KOBS" -d /tmp/not-bpffs load 2>&1)
	check "no bpffs: exit status 2" [ $? -eq 2 ]
	check "no bpffs: one-line reason ($why)" [ "$(printf '%s\n' "$why" | grep -c 'bpf filesystem')" -eq 1 ]

	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	out=$("$KOBS" -d $pin load 2>&1)
	check "load: programs loaded and pinned ($out)" [ "$out" = "loaded $pin" ]
	[ "$out" = "loaded $pin" ] || echo "# load: $out"
	"$KOBS" -d $pin watch >/tmp/events 2>&1 &
	watch=$!

	# 2. RC between the nodes: server on rxe0, client on rxe1.
	pair ibv_rc_pingpong 18600
	srv=$psrv cli=$pcli
	check "rc pingpong pair started" [ -n "$cli" ]
	for _ in $(seq 1 100); do
		rdma res show qp -j >/tmp/rdma.json 2>/dev/null
		[ "$(jq '[.[] | select(.type == "RC" and .state == "RTS" and .pid != null)] | length' /tmp/rdma.json)" -ge 2 ] && break
		sleep 0.2
	done
	"$KOBS" -d $pin dump -j >/tmp/kobs.json
	check "dump -j succeeds" [ $? -eq 0 ]
	"$KOBS" -d $pin dump | sed 's/^/# kobs: /'
	jq -c '.[] | select(.pid != null)' /tmp/rdma.json | sed 's/^/# rdma: /'
	rdmaf() { jq -r --arg d "$1" --argjson p "$2" "[.[] | select(.ifname == \$d and .pid == \$p and .type == \"$3\")][0].$4 // empty" /tmp/rdma.json; }
	kobsf() { jq -r --arg d "$1" --argjson q "$2" "[.[] | select(.dev == \$d and .qpn == \$q)][0].$3 // empty" /tmp/kobs.json; }
	sq=$(rdmaf rxe0 "$srv" RC lqpn) cq=$(rdmaf rxe1 "${cli:-0}" RC lqpn)
	echo "# server pid $srv qpn ${sq:-?} on rxe0; client pid ${cli:-?} qpn ${cq:-?} on rxe1"
	for side in srv cli; do
		if [ $side = srv ]; then dev=rxe0 pid=$srv q=${sq:-0} other=${cq:-0} ogid=$IAS_ADDR6_1
		else dev=rxe1 pid=${cli:-0} q=${cq:-0} other=${sq:-0} ogid=$IAS_ADDR6_0; fi
		check "$side: record for $dev qpn $q" [ -n "$(kobsf $dev "$q" qpn)" ]
		check "$side: owner pid is rdma netlink's ($pid)" same "$(kobsf $dev "$q" pid)" "$pid"
		st=$(awk '{ print $22 }' /proc/"$pid"/stat 2>/dev/null)
		check "$side: owner start is /proc/$pid/stat field 22 ($st)" same "$(kobsf $dev "$q" start_ticks)" "$st"
		check "$side: dest qpn is the other QP ($other)" same "$(kobsf $dev "$q" dest_qpn)" "$other"
		check "$side: dest qpn is rdma's rqpn" same "$(kobsf $dev "$q" dest_qpn)" "$(rdmaf $dev "$pid" RC rqpn)"
		check "$side: dest gid is the other node's ($ogid)" same "$(kobsf $dev "$q" dgid)" "$ogid"
		check "$side: av port 1, state RTS, type RC" same "$(kobsf $dev "$q" av_port)/$(kobsf $dev "$q" state)/$(kobsf $dev "$q" type)" "1/RTS/RC"
		cg=$(kobsf $dev "$q" cgroup_id)
		check "$side: a cgroup id ($cg)" [ "${cg:-0}" != 0 ]
	done
	"$KOBS" -d $pin lookup rxe1 "${cq:-0}" >/tmp/look
	check "lookup rxe1 ${cq:-0} finds the client's QP" [ "$(awk '{ print $6 }' /tmp/look)" = "${cli:-x}" ]
	"$KOBS" -d $pin lookup rxe0 999999 >/dev/null
	check "lookup of an unknown QP: exit 3" [ $? -eq 3 ]

	# 3. Re-open: the pinned programs and records are found again.
	out=$("$KOBS" -d $pin load 2>&1)
	check "second open finds the pins ($out)" [ "$out" = "pinned $pin" ]
	"$KOBS" -d $pin dump -j >/tmp/kobs2.json
	check "the records survive the re-open" same "$(jq -c 'sort_by(.dev, .qpn) | map([.dev, .qpn, .pid, .dest_qpn])' /tmp/kobs2.json)" \
		"$(jq -c 'sort_by(.dev, .qpn) | map([.dev, .qpn, .pid, .dest_qpn])' /tmp/kobs.json)"

	# 4. Destroy: the processes exit, their records go.
	stop_pid "$srv"
	[ -n "$cli" ] && stop_pid "$cli"
	left=1
	for _ in $(seq 1 50); do
		"$KOBS" -d $pin dump -j >/tmp/kobs3.json
		left=$(jq --argjson s "$srv" --argjson c "${cli:-0}" '[.[] | select(.pid == $s or .pid == $c)] | length' /tmp/kobs3.json)
		[ "$left" = 0 ] && break
		sleep 0.2
	done
	check "after exit the RC records are gone ($left left)" [ "$left" = 0 ]

	# 5. UD: ibv_ud_pingpong, server on rxe0, client on rxe1.
	pair ibv_ud_pingpong 18601
	usrv=$psrv ucli=$pcli
	check "ud pingpong pair started" [ -n "$ucli" ]
	for _ in $(seq 1 100); do
		"$KOBS" -d $pin dump -a -j >/tmp/ah.json
		[ "$(jq 'length' /tmp/ah.json)" -ge 2 ] && break
		sleep 0.2
	done
	"$KOBS" -d $pin dump -j >/tmp/ud.json
	"$KOBS" -d $pin dump -a | sed 's/^/# kobs ah: /'
	udq() { jq --arg d "$1" --argjson p "$2" '[.[] | select(.dev == $d and .pid == $p and .type == "UD" and .state == "RTS")] | length' /tmp/ud.json; }
	ahg() { jq -r --arg d "$1" --argjson p "$2" '[.[] | select(.dev == $d and .pid == $p)][0].dgid // empty' /tmp/ah.json; }
	check "ud: the server's UD QP with its pid" [ "$(udq rxe0 "$usrv")" -ge 1 ]
	check "ud: the client's UD QP with its pid" [ "$(udq rxe1 "${ucli:-0}")" -ge 1 ]
	check "ud: the server's kernel AH points at the client's node" same "$(ahg rxe0 "$usrv")" "$IAS_ADDR6_1"
	check "ud: the client's kernel AH points at the server's node" same "$(ahg rxe1 "${ucli:-0}")" "$IAS_ADDR6_0"
	stop_pid "$usrv"
	[ -n "$ucli" ] && stop_pid "$ucli"

	# 6. Events that came through the ring buffer while all this ran.
	stop_pid "$watch"
	sed 's/^/# event: /' /tmp/events | head -30
	for e in create modify destroy ah_create; do
		check "ring buffer: $e events" grep -q "^$e " /tmp/events
	done

	# 7. Unload.
	"$KOBS" -d $pin unload
	rc=$?
	[ -e $pin ] && rc=1
	check "unload succeeds and removes the pins" [ $rc -eq 0 ]
	guest_done
fi

# Host part.
# shellcheck source=host_lib.sh
. "$here/host_lib.sh"
guest_needs ias-kobs
guest_tap --nodes 2 -- "$here/test_kobs.sh" --guest "$bdir/ias-kobs"
