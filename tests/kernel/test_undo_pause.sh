#!/usr/bin/env bash
# Kernel test: a process that undoes its pause is caught and frozen, in a
# QEMU guest with one agent and block_mode = pause (per-QP orders trusted by
# policy).
# tests/kernel/unhook_prog registers its two RC QPs through libias-preload,
# then copies the provider's own post functions back over libias's gate (from
# a second context it opens through libibverbs itself), and keeps SENDing.
#  - its QPs are registered through libias, and traffic flows;
#  - ReportAttack: the block is pause(2), libias applies the orders, but the
#    sends go on;
#  - the agent's PSN watch sees the send PSN move past the grace period and
#    escalates the block to a freeze: the process is frozen in a root-owned
#    block cgroup, traffic stops, and the incident's "escalated" event and
#    the log say why;
#  - release thaws it and traffic flows again.
# The guest part reports through tests/lib/tap.sh; the host part (host_lib.sh,
# guest_tap) counts its results.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	B=$2
	PRE=$B/verbs_ext/.libs/libias-preload.so PROG=$B/tests/kernel/unhook_prog
	D=/tmp/undopause CG=/sys/fs/cgroup
	# shellcheck source=../lib/tap.sh
	. "$top_srcdir/tests/lib/tap.sh"
	# shellcheck source=../lib/daemon.sh
	. "$top_srcdir/tests/lib/daemon.sh"
	sema_setup $D/agent "block_duration = 0" "kernel_scan_interval = 1s" "block_mode = pause" \
		>/dev/null && sema_start $D/agent || { not_ok "agent started in the guest"; exit 1; }
	ok "agent started in the guest (block_mode = pause)"
	ctl() { "$IASCTL" --socket $D/agent/sema.sock "$@"; }
	env LD_PRELOAD="$PRE" IAS_SOCKET=$D/agent/sema.sock "$PROG" rxe0 "$IAS_GID6_0" $D/st \
		>$D/prog.out 2>$D/prog.err &
	P=$!
	for _ in $(seq 1 100); do grep -q '^READY' $D/prog.out && break; sleep 0.1; done
	sed 's/^/# prog: /' $D/prog.out $D/prog.err
	check "the program's RC pair is up" grep -q "^READY pid=$P " $D/prog.out
	sends() { awk '{ print $1 }' $D/st 2>/dev/null; }
	COUNT=sends
	# shellcheck source=traffic_lib.sh
	. "$here/traffic_lib.sh"
	libias_qps() { ctl -o json qps list --pid "$P" | grep -c '"source": *"[^"]*libias'; }
	check "both QPs registered through libias" [ "$(libias_qps)" -ge 2 ]
	check "traffic flows" flowing
	check "the program undid libias's post gate" bash -c "awk '{ exit \$2 != 1 }' $D/st"

	out=$(ctl report --pid "$P" --reason undo-pause)
	echo "# report: $out"
	inc=$(sed -n 's/.*incident \(I-[0-9a-f]*-[0-9]*\).*/\1/p' <<<"$out")
	m=$(ctl -o json blocks list --pid "$P" | grep -o '"mechanism": *"[^"]*"')
	echo "# block: $m"
	check "the block is a per-QP pause of both QPs" grep -q 'pause(2)' <<<"$m"
	frozen() {
		local cg
		cg=$(sed -n 's/^0:://p' /proc/$P/cgroup)
		case $cg in /ias.blocks/ias-block-*) grep -q '^frozen 1' "$CG$cg/cgroup.events" ;; *) return 1 ;; esac
	}
	caught() { for _ in $(seq 1 100); do frozen && return 0; sleep 0.05; done; return 1; }
	check "the PSN watch escalates to a freeze: the process is frozen under /ias.blocks" caught
	# The agent's own times (the guest's commands are slow under TCG).
	grep -hE 'blocked PID|escalated to freeze|frozen after' $D/agent/sema.log | cut -c1-12,13-70 | sed 's/^/# agent: /'
	check "traffic stops" stopped
	grep 'escalated to freeze' $D/agent/sema.log | sed 's/^/# log: /'
	check "the log says why" grep -q 'the process undid the pause or posted through a path libias does not gate; escalated to freeze' $D/agent/sema.log
	isw=$(ctl incidents show "$inc")
	sed 's/^/# /' <<<"$isw"
	check "the incident records the escalation and why" bash -c "grep -q escalated <<<'$isw' && grep -q 'not kept' <<<'$isw'"

	rel=$(ctl blocks release --pid "$P")
	echo "# release: $rel"
	released() { ! grep -q ias.blocks /proc/$P/cgroup && ! frozen; }
	check "release thaws and moves it back" released
	check "traffic flows again after release" flowing
	kill "$P" 2>/dev/null
	sema_stop
	guest_done
fi

# Host part.
# shellcheck source=host_lib.sh
. "$here/host_lib.sh"
guest_needs tests/kernel/unhook_prog verbs_ext/.libs/libias-preload.so sema/sema iasctl/iasctl
guest_tap --nodes 1 --timeout 200 -- "$here/test_undo_pause.sh" --guest "$bdir"
