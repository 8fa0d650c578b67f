/* kobs: load, attach and pin the BPF programs (or find them pinned), and read
 * their records. See kobs.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sema/bpf/kobs.h"
#include "sema/bpf/kobs_abi.h"
#include "sema/bpf/kobs.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

struct kobs {
	char dir[PATH_MAX];
	int qps_fd, ahs_fd, ev_fd;
	int loaded_here;
	struct ring_buffer *rb;
	int (*ev_cb)(enum kobs_ev_kind, const struct kobs_qp *, void *);
	void *ev_arg;
	int ev_n;
};

/* The programs, by name: their links are pinned as "link_<name>". The QP
 * ones are required; the AH ones are attached when the kernel has them. */
static const struct {
	const char *name;
	const char *func;
	int required;
} progs[] = {
	{ "kobs_qp_create", "ib_create_qp_user", 1 },
	{ "kobs_qp_modify", "ib_modify_qp_with_udata", 1 },
	{ "kobs_qp_destroy_enter", "ib_destroy_qp_user", 1 },
	{ "kobs_qp_destroy", "ib_destroy_qp_user", 1 },
	{ "kobs_ah_create", "rdma_create_user_ah", 0 },
	{ "kobs_ah_destroy", "rdma_destroy_ah_user", 0 },
};
#define NPROGS (sizeof(progs) / sizeof(progs[0]))
static const char *const map_names[] = { "kobs_qps", "kobs_ahs", "kobs_events" };

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* libbpf's last warning, kept for the reason line. */
static __thread char libbpf_last[200];

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[sizeof(libbpf_last)];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n)
		memcpy(libbpf_last, line, n + 1);
	return 0;
}

/* Which functions the kernel has: name -> found, by one pass over kallsyms. */
static void kernel_has(int *found)
{
	char line[512], sym[256];
	FILE *f = fopen("/proc/kallsyms", "re");

	memset(found, 0, sizeof(int) * NPROGS);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %255s", sym) != 1)
			continue;
		for (size_t i = 0; i < NPROGS; i++)
			if (strcmp(sym, progs[i].func) == 0)
				found[i] = 1;
	}
	fclose(f);
}

