#!/usr/bin/env bash
# Kernel test: secured data channels (libias-sc, ias-sc-server/-client) on
# real RC QPs in a QEMU guest with one soft-RoCE device, one boot for all:
#  - 100 concurrent mTLS clients, every RDMA message verified, unique PSN
#    pairs, each QP registered with the agent under the client's subject;
#  - session resumption and the random QP pool;
#  - clients with an untrusted or no certificate are refused before any QP
#    parameter crosses, and no QP is created for them;
#  - non-TLS, stalled, truncated, oversized, garbage and wrong-version
#    exchanges get an error (or a close) and the server keeps serving;
#  - an injection from a third process that knows the QPN and guesses the
#    PSN a predictable set-up would use fails and the data stays intact,
#    while the same injection against a client started at that PSN
#    (--insecure-fixed-psn) gets in: the control that shows the attack is
#    real on this provider;
#  - after all of it the server holds no QP and no extra descriptor.
# Certificates are made at test time with `openssl req` (sc_certs.sh).
# The guest part reports through tests/lib/tap.sh; the host part (host_lib.sh,
# guest_tap) counts its results.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	B=$2
	# shellcheck source=../lib/tap.sh
	. "$top_srcdir/tests/lib/tap.sh"
	# shellcheck source=../lib/daemon.sh
	. "$top_srcdir/tests/lib/daemon.sh"
	SRV=$B/verbs_ext/ias-sc-server CLI=$B/verbs_ext/ias-sc-client
	EVIL=$B/tests/kernel/sc_evil INJ=$B/tests/kernel/sc_inject
	D=/tmp/sc
	"$here/sc_certs.sh" $D/certs
	C=$D/certs
	DEV=(-d rxe0 -g "$IAS_GID6_0")
	TLS=(--ca $C/ca.pem --name localhost)
	MINE=(--cert $C/client.pem --key $C/client.key)
	# wait_for FILE PATTERN: bounded poll for a line.
	wait_for() { local i; for i in $(seq 1 300); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
	srv_conns() { grep -c '^CONN ' $D/srv.log; }
	srv_qps() { rdma res show qp | awk -v p="$SRVPID" '{ for (i = 1; i < NF; i++) if ($i == "pid" && $(i + 1) == p) n++ } END { print n + 0 }'; }

	# An agent, so registrations have somewhere to go.
	sema_setup $D/agent >/dev/null && sema_start $D/agent
	AGENT=$?
	check "agent started in the guest" [ $AGENT -eq 0 ]

	"$SRV" "${DEV[@]}" --cert $C/server.pem --key $C/server.key --ca $C/ca.pem \
		--require-client-cert --timeout 60000 >$D/srv.log 2>&1 &
	SRVPID=$!
	# A second server with a short set-up deadline takes the malformed
	# exchanges (TLS under TCG is slow; 100 concurrent handshakes need
	# seconds, a stalled peer should not).
	"$SRV" "${DEV[@]}" --cert $C/server.pem --key $C/server.key --ca $C/ca.pem \
		--require-client-cert --timeout 1500 --port 4434 >$D/srv2.log 2>&1 &
	SRV2PID=$!
	wait_for $D/srv.log '^LISTENING' && wait_for $D/srv2.log '^LISTENING'
	check "servers listening" grep -q '^LISTENING' $D/srv.log $D/srv2.log

	# 1. 100 concurrent clients.
	"$CLI" "${DEV[@]}" "${TLS[@]}" "${MINE[@]}" -n 100 -m 8 localhost >$D/c100.log 2>&1
	rc=$?
	check "100 concurrent clients: client exits 0 (status $rc)" [ $rc -eq 0 ]
	check "100 concurrent clients: 100 verified, none failed" \
		grep -q 'SUMMARY connections=100 established=100 verified_ok=100 failed=0' $D/c100.log
	check "100 concurrent clients: 100 RESULT lines, each 8 verified and 0 bad" \
		[ "$(grep -c '^RESULT .* verified=8 bad=0 code=ok' $D/c100.log)" -eq 100 ]
	pairs=$(sed -n 's/^CONN .* client_psn=\([0-9]*\) .* server_psn=\([0-9]*\) .*/\1:\2/p' $D/c100.log)
	check "100 concurrent clients: 100 PSN pairs, all different" \
		[ "$(sort -u <<<"$pairs" | grep -c :)" -eq 100 ]
	check "100 concurrent clients: client's own uniqueness check agrees" grep -q 'duplicates=0 unique=yes' $D/c100.log
	check "server saw 100 connections from CN=client-a" \
		[ "$(grep -c '^CONN .*peer="CN=client-a,O=IAS test"' $D/srv.log)" -eq 100 ]
	check "server verified 100 x 8 messages, none bad" \
		[ "$(grep -c '^CLOSE .* verified=8 bad=0' $D/srv.log)" -eq 100 ]
	FD0=$(ls /proc/$SRVPID/fd | wc -l) # now including libias's agent connection
	grep -q 'registered=yes' $D/srv.log; reg=$?
	if [ $AGENT -eq 0 ]; then
		check "server registered its QPs with the agent" [ $reg -eq 0 ]
	else
		check "without an agent the channel still works (registration reported)" grep -q 'registered=cannot reach' $D/srv.log
	fi

	# 2. Registration carries the peer's identity (held connections).
	rm -f $D/go0
	"$CLI" "${DEV[@]}" "${TLS[@]}" "${MINE[@]}" -n 2 -m 4 --wait-file $D/go0 localhost >$D/reg.log 2>&1 &
	cpid=$!
	wait_for $D/reg.log '^ALL-ESTABLISHED'
	"$B/iasctl/iasctl" --socket $D/agent/sema.sock -o json qps list --pid $SRVPID >$D/qps.json 2>&1
	check "agent lists the server's QPs with peer CN=client-a" \
		[ "$(grep -o 'CN=client-a,O=IAS test' $D/qps.json | wc -l)" -ge 2 ]
	"$B/iasctl/iasctl" --socket $D/agent/sema.sock -o json qps list --pid $cpid >$D/qpsc.json 2>&1
	check "agent lists the client's QPs with peer CN=ias-sc-server" grep -q 'CN=ias-sc-server' $D/qpsc.json
	touch $D/go0
	wait $cpid
	check "held clients then finish verified" grep -q 'verified_ok=2 failed=0' $D/reg.log
	sed 's/^/# qps: /' $D/qps.json | head -n 12

	# 3. Session resumption and the random QP pool (one at a time).
	"$CLI" "${DEV[@]}" "${TLS[@]}" "${MINE[@]}" -n 6 -c 1 -m 2 --qpn-pool 16 localhost >$D/seq.log 2>&1
	check "sequential clients: all verified" grep -q 'verified_ok=6 failed=0' $D/seq.log
	check "sequential clients: sessions resumed after the first" \
		grep -q 'resumed=[5-6] ' $D/seq.log
	qpns=$(sed -n 's/^CONN .* client_qpn=\([0-9]*\) .*/\1/p' $D/seq.log | tr '\n' ' ')
	echo "# client QPNs drawn from the pool: $qpns"
	check "pooled QPNs are not handed out in sequence" \
		awk -v s="$qpns" 'BEGIN { n = split(s, q, " "); for (i = 2; i <= n; i++) if (q[i] != q[i-1] + 1) exit 0; exit 1 }'

	# 4. Untrusted and missing client certificates.
	n0=$(srv_conns)
	"$CLI" "${DEV[@]}" "${TLS[@]}" --cert $C/rogue.pem --key $C/rogue.key -n 1 localhost >$D/rogue.log 2>&1
	rc=$?
	cat $D/rogue.log | sed 's/^/# rogue: /'
	check "untrusted client certificate: client fails (status $rc)" [ $rc -ne 0 ]
	check "untrusted client certificate: TLS alert, set-up failed" grep -q 'FAILED 1: set-up failed: TLS' $D/rogue.log
	check "untrusted client certificate: client received no QP parameters" bash -c "! grep -q '_qpn=' $D/rogue.log"
	check "untrusted client certificate: server refused it in TLS" grep -q '^REFUSED .*certificate' $D/srv.log
	"$CLI" "${DEV[@]}" "${TLS[@]}" -n 1 localhost >$D/nocert.log 2>&1
	check "no client certificate: refused" grep -q 'FAILED 1: set-up failed: TLS' $D/nocert.log
	refused_clean() { [ "$(srv_conns)" -eq "$n0" ] && [ "$(srv_qps)" -eq 0 ]; }
	check "refused clients: server accepted no parameters and made no QP" refused_clean
	"$CLI" "${DEV[@]}" --ca $C/rogue-ca.pem --name localhost "${MINE[@]}" -n 1 localhost >$D/badsrv.log 2>&1
	check "client refuses a server its CA did not sign" grep -q 'FAILED 1: set-up failed: TLS.*certificate verify failed' $D/badsrv.log

	# 5. Malformed exchanges; the server keeps serving.
	"$CLI" "${DEV[@]}" "${TLS[@]}" "${MINE[@]}" -n 1 -m 4 -p 4434 localhost >$D/before.log 2>&1
	check "second server serves a good client" grep -q 'verified_ok=1 failed=0' $D/before.log
	FD2=$(ls /proc/$SRV2PID/fd | wc -l)
	for mode in notls stall truncated oversized garbage badversion; do
		"$EVIL" localhost 4434 $C/ca.pem $C/client.pem $C/client.key $mode >$D/evil-$mode.log 2>&1
		echo "# $(cat $D/evil-$mode.log)"
	done
	check "non-TLS bytes: connection closed" grep -q 'reply=closed' $D/evil-notls.log
	check "silent client: closed after the set-up deadline" grep -q 'reply=closed' $D/evil-stall.log
	check "truncated message: error 'exchange timed out'" grep -q 'params=yes reply=error:exchange timed out' $D/evil-truncated.log
	check "oversized message: error 'malformed'" grep -q 'params=yes reply=error:malformed' $D/evil-oversized.log
	check "garbage message: error 'malformed'" grep -q 'params=yes reply=error:malformed' $D/evil-garbage.log
	check "wrong version: error 'malformed'" grep -q 'params=yes reply=error:malformed' $D/evil-badversion.log
	"$CLI" "${DEV[@]}" "${TLS[@]}" "${MINE[@]}" -n 3 -m 4 -p 4434 localhost >$D/after.log 2>&1
	check "after all that the server still serves (3 clients verified)" grep -q 'verified_ok=3 failed=0' $D/after.log

	# 6. Injection by a third process that knows the QPN and guesses the PSN.
	inject_run() { # name extra-client-args...
		local name=$1 qpn; shift
		rm -f $D/go-$name
		"$CLI" "${DEV[@]}" "${TLS[@]}" "${MINE[@]}" -n 1 -m 16 --wait-file $D/go-$name "$@" localhost \
			>$D/inj-$name.log 2>&1 &
		local pid=$!
		wait_for $D/inj-$name.log '^ALL-ESTABLISHED'
		qpn=$(sed -n 's/^CONN .* server_qpn=\([0-9]*\) .*/\1/p' $D/inj-$name.log)
		for guess in 0 1; do
			"$INJ" rxe0 "$IAS_GID6_0" "${qpn:-0}" $guess 1024 >>$D/inj-$name.out 2>&1
		done
		touch $D/go-$name
		wait $pid
		sed 's/^/# '$name': /' $D/inj-$name.out $D/inj-$name.log
	}
	inject_run random
	check "injection (PSN 0 and 1 guessed) was attempted" [ "$(grep -c '^INJECT ' $D/inj-random.out)" -eq 2 ]
	check "injection against a random PSN: all 16 messages verified, none bad" \
		grep -q '^RESULT 1 verified=16 bad=0 code=ok' $D/inj-random.log
	inject_run fixed --insecure-fixed-psn 0
	check "control: the same injection against PSN 0 gets in (server finds a bad message)" \
		grep -q '^RESULT 1 verified=.* bad=[1-9].* code=RDMA data did not verify' $D/inj-fixed.log

	# 7. Clean-up: no QP, no extra descriptor, unique pairs overall.
	sleep 0.5
	check "server holds no QP once every client is gone" [ "$(srv_qps)" -eq 0 ]
	FD1=$(ls /proc/$SRVPID/fd | wc -l)
	check "server descriptors back where they were ($FD0 -> $FD1)" [ "$FD0" -eq "$FD1" ]
	FD3=$(ls /proc/$SRV2PID/fd | wc -l)
	check "second server: descriptors back after the malformed exchanges ($FD2 -> $FD3)" [ "$FD2" -eq "$FD3" ]
	SRV1PID=$SRVPID SRVPID=$SRV2PID
	check "second server holds no QP" [ "$(srv_qps)" -eq 0 ]
	kill -TERM $SRV1PID $SRV2PID
	wait $SRV1PID; r1=$?
	wait $SRV2PID; r2=$?
	check "servers exit 0 on SIGTERM" [ "$r1/$r2" = 0/0 ]
	grep -h '^STATS\|^PSNPAIRS' $D/srv.log $D/srv2.log | sed 's/^/# /'
	check "server: all PSN pairs unique over its lifetime" grep -q '^PSNPAIRS .* duplicates=0 unique=yes' $D/srv.log
	check "server: refusals counted, no timeouts" grep -q '^STATS .*refused=[1-9].*timeouts=0 ' $D/srv.log
	check "second server: timeouts and protocol errors counted" grep -q '^STATS .*protocol_errors=[1-9].*timeouts=[1-9]' $D/srv2.log
	sema_stop
	guest_done
fi

# Host part.
# shellcheck source=host_lib.sh
. "$here/host_lib.sh"
guest_needs verbs_ext/ias-sc-server verbs_ext/ias-sc-client tests/kernel/sc_evil tests/kernel/sc_inject
command -v openssl >/dev/null || skip_all "openssl(1) not installed"
guest_tap --nodes 1 --timeout 240 -- "$here/test_sc.sh" --guest "$bdir"
