/* Live snapshot from procfs.
 *
 * For each PID, /proc/PID/stat is opened first and read last. The open file
 * stays bound to the process it was opened for: once that process is gone,
 * reading it fails, even if its PID has been handed to a new process. So
 * when the final read succeeds, the process was alive through all the other
 * look-ups of /proc/PID/..., which therefore all reached it and not a
 * successor with the same PID; when it fails the process is left out.
 *
 * The PID list is read first; then the PIDs are split in small chunks over
 * up to four threads (one per usable CPU), each with its own buffers, and
 * the results are merged in the order of the PID list, so the snapshot is the
 * same whatever the number of threads. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <selinux/selinux.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/snapshot-int.h"

/* PIDs a thread takes at a time, and the most threads used. */
#define LIVE_CHUNK 64
#define LIVE_MAX_THREADS 4

/* Read a whole (small, procfs) file from fd into a growing, NUL-terminated
 * buffer. Returns its length or a negative errno.
 *
 * The files read here (stat, cgroup) are produced in one piece by the kernel
 * and handed out from that one rendering, so a read that leaves room in the
 * buffer has reached the end: no second read() just to see 0. */
static ssize_t read_fd(int fd, char **buf, size_t *cap)
{
	size_t len = 0;

	for (;;) {
		size_t room;
		ssize_t n;

		if (len + 1 >= *cap) {
			size_t ncap = *cap ? *cap * 2 : 4096;
			char *nb = ncap > (64u << 20) ? NULL : realloc(*buf, ncap);

			if (!nb)
				return -ENOMEM;
			*buf = nb;
			*cap = ncap;
		}
		room = *cap - len - 1;
		n = read(fd, *buf + len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len += (size_t)n;
		if ((size_t)n < room)
			break;
	}
	(*buf)[len] = '\0';
	return (ssize_t)len;
}

static ssize_t read_at(int dirfd, const char *name, char **buf, size_t *cap)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = read_fd(fd, buf, cap);
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

/* What a worker found for one PID of the list. Strings are byte ranges of
 * that worker's arena; length 0 means unknown. */
struct live_rec {
	int32_t ppid;
	bool present;		/* false: exited (or unreadable), left out */
	uint8_t worker;
	uint32_t exe_off, exe_len;
	uint32_t zone_off, zone_len;
	uint32_t ctx_off, ctx_len;
	uint64_t dev, ino;
};

struct live_scan;

struct live_worker {
	struct live_scan *sc;
	int procfd;		/* its own open procfs: no shared file count */
	uint8_t id;
	char *buf, *lnk, *arena;
	size_t cap, lnk_cap, alen, acap;
	int err;
	pthread_t th;
};

struct live_scan {
	int procfd;
	bool zones, contexts;
	const int32_t *pids;
	size_t n;
	struct live_rec *rec;
	atomic_size_t next;	/* first PID index of the next free chunk */
	atomic_bool stop;	/* a worker failed: the others stop early */
};

/* Copy len bytes to the worker's arena; their offset in *off. */
static int arena_put(struct live_worker *w, const char *str, size_t len, uint32_t *off)
{
	if (len > UINT32_MAX || w->alen + len > UINT32_MAX)
		return -ENOMEM;
	if (w->alen + len > w->acap) {
		size_t ncap = w->acap ? w->acap : 16384;
		char *na;

		while (ncap < w->alen + len)
			ncap *= 2;
		na = realloc(w->arena, ncap);
		if (!na)
			return -ENOMEM;
		w->arena = na;
		w->acap = ncap;
	}
	memcpy(w->arena + w->alen, str, len);
	*off = (uint32_t)w->alen;
	w->alen += len;
	return 0;
}

/* Read one process into *rec. Returns 0 (rec->present says whether it is
 * kept) or a negative errno that ends the scan. */
static int live_one(struct live_worker *w, int32_t pid, struct live_rec *rec)
{
	const struct live_scan *sc = w->sc;
	int procfd = w->procfd;
	char name[32];
	size_t pre;
	ssize_t n;
	int sfd, r = 0;

	rec->present = false;
	rec->worker = w->id;
	pre = (size_t)snprintf(name, sizeof(name), "%d/", (int)pid);
	memcpy(name + pre, "stat", 5);
	sfd = openat(procfd, name, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return 0;	/* exited */
	/* Program: the exe link and the inode it leads to. Kernel threads,
	 * zombies and unreadable links give "-". */
	memcpy(name + pre, "exe", 4);
	n = readlink_at(procfd, name, &w->lnk, &w->lnk_cap);
	if (n > 0 && !memchr(w->lnk, '\0', (size_t)n)) {
		struct stat st;

		r = arena_put(w, w->lnk, (size_t)n, &rec->exe_off);
		if (r)
			goto out;
		rec->exe_len = (uint32_t)n;
		if (fstatat(procfd, name, &st, 0) == 0) {
			rec->dev = (uint64_t)st.st_dev;
			rec->ino = (uint64_t)st.st_ino;
		}
	}
	/* Zone: the cgroup v2 path. */
	if (sc->zones) {
		const char *zp;
		size_t zl;

		memcpy(name + pre, "cgroup", 7);
		if (read_at(procfd, name, &w->buf, &w->cap) >= 0 &&
		    cgroup_path(w->buf, &zp, &zl) == 0) {
			r = arena_put(w, zp, zl, &rec->zone_off);
			if (r)
				goto out;
			rec->zone_len = (uint32_t)zl;
		}
	}
	/* SELinux context. */
	if (sc->contexts) {
		char *con = NULL;

		if (getpidcon(pid, &con) == 0 && con) {
			size_t cl = strlen(con);

			r = arena_put(w, con, cl, &rec->ctx_off);
			rec->ctx_len = (uint32_t)cl;
			freecon(con);
			if (r)
				goto out;
		}
	}
	/* The parent, read last: see the top of this file. */
	if (read_fd(sfd, &w->buf, &w->cap) >= 0 && stat_ppid(w->buf, &rec->ppid) == 0)
		rec->present = true;
out:
	close(sfd);
	return r;
}

static void *live_work(void *arg)
{
	struct live_worker *w = arg;
	struct live_scan *sc = w->sc;

	while (!atomic_load_explicit(&sc->stop, memory_order_relaxed)) {
		size_t i = atomic_fetch_add(&sc->next, LIVE_CHUNK), end;

		if (i >= sc->n)
			break;
		end = i + LIVE_CHUNK < sc->n ? i + LIVE_CHUNK : sc->n;
		for (; i < end; i++) {
			w->err = live_one(w, sc->pids[i], &sc->rec[i]);
			if (w->err) {
				atomic_store(&sc->stop, true);
				return NULL;
			}
		}
	}
	return NULL;
}

/* Threads for n PIDs: one per CPU this process may run on, at most
 * LIVE_MAX_THREADS, and none idle for want of chunks. */
static unsigned live_threads(size_t n)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	size_t chunks = (n + LIVE_CHUNK - 1) / LIVE_CHUNK;
	unsigned t = online > 0 ? (unsigned)online : 1;
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0 &&
	    (unsigned)CPU_COUNT(&set) < t)
		t = (unsigned)CPU_COUNT(&set);
	if (t > LIVE_MAX_THREADS)
		t = LIVE_MAX_THREADS;
	if (t > chunks)
		t = chunks ? (unsigned)chunks : 1;
	return t;
}