static int pin_path(const struct kobs *k, const char *prefix, const char *name, char *buf)
{
	char n[128];

	snprintf(n, sizeof(n), "%s%s", prefix, name);
	return kobs_pin_path(k->dir, n, buf, PATH_MAX);
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* The map's value size must be this build's record size. */
static int check_map(int fd, uint32_t value_size)
{
	struct bpf_map_info info;
	uint32_t ilen = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -errno;
	return info.value_size == value_size ? 0 : -EPROTO;
}

/* Everything already pinned: open the maps. 1 when reused, 0 when not all
 * there, or a negative errno. */
static int reuse_pinned(struct kobs *k, const int *have)
{
	char path[PATH_MAX];
	int *fds[] = { &k->qps_fd, &k->ahs_fd, &k->ev_fd };

	for (size_t i = 0; i < NPROGS; i++) {
		if (!have[i])
			continue;
		if (pin_path(k, "link_", progs[i].name, path) || !exists(path))
			return 0;
	}
	for (size_t i = 0; i < 3; i++) {
		if (pin_path(k, "", map_names[i], path) || !exists(path))
			return 0;
		*fds[i] = bpf_obj_get(path);
		if (*fds[i] < 0)
			return -errno;
	}
	if (check_map(k->qps_fd, sizeof(struct kobs_rec_abi)) ||
	    check_map(k->ahs_fd, sizeof(struct kobs_rec_abi)))
		return -EPROTO;
	return 1;
}

static struct bpf_program *prog_by_name(struct kobs_bpf *skel, const char *name)
{
	return bpf_object__find_program_by_name(skel->obj, name);
}

/* Load, attach and pin. */
static int load_fresh(struct kobs *k, const int *have, char *why, size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = k->dir);
	struct kobs_bpf *skel;
	struct bpf_link *link;
	char path[PATH_MAX];
	int err = 0;

	skel = kobs_bpf__open_opts(&opts);
	if (!skel) {
		err = errno ? -errno : -EINVAL;
		fail(why, len, "kobs: open of the BPF object failed: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < NPROGS; i++)
		if (!have[i])
			bpf_program__set_autoload(prog_by_name(skel, progs[i].name), false);
	err = kobs_bpf__load(skel);
	if (err) {
		if (err == -EPERM || err == -EACCES)
			fail(why, len, "kobs: %s", kobs_strerror(err));
		else
			fail(why, len, "kobs: BPF load failed (%s): %s", strerror(-err),
			     libbpf_last[0] ? libbpf_last : "no detail");
		if (err == -ESRCH || err == -ENOTSUP || err == -E2BIG)
			err = -EOPNOTSUPP;
		goto out;
	}
	for (size_t i = 0; i < NPROGS && !err; i++) {
		if (!have[i])
			continue;
		link = bpf_program__attach(prog_by_name(skel, progs[i].name));
		if (!link) {
			err = errno ? -errno : -EINVAL;
			fail(why, len, "kobs: attach to %s failed: %s", progs[i].func, strerror(-err));
			break;
		}
		if (pin_path(k, "link_", progs[i].name, path) == 0) {
			unlink(path);	/* a stale pin from a half-done load */
			err = bpf_link__pin(link, path);
			if (err)
				fail(why, len, "kobs: cannot pin %s: %s", path, strerror(-err));
		}
		bpf_link__destroy(link);	/* the pin keeps it attached */
	}
	if (!err) {
		k->qps_fd = dup(bpf_map__fd(skel->maps.kobs_qps));
		k->ahs_fd = dup(bpf_map__fd(skel->maps.kobs_ahs));
		k->ev_fd = dup(bpf_map__fd(skel->maps.kobs_events));
		if (k->qps_fd < 0 || k->ahs_fd < 0 || k->ev_fd < 0)
			err = -errno;
		k->loaded_here = 1;
	}
out:
	kobs_bpf__destroy(skel);
	return err;
}

/* The reasons that need no load attempt. */
static int precheck(const char *dir, char *why, size_t len)
{
	struct statfs sf;
	char parent[PATH_MAX];
	char *slash;

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		fail(why, len, "kobs: the kernel has no BTF (/sys/kernel/btf/vmlinux: %s)",
		     strerror(errno));
		return errno == EACCES ? -EPERM : -EOPNOTSUPP;
	}
	if (access("/sys/module/ib_core", F_OK) != 0) {
		fail(why, len, "kobs: %s", kobs_strerror(-ENOENT));
		return -ENOENT;
	}
	if (access("/sys/kernel/btf/ib_core", R_OK) != 0) {
		fail(why, len, "kobs: ib_core has no module BTF (/sys/kernel/btf/ib_core)");
		return -EOPNOTSUPP;
	}
	/* The pin directory, or its parent when it does not exist yet. */
	snprintf(parent, sizeof(parent), "%s", dir);
	if (statfs(parent, &sf) != 0) {
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		if (statfs(parent, &sf) != 0) {
			fail(why, len, "kobs: %s: %s", parent, strerror(errno));
			return -ENOTDIR;
		}
	}
	if ((unsigned long)sf.f_type != BPF_FS_MAGIC) {
		fail(why, len, "kobs: %s is not on a bpf filesystem (mount -t bpf bpf /sys/fs/bpf)",
		     parent);
		return -ENOTDIR;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		int e = -errno;

		fail(why, len, "kobs: mkdir %s: %s", dir, strerror(errno));
		return e == -EACCES ? -EPERM : e;
	}
	return 0;
}

/* One ring buffer sample: decode, hand to the caller's callback. */
static int on_event(void *ctx, void *data, size_t size)
{
	struct kobs *k = ctx;
	enum kobs_ev_kind kind;
	struct kobs_qp qp;

	if (!k->ev_cb || kobs_decode_event(data, size, &kind, &qp) != 0)
		return 0;
	k->ev_n++;
	return k->ev_cb(kind, &qp, k->ev_arg) ? -ECANCELED : 0;
}

int kobs_open(const char *pin_dir, struct kobs **out, char *why, size_t len)
{
	char probe[PATH_MAX];
	int have[NPROGS];
	libbpf_print_fn_t old;
	struct kobs *k;
	int err;

	*out = NULL;
	if (why && len)
		why[0] = '\0';
	if (!pin_dir)
		pin_dir = KOBS_PIN_DIR;
	err = kobs_pin_path(pin_dir, "x", probe, sizeof(probe) - 32);
	if (err) {
		fail(why, len, "kobs: pin directory \"%s\": %s", pin_dir, kobs_strerror(err));
		return err;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->qps_fd = k->ahs_fd = k->ev_fd = -1;
	snprintf(k->dir, sizeof(k->dir), "%.*s", (int)(strlen(probe) - 2), probe);
	err = precheck(k->dir, why, len);
	if (err)
		goto fail;
	kernel_has(have);
	for (size_t i = 0; i < NPROGS; i++) {
		if (progs[i].required && !have[i]) {
			fail(why, len, "kobs: the kernel has no %s to hook", progs[i].func);
			err = -EOPNOTSUPP;
			goto fail;
		}
	}
	libbpf_last[0] = '\0';
	old = libbpf_set_print(capture_print);
	err = reuse_pinned(k, have);
	if (err == 0)
		err = load_fresh(k, have, why, len);
	else if (err > 0)
		err = 0;
	else
		fail(why, len, "kobs: pinned objects under %s: %s", k->dir,
		     err == -EPROTO ? kobs_strerror(err) : strerror(-err));
	if (!err) {
		k->rb = ring_buffer__new(k->ev_fd, on_event, k, NULL);
		if (!k->rb) {
			err = errno ? -errno : -ENOMEM;
			fail(why, len, "kobs: ring buffer: %s", strerror(-err));
		}
	}
	libbpf_set_print(old);
	if (err)
		goto fail;
	*out = k;
	return 0;
fail:
	kobs_close(k);
	return err;
}

void kobs_close(struct kobs *k)
{
	if (!k)
		return;
	ring_buffer__free(k->rb);
	if (k->qps_fd >= 0)
		close(k->qps_fd);
	if (k->ahs_fd >= 0)
		close(k->ahs_fd);
	if (k->ev_fd >= 0)
		close(k->ev_fd);
	free(k);
}

int kobs_loaded_here(const struct kobs *k)
{
	return k->loaded_here;
}

int kobs_unpin(const char *pin_dir, char *why, size_t len)
{
	char path[PATH_MAX];
	struct kobs k;
	int err = 0;

	if (!pin_dir)
		pin_dir = KOBS_PIN_DIR;
	memset(&k, 0, sizeof(k));
	if (kobs_pin_path(pin_dir, "x", path, sizeof(path) - 32)) {
		fail(why, len, "kobs: %s", kobs_strerror(-EINVAL));
		return -EINVAL;
	}
	snprintf(k.dir, sizeof(k.dir), "%.*s", (int)(strlen(path) - 2), path);
	/* Links first (that detaches the programs), then the maps. */
	for (size_t i = 0; i < NPROGS; i++)
		if (pin_path(&k, "link_", progs[i].name, path) == 0 && unlink(path) && errno != ENOENT)
			err = -errno;
	for (size_t i = 0; i < 3; i++)
		if (pin_path(&k, "", map_names[i], path) == 0 && unlink(path) && errno != ENOENT)
			err = -errno;
	if (rmdir(k.dir) && errno != ENOENT && !err)
		err = -errno;
	if (err)
		fail(why, len, "kobs: unpin under %s: %s", k.dir, strerror(-err));
	return err;
}

static int walk(int fd, size_t key_size, int (*cb)(const struct kobs_qp *, void *), void *arg)
{
	unsigned char key[16], next[16];
	unsigned char val[sizeof(struct kobs_rec_abi)];
	struct kobs_qp qp;
	void *prev = NULL;
	int ret;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, val) != 0)
			continue;	/* deleted meanwhile */
		if (kobs_decode(val, sizeof(val), &qp) != 0)
			continue;
		ret = cb(&qp, arg);
		if (ret)
			return ret;
	}
	return errno == ENOENT ? 0 : -errno;
}

