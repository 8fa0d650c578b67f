#!/usr/bin/env bash
# Kernel test bed: a QEMU (TCG) guest running a Debian 6.1 kernel with
# soft-RoCE (rdma_rxe). See docs/kernel-bed.md.
#
#   guest.sh prepare        fetch the kernel package, extract it, build the
#                           initramfs (all cached; a second run is instant)
#   guest.sh check          exit 0 if the bed can run here, else print why
#   guest.sh run [--nodes N] [--timeout S] [--out DIR] -- CMD [ARG...]
#                           boot, bring up N rxe devices, run CMD as root in
#                           the guest; CMD's stdout/stderr and exit status
#                           come back on the host
#
# Environment: IAS_KERNEL_CACHE (default <top_builddir>/kernel-cache),
# IAS_KERNEL_PKG (default: newest available linux-image-6.1.0-N-amd64),
# IAS_GUEST_TIMEOUT (default 120 s; when set, it also raises a shorter
# --timeout: a loaded host needs more for every test), IAS_GUEST_MEM (MiB, default 1024),
# IAS_GUEST_CPUS (default 2, at most 2).
#
# Exit status of "run": CMD's status, 124 on timeout, 125 when the bed itself
# failed (no result from the guest).
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
if [ -n "${top_builddir:-}" ]; then
	builddir=$top_builddir
elif [ -d "$srcdir/build" ]; then
	builddir=$srcdir/build
else
	builddir=$srcdir
fi
cache=${IAS_KERNEL_CACHE:-$builddir/kernel-cache}
NEEDED_PKGS="qemu-system-x86 busybox-static cpio kmod rdma-core ibverbs-utils ibverbs-providers perftest iproute2"
# Modules the initramfs loads to reach the 9p root.
INITRD_MODS="virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9p 9pnet_virtio"

say() { printf 'guest.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 125; }

# Print why the bed cannot run here (and return 1), or return 0.
why_not() {
	local p missing=""
	[ "$(uname -m)" = x86_64 ] || { echo "host is not x86_64"; return 1; }
	for p in $NEEDED_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "missing packages:$missing (and not root to install them)"
			return 1
		fi
		say "installing:$missing"
		# shellcheck disable=SC2086
		if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing ||
			{ apt-get update -q && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -q --no-install-recommends $missing; }; } >/dev/null 2>&1; then
			echo "could not install:$missing"
			return 1
		fi
	fi
	command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed"; return 1; }
	[ "$(id -u)" -eq 0 ] || { echo "not root (the guest shares / over 9p with root's view)"; return 1; }
	return 0
}

pick_pkg() {
	if [ -n "${IAS_KERNEL_PKG:-}" ]; then
		echo "$IAS_KERNEL_PKG"
		return
	fi
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -n 1
}

# Build the initramfs: busybox, the 9p modules in dependency order, /init.
build_initrd() {
	local ver=$1 tree=$2 out=$3 work line ko n=0
	work=$(mktemp -d) || return 1
	mkdir -p "$work/bin" "$work/mods" "$work/proc" "$work/sys" "$work/dev" "$work/newroot"
	cp /bin/busybox "$work/bin/busybox" || return 1
	: >"$work/mods/order"
	# modprobe prints "insmod PATH" per module, dependencies first.
	# shellcheck disable=SC2086
	for m in $INITRD_MODS; do
		modprobe -d "$tree" -S "$ver" --show-depends "$m" 2>/dev/null
	done | while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		ko=${path##*/}
		grep -qxF "$ko" "$work/mods/order" && continue
		case $ko in
		*.ko.xz) xz -dc "$path" >"$work/mods/${ko%.xz}" && ko=${ko%.xz} ;;
		*.ko.zst) zstd -qdc "$path" >"$work/mods/${ko%.zst}" && ko=${ko%.zst} ;;
		*) cp "$path" "$work/mods/$ko" ;;
		esac
		echo "$ko" >>"$work/mods/order"
	done
	n=$(wc -l <"$work/mods/order")
	[ "$n" -ge 3 ] || { say "initramfs: only $n modules found for: $INITRD_MODS"; rm -rf "$work"; return 1; }
	cat >"$work/init" <<'EOF'
#!/bin/busybox sh
# Stage 1: reach the host's / over 9p and hand over to guest-init.sh there.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
while read -r m; do /bin/busybox insmod "/mods/$m" || echo "init: insmod $m failed"; done </mods/order
if ! /bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /newroot; then
	echo "init: cannot mount the host root"
	/bin/busybox poweroff -f
fi
/bin/busybox umount /proc
/bin/busybox umount /dev
exec /bin/busybox switch_root /newroot "${iasinit:-/nonexistent}"
EOF
	chmod +x "$work/init"
	(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp" || { rm -rf "$work"; return 1; }
	mv "$out.tmp" "$out"
	rm -rf "$work"
}

