#!/usr/bin/env bash
# Kernel test: libias gates the extended post API (ibv_wr_*), in a QEMU guest
# with one soft-RoCE device and a real agent, one boot for all.
# wr_gate_prog makes two RC QPs with ibv_create_qp_ex (send ops SEND and
# RDMA_WRITE), connects them to each other and posts with ibv_wr_* only, under
# libias-preload.so:
#  - the QPs are registered with the agent as they are created (before any
#    ibv_modify_qp), and the remote QPN is recorded at RTR;
#  - running: ibv_wr_complete returns 0, completions arrive, the kernel's
#    send PSN moves;
#  - after `iasctl report --pid`: ibv_wr_complete fails with EAGAIN, nothing
#    completes and the send PSN (rdma netlink, kqp_dump -a) does not move;
#  - after `iasctl blocks release`: posts work and complete again;
#  - block_mode=cut: ibv_wr_complete fails with EPERM, the QP is in ERR.
# The guest part reports through tests/lib/tap.sh; the host part (host_lib.sh,
# guest_tap) counts its results.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	B=$2
	PRE=$B/verbs_ext/.libs/libias-preload.so PROG=$B/tests/kernel/wr_gate_prog
	KQP=$B/tests/kernel/kqp_dump
	D=/tmp/wrgate
	# shellcheck source=../lib/tap.sh
	. "$top_srcdir/tests/lib/tap.sh"
	# shellcheck source=../lib/daemon.sh
	. "$top_srcdir/tests/lib/daemon.sh"
	# A start that fails shows the agent's log (daemon.sh) and ends the guest
	# part: every later check needs the agent.
	# Per-QP orders are what this test is about: pause is chosen explicitly
	# (the default mode is freeze).
	sema_setup $D/agent "block_duration = 0" "kernel_scan_interval = 1s" "block_mode = pause" >/dev/null &&
		sema_start $D/agent || { not_ok "agent started in the guest"; exit 1; }
	ok "agent started in the guest"
	ctl() { "$IASCTL" --socket $D/agent/sema.sock "$@"; }

	coproc PROGP { exec env LD_PRELOAD="$PRE" IAS_SOCKET=$D/agent/sema.sock \
		"$PROG" rxe0 "$IAS_GID6_0" 2>$D/prog.err; }
	# Copies of the coprocess's pipes (bash keeps its own from subshells).
	exec {IN}>&"${PROGP[1]}" {OUT}<&"${PROGP[0]}"
	say() { echo "$1" >&"$IN"; }
	# get VAR: the next line from the program (bounded wait), "" if none.
	get() { IFS= read -r -t 20 "$1" <&"$OUT" || printf -v "$1" ''; }
	# batch CMD: send it; LAST = "POST rc=R" or "CQE ...", CQE = the
	# completions after a successful post.
	batch() {
		say "$1"
		get LAST
		CQE=""
		case $LAST in "POST rc=0") get CQE ;; esac
		echo "# $1: $LAST${CQE:+, $CQE}"
	}
	# until_rc R: probe (bounded) until wr_complete returns R.
	until_rc() {
		for _ in $(seq 1 60); do
			batch probe
			[ "$LAST" = "POST rc=$1" ] && return 0
			sleep 0.2
		done
		return 1
	}
	moved() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]; }
	still() { [ -n "$1" ] && [ "$1" = "$2" ]; }
	psn() { "$KQP" -a | awk -v q="$QA" '$3 == q && $5 == "RC" { print $8 }'; }
	kstate() { "$KQP" | awk -v q="$QA" '$3 == q && $5 == "RC" { print $6 }'; }

	get line
	echo "# $line"
	case $line in
	CREATED*) ;;
	*)
		# Say why, and stop here: every later check needs the QPs.
		echo "# rxe: ibv_create_qp_ex with send_ops_flags failed: ${line:-no output}"
		sed 's/^/# prog: /' $D/prog.err
		not_ok "ibv_create_qp_ex with send ops SEND|RDMA_WRITE on rxe0"
		sema_stop
		exit 1
		;;
	esac
	ok "ibv_create_qp_ex with send ops SEND|RDMA_WRITE on rxe0 gives a qp_ex"
	PID=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$line")
	QA=$(sed -n 's/.* a=\([0-9]*\).*/\1/p' <<<"$line")
	QB=$(sed -n 's/.* b=\([0-9]*\).*/\1/p' <<<"$line")
	# qps_of: "qpn state remote_qpn source" of the process's QPs, per the agent.
	qps_of() {
		ctl -o json qps list --pid "$PID" | python3 -c '
import json, sys
d = json.load(sys.stdin)
qs = d.get("qps", d) if isinstance(d, dict) else d
for q in qs:
    print(q.get("qpn"), q.get("qp_state", "-"), q.get("remote_qpn", "-"), q.get("source", "-"))'
	}
	registered() { # QPN [REMOTE]: a libias registration (with that remote QPN)
		qps_of | awk -v q="$1" -v r="${2:-}" '$1 == q && $4 ~ /libias/ && (r == "" || $3 == r) { f = 1 } END { exit !f }'
	}
	qps_of | sed 's/^/# agent after create (qpn state rqpn source): /'
	both() { registered "$QA" && registered "$QB"; }
	check "both QPs registered with the agent at creation, before any modify" both

	say connect
	get line
	echo "# $line"
	check "QPs connected to each other (RTS)" [ "${line%% *}" = READY ]
	qps_of | sed 's/^/# agent after RTR (qpn state rqpn source): /'
	crossed() { registered "$QA" "$QB" && registered "$QB" "$QA"; }
	check "remote QPN recorded at RTR (a -> b, b -> a)" crossed

	# Running.
	p0=$(psn)
	batch post
	p1=$(psn)
	check "running: ibv_wr_complete returns 0" [ "$LAST" = "POST rc=0" ]
	check "running: SEND and RDMA WRITE complete, the SEND is received" [ "$CQE" = "CQE send=2 recv=1 bad=0" ]
	check "running: the kernel's send PSN moves ($p0 -> $p1)" moved "$p0" "$p1"

	# Pause.
	ctl report --pid "$PID" --reason wr-gate-test >/dev/null
	check "report accepted" [ $? -eq 0 ]
	until_rc 11
	check "after the report: ibv_wr_complete fails with EAGAIN" [ "$LAST" = "POST rc=11" ]
	p0=$(psn)
	n=0
	for _ in 1 2 3; do batch post; [ "$LAST" = "POST rc=11" ] && n=$((n + 1)); done
	batch poll
	p1=$(psn)
	check "paused: three more batches refused with EAGAIN" [ $n -eq 3 ]
	check "paused: nothing completes" [ "$LAST" = "CQE send=0 recv=0 bad=0" ]
	check "paused: the kernel's send PSN does not move ($p0 -> $p1)" still "$p0" "$p1"
	m=$(ctl -o json blocks list)
	echo "# block: $(grep -o '"mechanism": *"[^"]*"' <<<"$m")"
	check "the agent's block says per-QP pause" grep -q '"mechanism": *"pause(' <<<"$m"

	# Release.
	ctl blocks release --pid "$PID" >/dev/null
	until_rc 0
	check "after release: ibv_wr_complete returns 0 again" [ "$LAST" = "POST rc=0" ]
	p0=$(psn)
	batch post
	p1=$(psn)
	check "after release: SEND and RDMA WRITE complete, the SEND is received" \
		[ "$LAST/$CQE" = "POST rc=0/CQE send=2 recv=1 bad=0" ]
	check "after release: the send PSN moves again ($p0 -> $p1)" moved "$p0" "$p1"

	# Cut.
	ctl policy set block_mode=cut >/dev/null
	ctl report --pid "$PID" --reason wr-gate-cut >/dev/null
	until_rc 1
	check "cut: ibv_wr_complete fails with EPERM" [ "$LAST" = "POST rc=1" ]
	check "cut: the QP is in ERR in the kernel" [ "$(kstate)" = ERR ]

	say quit
	wait "$PROGP_PID" 2>/dev/null
	sed 's/^/# prog: /' $D/prog.err | head -5
	grep -E 'error|warn' $D/agent/sema.log | head -5 | sed 's/^/# sema: /'
	sema_stop
	guest_done
fi

# Host part.
# shellcheck source=host_lib.sh
. "$here/host_lib.sh"
guest_needs tests/kernel/wr_gate_prog tests/kernel/kqp_dump sema/sema iasctl/iasctl \
	verbs_ext/.libs/libias-preload.so
command -v python3 >/dev/null || skip_all "python3 not installed"
export top_builddir=$bdir
guest_tap --nodes 1 --timeout 180 -- "$here/test_wr_gate.sh" --guest "$bdir"