int kobs_foreach(struct kobs *k, int (*cb)(const struct kobs_qp *, void *), void *arg)
{
	return walk(k->qps_fd, sizeof(struct kobs_key_abi), cb, arg);
}

int kobs_foreach_ah(struct kobs *k, int (*cb)(const struct kobs_qp *, void *), void *arg)
{
	return walk(k->ahs_fd, sizeof(uint64_t), cb, arg);
}

int kobs_lookup(struct kobs *k, const char *dev, uint32_t qpn, struct kobs_qp *out)
{
	struct kobs_key_abi key = { .dev_hash = kobs_dev_hash(dev), .qpn = qpn };
	unsigned char val[sizeof(struct kobs_rec_abi)];
	int err;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(k->qps_fd, &key, val) != 0)
		return -errno;
	err = kobs_decode(val, sizeof(val), out);
	if (err)
		return err;
	if (strcmp(out->dev, dev) != 0) {	/* a hash collision */
		memset(out, 0, sizeof(*out));
		return -ENOENT;
	}
	return 0;
}

int kobs_fd(struct kobs *k)
{
	return k->rb ? ring_buffer__epoll_fd(k->rb) : -ENOTSUP;
}

int kobs_consume(struct kobs *k, int (*cb)(enum kobs_ev_kind, const struct kobs_qp *, void *),
		 void *arg)
{
	int n;

	if (!k->rb)
		return -ENOTSUP;
	k->ev_cb = cb;
	k->ev_arg = arg;
	k->ev_n = 0;
	n = ring_buffer__consume(k->rb);
	k->ev_cb = NULL;
	if (n == -ECANCELED)	/* the callback stopped early */
		return k->ev_n;
	return n < 0 ? n : k->ev_n;
}