/* The PIDs in procdir, in directory order. */
static int live_pids(int procfd, int32_t **pids, size_t *n)
{
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int dfd = dup(procfd), r = 0;

	*pids = NULL;
	*n = 0;
	if (dfd < 0 || !(d = fdopendir(dfd))) {
		r = -errno;
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	while ((errno = 0, de = readdir(d))) {
		char *end;
		long v;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		v = strtol(de->d_name, &end, 10);
		if (*end || v <= 0 || v > IAS_SNAP_PID_MAX)
			continue;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			int32_t *np = realloc(*pids, ncap * sizeof(*np));

			if (!np) {
				r = -ENOMEM;
				goto out;
			}
			*pids = np;
			cap = ncap;
		}
		(*pids)[(*n)++] = (int32_t)v;
	}
	if (errno)
		r = -errno;
out:
	closedir(d);
	return r;
}

static long intern_or_unknown(struct ias_snapshot *s, const struct live_worker *w, uint32_t off,
			      uint32_t len)
{
	const char *str = w->arena + off;

	if (!len || memchr(str, '\0', len))
		return SNAP_STR_UNKNOWN;
	return snap_intern(s, str, len);
}

/* Add the processes found, in PID-list order. */
static int live_merge(struct ias_snapshot *s, const struct live_scan *sc,
		      const struct live_worker *w)
{
	size_t i;

	for (i = 0; i < sc->n; i++) {
		const struct live_rec *rc = &sc->rec[i];
		const struct live_worker *rw = &w[rc->worker];
		struct snap_proc p = { .pid = sc->pids[i], .ppid = rc->ppid, .parent = -1 };
		long id;
		int r;

		if (!rc->present)
			continue;
		id = intern_or_unknown(s, rw, rc->exe_off, rc->exe_len);
		if (id < 0)
			return (int)id;
		p.exe = (uint32_t)id;
		if (p.exe != SNAP_STR_UNKNOWN) {
			p.dev = rc->dev;
			p.ino = rc->ino;
		}
		id = intern_or_unknown(s, rw, rc->zone_off, rc->zone_len);
		if (id < 0)
			return (int)id;
		p.zone = (uint32_t)id;
		id = intern_or_unknown(s, rw, rc->ctx_off, rc->ctx_len);
		if (id < 0)
			return (int)id;
		p.ctx = (uint32_t)id;
		r = snap_add(s, &p);
		if (r)
			return r;
	}
	return 0;
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

int snap_live_scan(const char *procdir, unsigned flags, unsigned threads,
		   struct ias_snapshot **out)
{
	struct live_worker w[LIVE_MAX_THREADS] = { 0 };
	struct live_scan sc = { .procfd = -1 };
	struct live_ctx lc = { .procfd = -1 };
	struct ias_snapshot *s = NULL;
	int32_t *pids = NULL;
	unsigned t, started = 1;
	int r = 0;

	*out = NULL;
	sc.zones = !(flags & IAS_SNAP_LIVE_NO_ZONE);
	if (flags & IAS_SNAP_LIVE_NO_CONTEXT)
		sc.contexts = false;
	else
		sc.contexts = (flags & IAS_SNAP_LIVE_FORCE_CONTEXT) || is_selinux_enabled() > 0;
	s = snap_new();
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	s->has_contexts = sc.contexts;
	sc.procfd = open(procdir ? procdir : "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sc.procfd < 0) {
		r = -errno;
		goto out;
	}
	r = live_pids(sc.procfd, &pids, &sc.n);
	if (r)
		goto out;
	sc.pids = pids;
	sc.rec = calloc(sc.n ? sc.n : 1, sizeof(*sc.rec));
	if (!sc.rec) {
		r = -ENOMEM;
		goto out;
	}
	atomic_init(&sc.next, 0);
	atomic_init(&sc.stop, false);
	if (flags & IAS_SNAP_LIVE_SERIAL)
		threads = 1;
	t = threads ? threads : live_threads(sc.n);
	if (t > LIVE_MAX_THREADS)
		t = LIVE_MAX_THREADS;
	for (unsigned i = 0; i < t; i++) {
		w[i].sc = &sc;
		w[i].id = (uint8_t)i;
		w[i].procfd = -1;
		if (i)
			w[i].procfd = openat(sc.procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (w[i].procfd < 0)
			w[i].procfd = sc.procfd;
	}
	if (t > 1) {
		/* The helpers take no signals: those stay with the caller. */
		sigset_t all, old;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (; started < t; started++)
			if (pthread_create(&w[started].th, NULL, live_work, &w[started]))
				break;	/* fewer helpers; the caller does the rest */
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	live_work(&w[0]);
	for (unsigned i = 1; i < started; i++)
		pthread_join(w[i].th, NULL);
	for (unsigned i = 0; i < started; i++)
		if (w[i].err && !r)
			r = w[i].err;
	if (r)
		goto out;
	r = live_merge(s, &sc, w);
	if (r)
		goto out;
	lc.procfd = sc.procfd;
	r = snap_finish(s, SNAP_LIVE, NULL, live_reparent, &lc);
out:
	for (unsigned i = 0; i < LIVE_MAX_THREADS; i++) {
		if (w[i].sc && w[i].procfd != sc.procfd)
			close(w[i].procfd);
		free(w[i].buf);
		free(w[i].lnk);
		free(w[i].arena);
	}
	if (sc.procfd >= 0)
		close(sc.procfd);
	free(lc.buf);
	free(sc.rec);
	free(pids);
	if (r) {
		ias_snapshot_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int ias_snapshot_live(const char *procdir, unsigned flags, struct ias_snapshot **out)
{
	return snap_live_scan(procdir, flags, 0, out);
}
