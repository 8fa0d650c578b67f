#!/usr/bin/env bash
# Kernel test: sema/enforce_proc's asynchronous freeze and its orphan block
# cgroups on a real cgroup v2 tree, in a QEMU guest (through eproc_tool):
#  - begin: the process is moved and a freeze requested without waiting; its
#    state is then polled until cgroup.events says frozen, and a busy process
#    uses no more CPU;
#  - a second block under a block parent (ias.slice) with the rdma cap, so
#    that the parent takes no processes;
#  - the default block parent /ias.blocks is made root's, 0755; a parent in a
#    subtree chown'ed to a user (as systemd delegation does) is refused;
#  - orphans: each block cgroup is found under its block parent, with
#    instance, block id, frozen state and process count; a block-named
#    cgroup a user owns there is skipped and its release refused;
#  - orphan release: thawed, processes moved to the parent (or to the root
#    cgroup when the parent takes none), the cgroup removed, the process runs.
# The guest part reports through tests/lib/tap.sh; the host part
# (host_lib.sh, guest_tap) counts its results.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --guest ]; then
	EPT=$2
	CG=/sys/fs/cgroup
	# shellcheck source=../lib/tap.sh
	. "$top_srcdir/tests/lib/tap.sh"
	pstate() { awk '{ print $3 }' /proc/"$1"/stat; }

	sh -c 'while :; do :; done' & p=$!
	sleep 0.2
	out=$("$EPT" begin "$p" 00000000000000aa-5 rdma); rc=$?
	st=$(printf '%s\n' "$out" | head -1)
	printf '%s\n' "$out" | sed 's/^/# begin: /'
	check "begin returns 0" [ "$rc" -eq 0 ]
	check "begin: moved and freeze requested" grep -q 'freeze requested' <<<"$out"
	n=0; s=""
	while [ $n -lt 200 ]; do s=$("$EPT" state "$st"); [ "$s" = 1 ] && break; n=$((n + 1)); done
	check "state says frozen" [ "$s" = 1 ]
	check "the block cgroup is under /ias.blocks" grep -qx '0::/ias.blocks/ias-block-00000000000000aa-5' /proc/$p/cgroup
	check "/ias.blocks is root's, mode 755" [ "$(stat -c '%u %a' $CG/ias.blocks)" = "0 755" ]
	check "cgroup.events says frozen 1" grep -q '^frozen 1$' $CG/ias.blocks/ias-block-00000000000000aa-5/cgroup.events
	c1=$(awk '{ print $14 }' /proc/$p/stat); sleep 0.3; c2=$(awk '{ print $14 }' /proc/$p/stat)
	check "the busy process uses no CPU while frozen ($c1 -> $c2)" [ "$c1" = "$c2" ]
	cat $CG/ias.blocks/ias-block-00000000000000aa-5/rdma.max 2>/dev/null | sed 's/^/# rdma.max: /'

	# Second one under a block parent, with the rdma controller on (the parent
	# then takes no processes: release must fall back to the root).
	sleep 1000 & q=$!
	out=$(IAS_BLOCK_PARENT=ias.slice "$EPT" freeze "$q" 00000000000000bb-6 rdma); rc=$?
	printf '%s\n' "$out" | sed 's/^/# freeze: /'
	check "blocking freeze under ias.slice" [ "$rc" -eq 0 ]
	check "its note says frozen" grep -q 'cgroup.events says frozen' <<<"$out"
	echo "# ias.slice subtree_control: $(cat $CG/ias.slice/cgroup.subtree_control)"

	# A parent inside a delegated subtree is refused (SIGSTOP fallback).
	mkdir -p $CG/deleg.slice && chown 1000:1000 $CG/deleg.slice $CG/deleg.slice/cgroup.procs
	sleep 1000 & r=$!
	out=$(IAS_BLOCK_PARENT=deleg.slice/blocks "$EPT" begin "$r" 00000000000000cc-7); rc=$?
	sleep 0.1
	printf '%s\n' "$out" | sed 's/^/# delegated parent: /'
	check "a block parent in a delegated subtree is refused" grep -q 'owned by uid 1000.*refused as the block parent' <<<"$out"
	check "...the SIGSTOP fallback instead, nothing made there" bash -c "[ '$(pstate $r)' = T ] && [ ! -e $CG/deleg.slice/blocks ]"
	kill -9 $r; rmdir $CG/deleg.slice/blocks $CG/deleg.slice 2>/dev/null
	# A block-named cgroup a user made under the parent (only root can, so
	# root makes it and gives it away) is not ours.
	mkdir $CG/ias.blocks/ias-block-00000000000000aa-9 && chown 1000:1000 $CG/ias.blocks/ias-block-00000000000000aa-9
	list=$("$EPT" orphans); rc=$?
	printf '%s\n' "$list" | sed 's/^/# orphans: /'
	check "orphans: walk succeeds" [ "$rc" -eq 0 ]
	check "orphans: the one under /ias.blocks, parsed, frozen, 1 process" [ "$list" = '/ias.blocks/ias-block-00000000000000aa-5 instance=00000000000000aa block=5 frozen=1 freeze=1 procs=1' ]
	check "a user's block-named cgroup: its release is refused" sh -c "! $EPT orphan-release /ias.blocks/ias-block-00000000000000aa-9"
	rmdir $CG/ias.blocks/ias-block-00000000000000aa-9
	list=$(IAS_BLOCK_PARENT=ias.slice "$EPT" orphans)
	check "orphans under the block parent: only that one" [ "$list" = '/ias.slice/ias-block-00000000000000bb-6 instance=00000000000000bb block=6 frozen=1 freeze=1 procs=1' ]

	out=$("$EPT" orphan-release /ias.blocks/ias-block-00000000000000aa-5); rc=$?
	echo "# release: $out"
	check "orphan release 0" [ "$rc" -eq 0 ]
	check "the block cgroup is gone" [ ! -e $CG/ias.blocks/ias-block-00000000000000aa-5 ]
	check "the process is in the root cgroup" grep -qx '0::/' /proc/$p/cgroup
	c1=$(awk '{ print $14 }' /proc/$p/stat); sleep 0.3; c2=$(awk '{ print $14 }' /proc/$p/stat)
	check "the busy process runs again ($c1 -> $c2)" [ "$c1" != "$c2" ]

	out=$("$EPT" orphan-release /ias.slice/ias-block-00000000000000bb-6); rc=$?
	echo "# release: $out"
	check "orphan release under ias.slice 0" [ "$rc" -eq 0 ]
	check "that block cgroup is gone" [ ! -e $CG/ias.slice/ias-block-00000000000000bb-6 ]
	echo "# q now in $(cat /proc/$q/cgroup), state $(pstate $q)"
	check "its process left the block cgroup" grep -qx "0::/" /proc/$q/cgroup
	check "its process is not stopped" [ "$(pstate $q)" != T ]
	check "no orphans left" bash -c "[ -z \"\$('$EPT' orphans)\" ] && [ -z \"\$(IAS_BLOCK_PARENT=ias.slice '$EPT' orphans)\" ]"
	check "releasing again: already gone, 0" "$EPT" orphan-release /ias.blocks/ias-block-00000000000000aa-5
	check "releasing a non-block cgroup is refused" sh -c "! $EPT orphan-release /ias.slice"
	kill $p $q 2>/dev/null
	guest_done
fi

# Host part.
# shellcheck source=host_lib.sh
. "$here/host_lib.sh"
guest_needs tests/kernel/eproc_tool
guest_tap --nodes 1 --timeout 240 -- "$here/test_eproc_orphans.sh" --guest "$bdir/tests/kernel/eproc_tool"
