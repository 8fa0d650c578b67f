#!/bin/bash
# Stage 2 of the kernel bed: PID 1 in the guest, running from the host's /
# (read-only over 9p). Sets up the system, loads RDMA modules, creates the
# soft-RoCE devices, runs the job that guest.sh wrote to the results share,
# and powers off. Not meant to be run by hand.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

out=/run/ias-out

halt() {
	sync
	/bin/busybox poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 5
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
# /tmp must be writable, but a build tree (or the kernel cache) may live under
# the host's /tmp: keep every host directory there visible at its own path
# (read-only, like the rest of the host) on top of a fresh tmpfs.
mkdir -p /run/host-tmp
mount --bind /tmp /run/host-tmp
mount -t tmpfs tmpfs /tmp
for d in /run/host-tmp/*/; do
	[ -d "$d" ] || continue
	d=${d%/}
	mkdir -p "/tmp/${d##*/}" && mount --bind "$d" "/tmp/${d##*/}"
done
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mkdir -p "$out"
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 iasout "$out"; then
	echo "guest-init: cannot mount the results share" >/dev/console
	halt
fi
exec 3>"$out/setup.log"

fail() {
	echo "guest-init: $*" >&3
	echo 125 >"$out/rc"
	halt
}
# Each step is logged with the guest uptime, to see where boot time goes.
step() {
	local up
	read -r up _ </proc/uptime
	echo "[$up] $*" >&3
	"$@" >&3 2>&1 || fail "failed: $*"
}

# shellcheck disable=SC1091
. "$out/job" || fail "no job file"
nodes=${IAS_NODES:-1}
mp() { modprobe -d "$IAS_KTREE" -S "$IAS_KVER" "$@"; }

# crc32_generic first: without it rdma_rxe loads but "rdma link add" fails.
mods="crc32_generic rdma_rxe ib_umad ib_uverbs veth"
[ "$nodes" -ge 3 ] && mods="$mods bridge"
# shellcheck disable=SC2086
step mp -a $mods

sysctl -qw net.ipv4.conf.all.accept_local=1 net.ipv4.conf.default.accept_local=1 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 >&3 2>&1
step ip link set lo up

mac() { printf '02:00:00:00:00:%02x' "$(($1 + 1))"; }
# Links: one node gets a veth pair of its own; two nodes sit on the two ends
# of one veth pair; more nodes each get a veth pair into a bridge.
if [ "$nodes" -eq 1 ]; then
	step ip link add ias0 type veth peer name iasp0
	step ip link set iasp0 up
elif [ "$nodes" -eq 2 ]; then
	step ip link add ias0 type veth peer name ias1
else
	step ip link add iasbr type bridge
	step ip link set iasbr up
	for ((i = 0; i < nodes; i++)); do
		step ip link add "ias$i" type veth peer name "iasp$i"
		step ip link set "iasp$i" master iasbr up
	done
fi
for ((i = 0; i < nodes; i++)); do
	step ip link set "ias$i" address "$(mac "$i")"
	step ip addr add "10.0.0.$((i + 1))/24" dev "ias$i"
	step ip -6 addr add "fd00::$((i + 1))/64" dev "ias$i" nodad
	step ip link set "ias$i" up
done

# Several nodes in one kernel: every address is local, so without help the
# kernel would loop traffic through lo. Look the local table up after a rule
# that sends locally generated traffic from node i out of its own link.
if [ "$nodes" -ge 2 ]; then
	for fam in -4 -6; do
		step ip "$fam" rule add pref 1000 lookup local
		step ip "$fam" rule del pref 0
	done
	for ((i = 0; i < nodes; i++)); do
		step ip -4 rule add pref $((500 + i)) from "10.0.0.$((i + 1))" iif lo lookup $((100 + i))
		step ip -6 rule add pref $((500 + i)) from "fd00::$((i + 1))" iif lo lookup $((100 + i))
		for ((j = 0; j < nodes; j++)); do
			[ "$i" -eq "$j" ] && continue
			step ip -4 route add "10.0.0.$((j + 1))/32" dev "ias$i" src "10.0.0.$((i + 1))" table $((100 + i))
			step ip -6 route add "fd00::$((j + 1))/128" dev "ias$i" src "fd00::$((i + 1))" table $((100 + i))
			step ip -4 neigh replace "10.0.0.$((j + 1))" lladdr "$(mac "$j")" dev "ias$i" nud permanent
			step ip -6 neigh replace "fd00::$((j + 1))" lladdr "$(mac "$j")" dev "ias$i" nud permanent
		done
	done
fi

# Soft-RoCE devices, and the GID indexes of their RoCE v2 addresses.
# Only builtins here: a fork costs a lot under TCG, and the table has
# hundreds of (mostly empty) entries, of which the first few are used.
gid_index() { # DEV GID
	local d=/sys/class/infiniband/$1/ports/1 n v t
	for ((n = 0; n < 32; n++)); do
		read -r v <"$d/gids/$n" 2>/dev/null || return 1
		[ "$v" = "$2" ] || continue
		read -r t <"$d/gid_attrs/types/$n" 2>/dev/null || continue
		[ "$t" = "RoCE v2" ] && { echo "$n"; return 0; }
	done
	return 1
}
for ((i = 0; i < nodes; i++)); do
	step rdma link add "rxe$i" type rxe netdev "ias$i"
done
for ((i = 0; i < nodes; i++)); do
	gid6=$(printf 'fd00:0000:0000:0000:0000:0000:0000:%04x' $((i + 1)))
	gid4=$(printf '0000:0000:0000:0000:0000:ffff:0a00:%04x' $((i + 1)))
	for ((t = 0; t < 100; t++)); do
		g6=$(gid_index "rxe$i" "$gid6") && g4=$(gid_index "rxe$i" "$gid4") && break
		sleep 0.1
	done
	[ -n "${g6:-}" ] && [ -n "${g4:-}" ] || fail "rxe$i: RoCE v2 GIDs did not appear"
	export "IAS_DEV_$i=rxe$i" "IAS_NETDEV_$i=ias$i" \
		"IAS_ADDR4_$i=10.0.0.$((i + 1))" "IAS_ADDR6_$i=fd00::$((i + 1))" \
		"IAS_GID4_$i=$g4" "IAS_GID6_$i=$g6"
	echo "node $i: rxe$i on ias$i, gid index v6=$g6 v4=$g4" >&3
	g6="" g4=""
done

export IAS_NODES=$nodes IAS_GUEST=1 IAS_OUT=$out/files
export top_srcdir=$IAS_HOST_ENV_top_srcdir top_builddir=$IAS_HOST_ENV_top_builddir
mkdir -p "$IAS_OUT"
cd "$IAS_CWD" 2>/dev/null || cd /
read -r up _ </proc/uptime
echo "[$up] ${IAS_CMD[*]}" >&3
"${IAS_CMD[@]}" </dev/null >"$out/stdout" 2>"$out/stderr"
echo $? >"$out/rc"
halt
