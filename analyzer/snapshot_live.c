/* Live snapshot from procfs. Every per-process file is opened with openat()
 * relative to that process's /proc/PID directory fd, so a PID reused during
 * the scan is not mixed up with the process it replaced: once the original
 * exits, reads through its directory fd fail and the process is skipped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <selinux/selinux.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/snapshot-int.h"

/* Read a whole (small, procfs) file relative to dirfd into a growing,
 * NUL-terminated buffer. Returns its length or a negative errno.
 *
 * The files read here (stat, cgroup) are produced in one piece by the kernel
 * and handed out from that one rendering, so a read that leaves room in the
 * buffer has reached the end: no second read() just to see 0. */
static ssize_t read_at(int dirfd, const char *name, char **buf, size_t *cap)
{
	size_t len = 0;
	ssize_t r;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (;;) {
		size_t room;
		ssize_t n;

		if (len + 1 >= *cap) {
			size_t ncap = *cap ? *cap * 2 : 4096;
			char *nb = ncap > (64u << 20) ? NULL : realloc(*buf, ncap);

			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			*buf = nb;
			*cap = ncap;
		}
		room = *cap - len - 1;
		n = read(fd, *buf + len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		len += (size_t)n;
		if ((size_t)n < room)
			break;
	}
	(*buf)[len] = '\0';
	r = (ssize_t)len;
out:
	close(fd);
	return r;
}

/* The parent PID from the text of /proc/PID/stat: "pid (comm) S ppid ...".
 * comm may hold anything, so look after the last ')'. */
static int stat_ppid(const char *st, int32_t *ppid)
{
	const char *p = strrchr(st, ')');
	char *end;
	long v;

	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -EBADMSG;
	errno = 0;
	v = strtol(p + 4, &end, 10);
	if (errno || end == p + 4 || v < 0 || v > IAS_SNAP_PID_MAX)
		return -EBADMSG;
	*ppid = (int32_t)v;
	return 0;
}

/* readlinkat() into a growing buffer, so long paths are never cut. */
static ssize_t readlink_at(int dirfd, const char *name, char **buf, size_t *cap)
{
	for (;;) {
		size_t ncap = *cap < 256 ? 256 : *cap * 2;
		ssize_t n;
		char *nb;

		if (*cap >= 256) {
			n = readlinkat(dirfd, name, *buf, *cap);
			if (n < 0)
				return -errno;
			if ((size_t)n < *cap)
				return n;
			if (*cap >= (1u << 20))
				return -ENAMETOOLONG;
		}
		nb = realloc(*buf, ncap);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = ncap;
	}
}

/* The cgroup v2 path: the "0::PATH" line of /proc/PID/cgroup. */
static int cgroup_path(const char *text, const char **path, size_t *len)
{
	const char *l = text;

	while (l && *l) {
		const char *nl = strchr(l, '\n');

		if (strncmp(l, "0::", 3) == 0) {
			*path = l + 3;
			*len = nl ? (size_t)(nl - l - 3) : strlen(l + 3);
			return *len ? 0 : -ENOENT;
		}
		l = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

struct live_ctx {
	int procfd;
	char *buf;
	size_t cap;
};

static int32_t live_reparent(void *ctx, int32_t pid)
{
	struct live_ctx *c = ctx;
	char name[32];
	int32_t ppid;

	snprintf(name, sizeof(name), "%d/stat", (int)pid);
	if (read_at(c->procfd, name, &c->buf, &c->cap) < 0 || stat_ppid(c->buf, &ppid))
		return -1;
	return ppid;
}

static long intern_or_unknown(struct ias_snapshot *s, const char *str, size_t len)
{
	if (!len || memchr(str, '\0', len))
		return SNAP_STR_UNKNOWN;
	return snap_intern(s, str, len);
}

int ias_snapshot_live(const char *procdir, unsigned flags, struct ias_snapshot **out)
{
	struct live_ctx lc = { .procfd = -1 };
	char *lnk = NULL, *cg = NULL;
	size_t lnk_cap = 0, cg_cap = 0;
	struct ias_snapshot *s = NULL;
	struct dirent *de;
	DIR *d = NULL;
	bool contexts, zones = !(flags & IAS_SNAP_LIVE_NO_ZONE);
	int r = 0;

	*out = NULL;
	if (flags & IAS_SNAP_LIVE_NO_CONTEXT)
		contexts = false;
	else
		contexts = (flags & IAS_SNAP_LIVE_FORCE_CONTEXT) || is_selinux_enabled() > 0;
	s = snap_new();
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	s->has_contexts = contexts;
	lc.procfd = open(procdir ? procdir : "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lc.procfd < 0) {
		r = -errno;
		goto out;
	}
	{
		int dfd = dup(lc.procfd);

		if (dfd < 0 || !(d = fdopendir(dfd))) {
			r = -errno;
			if (dfd >= 0)
				close(dfd);
			goto out;
		}
	}
	while ((errno = 0, de = readdir(d))) {
		struct snap_proc p = { .parent = -1 };
		char *end, *con = NULL;
		const char *zp;
		size_t zl;
		ssize_t n;
		long v, id;
		int pfd;
		struct stat st;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		v = strtol(de->d_name, &end, 10);
		if (*end || v <= 0 || v > IAS_SNAP_PID_MAX)
			continue;
		p.pid = (int32_t)v;
		/* O_PATH: the fd only anchors the lookups below to this
		 * process; nothing is read through it. */
		pfd = openat(lc.procfd, de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0)
			continue;	/* exited */
		/* Program: the exe link and the inode it leads to. Kernel
		 * threads, zombies and unreadable links give "-". */
		n = readlink_at(pfd, "exe", &lnk, &lnk_cap);
		id = n > 0 ? intern_or_unknown(s, lnk, (size_t)n) : SNAP_STR_UNKNOWN;
		if (id < 0) {
			r = (int)id;
			close(pfd);
			goto out;
		}
		p.exe = (uint32_t)id;
		if (p.exe != SNAP_STR_UNKNOWN && fstatat(pfd, "exe", &st, 0) == 0) {
			p.dev = (uint64_t)st.st_dev;
			p.ino = (uint64_t)st.st_ino;
		}
		/* Zone: the cgroup v2 path. */
		id = SNAP_STR_UNKNOWN;
		if (zones && read_at(pfd, "cgroup", &cg, &cg_cap) >= 0 &&
		    cgroup_path(cg, &zp, &zl) == 0)
			id = intern_or_unknown(s, zp, zl);
		if (id < 0) {
			r = (int)id;
			close(pfd);
			goto out;
		}
		p.zone = (uint32_t)id;
		/* SELinux context. */
		id = SNAP_STR_UNKNOWN;
		if (contexts && getpidcon(p.pid, &con) == 0 && con) {
			id = intern_or_unknown(s, con, strlen(con));
			freecon(con);
		}
		if (id < 0) {
			r = (int)id;
			close(pfd);
			goto out;
		}
		p.ctx = (uint32_t)id;
		/* The parent, read last: if the process exited while we read
		 * the rest, its directory no longer answers and it is left
		 * out; if it answers, everything above was read from it. */
		if (read_at(pfd, "stat", &lc.buf, &lc.cap) < 0 || stat_ppid(lc.buf, &p.ppid)) {
			close(pfd);
			continue;
		}
		close(pfd);
		r = snap_add(s, &p);
		if (r)
			goto out;
	}
	if (errno) {
		r = -errno;
		goto out;
	}
	r = snap_finish(s, SNAP_LIVE, NULL, live_reparent, &lc);
out:
	if (d)
		closedir(d);
	if (lc.procfd >= 0)
		close(lc.procfd);
	free(lc.buf);
	free(lnk);
	free(cg);
	if (r) {
		ias_snapshot_free(s);
		return r;
	}
	*out = s;
	return 0;
}