do_prepare() {
	local pkg deb ver tree reason
	reason=$(why_not) || { say "$reason"; return 1; }
	mkdir -p "$cache" || return 1
	# The cache lives in the build tree; keep it out of git wherever that is.
	[ -f "$cache/.gitignore" ] || echo '*' >"$cache/.gitignore"
	exec 9>"$cache/.lock"
	flock 9
	if [ -f "$cache/ready" ]; then
		exec 9>&-
		return 0
	fi
	pkg=$(pick_pkg)
	[ -n "$pkg" ] || { say "no linux-image-6.1.0-*-amd64 package is known to apt (apt-get update?)"; return 1; }
	deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		say "downloading $pkg"
		(cd "$cache" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
			{ say "apt-get download $pkg failed"; return 1; }
		deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | head -n 1)
		[ -n "$deb" ] || { say "download of $pkg left no .deb"; return 1; }
	fi
	tree=$cache/root
	rm -rf "$tree"
	dpkg-deb -x "$deb" "$tree" || { say "dpkg-deb -x $deb failed"; return 1; }
	ver=$(ls "$tree/lib/modules" | head -n 1)
	[ -n "$ver" ] && [ -f "$tree/boot/vmlinuz-$ver" ] || { say "no kernel image in $deb"; return 1; }
	depmod -b "$tree" "$ver" || { say "depmod failed"; return 1; }
	build_initrd "$ver" "$tree" "$cache/initrd-$ver.cpio.gz" || { say "initramfs build failed"; return 1; }
	printf '%s\n' "$ver" >"$cache/ready"
	say "kernel $ver ready in $cache"
	exec 9>&-
}

qemu_pid=""
run_dir=""
cleanup() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null
		sleep 0.5
		kill -9 "$qemu_pid" 2>/dev/null
	fi
	[ -n "$run_dir" ] && [ -z "${IAS_GUEST_KEEP:-}" ] && rm -rf "$run_dir"
}

do_run() {
	local nodes=1 timeout=${IAS_GUEST_TIMEOUT:-120} out="" ver cpus mem reason
	local waited=0 rc status cmdline
	while [ $# -gt 0 ]; do
		case $1 in
		--nodes) nodes=$2; shift 2 ;;
		--timeout) timeout=$2; shift 2 ;;
		--out) out=$2; shift 2 ;;
		--) shift; break ;;
		*) say "unknown option $1"; return 125 ;;
		esac
	done
	[ $# -gt 0 ] || { say "run: no command given"; return 125; }
	[ -n "${IAS_GUEST_TIMEOUT:-}" ] && [ "$IAS_GUEST_TIMEOUT" -gt "$timeout" ] 2>/dev/null &&
		timeout=$IAS_GUEST_TIMEOUT
	case $nodes in ''|*[!0-9]*) say "--nodes wants a number"; return 125 ;; esac
	[ "$nodes" -ge 1 ] && [ "$nodes" -le 8 ] || { say "--nodes must be 1..8"; return 125; }
	reason=$(why_not) || { say "$reason"; return 125; }
	do_prepare || return 125
	ver=$(cat "$cache/ready")
	cpus=${IAS_GUEST_CPUS:-2}
	[ "$cpus" -gt 2 ] && cpus=2
	mem=${IAS_GUEST_MEM:-1024}

	run_dir=$(mktemp -d "${TMPDIR:-/tmp}/ias-guest.XXXXXX") || return 125
	trap cleanup EXIT
	trap 'cleanup; exit 124' INT TERM
	mkdir -p "$run_dir/share"
	# The command, quoted for the guest shell.
	{
		printf 'IAS_NODES=%s\n' "$nodes"
		printf 'IAS_KTREE=%q\n' "$cache/root"
		printf 'IAS_KVER=%q\n' "$ver"
		printf 'IAS_CWD=%q\n' "$PWD"
		printf 'IAS_HOST_ENV_top_srcdir=%q\n' "${top_srcdir:-$srcdir}"
		printf 'IAS_HOST_ENV_top_builddir=%q\n' "${top_builddir:-$builddir}"
		printf 'IAS_CMD=('
		printf '%q ' "$@"
		printf ')\n'
	} >"$run_dir/share/job"
	cmdline="console=ttyS0 quiet loglevel=3 panic=-1 oops=panic iasinit=$here/guest-init.sh"
	timeout -k 5 "$timeout" qemu-system-x86_64 \
		-accel tcg -nodefaults -no-user-config -display none -no-reboot \
		-smp "$cpus" -m "$mem" \
		-kernel "$cache/root/boot/vmlinuz-$ver" \
		-initrd "$cache/initrd-$ver.cpio.gz" \
		-append "$cmdline" \
		-serial "file:$run_dir/console.log" -monitor none \
		-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
		-fsdev local,id=iasout,path="$run_dir/share",security_model=none,multidevs=remap \
		-device virtio-9p-pci,fsdev=iasout,mount_tag=iasout \
		</dev/null >"$run_dir/qemu.log" 2>&1 &
	qemu_pid=$!
	wait "$qemu_pid"
	status=$?
	qemu_pid=""

	[ -f "$run_dir/share/stdout" ] && cat "$run_dir/share/stdout"
	[ -f "$run_dir/share/stderr" ] && cat "$run_dir/share/stderr" >&2
	if [ -n "$out" ]; then
		mkdir -p "$out" && cp -r "$run_dir/share/." "$run_dir/console.log" "$out/" 2>/dev/null
	fi
	if [ -f "$run_dir/share/rc" ]; then
		rc=$(cat "$run_dir/share/rc")
		case $rc in ''|*[!0-9]*) rc=125 ;; esac
	elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		say "guest timed out after ${timeout}s; console tail:"
		tail -n 20 "$run_dir/console.log" >&2
		rc=124
	else
		say "guest gave no result (qemu status $status); console tail:"
		tail -n 30 "$run_dir/console.log" "$run_dir/qemu.log" >&2
		rc=125
	fi
	if [ "$rc" -ne 0 ] && [ -f "$run_dir/share/setup.log" ] && [ -s "$run_dir/share/setup.log" ]; then
		say "guest setup log:"
		sed 's/^/  /' "$run_dir/share/setup.log" >&2
	fi
	return "$rc"
}

case ${1:-} in
prepare) do_prepare ;;
check) why_not ;;
run) shift; do_run "$@" ;;
*) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
