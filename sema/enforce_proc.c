/* Process-level blocking from outside: cgroup v2 freezer, rdma cgroup cap,
 * SIGSTOP fallback, kill. See enforce_proc.h and docs/blocking-mechanisms.md. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/note.h"
#include "sema/enforce_proc.h"

#define DEF_ROOT "/sys/fs/cgroup"

static const char *root_of(const struct eproc_cfg *c)
{
	return c && c->cgroup_root && *c->cgroup_root ? c->cgroup_root : DEF_ROOT;
}

/* root + rel + "/" + file into out. */
static int path3(char *out, size_t len, const char *root, const char *rel, const char *file)
{
	int w = snprintf(out, len, "%s%s%s%s", root, rel[0] == '/' ? "" : "/", rel,
			 file ? file : "");

	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

static int write_file(const char *path, const char *text)
{
	size_t n = strlen(text);
	ssize_t w;
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, text, n);
	if (w < 0)
		rc = -errno;
	else if ((size_t)w != n)
		rc = -EIO;
	close(fd);
	return rc;
}

static ssize_t read_file(const char *path, char *buf, size_t cap)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

int eproc_cgroup_of(const char *text, char *out, size_t outlen)
{
	const char *p = text, *e;
	size_t n;

	while (p && *p) {
		e = strchr(p, '\n');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n >= 3 && strncmp(p, "0::", 3) == 0) {
			if (n - 3 >= outlen)
				return -ENAMETOOLONG;
			memcpy(out, p + 3, n - 3);
			out[n - 3] = '\0';
			return out[0] == '/' ? 0 : -ENOENT;
		}
		p = e ? e + 1 : NULL;
	}
	return -ENOENT;
}

int eproc_id_format(uint64_t instance, int64_t block_id, char *out, size_t len)
{
	int w;

	if (!instance || block_id < 0)
		return -EINVAL;
	w = snprintf(out, len, "%016" PRIx64 "-%" PRId64, instance, block_id);
	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

static int safe_path(const char *s)
{
	if (!*s || strstr(s, "..") || strpbrk(s, " \t\n"))
		return 0;
	return 1;
}

static int safe_id(const char *id)
{
	const char *p;

	if (!id || !*id || strlen(id) > 64)
		return 0;
	for (p = id; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '_' && *p != '.' && *p != '-')
			return 0;
	return 1;
}

/* The process's cgroup and a new (or existing) block cgroup for it. */
static int prepare(const struct eproc_cfg *c, pid_t pid, const char *id, struct eproc_block *b,
		   struct ias_note *n)
{
	char path[1024], text[4096], parent[512];
	const char *root = root_of(c);
	const char *slash;
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_file(path, text, sizeof(text)) < 0)
		return -ESRCH;
	rc = eproc_cgroup_of(text, b->origin, sizeof(b->origin));
	if (rc) {
		ias_note_add(n, "process %d has no cgroup v2 membership", (int)pid);
		return rc;
	}
	if (!safe_path(b->origin)) {
		ias_note_add(n, "cgroup path of %d not usable: %s", (int)pid, b->origin);
		return -EINVAL;
	}
	/* Already in one of our block cgroups (a second block): reuse it. */
	slash = strrchr(b->origin, '/');
	if (slash && strncmp(slash + 1, "ias-block-", 10) == 0) {
		snprintf(b->cgroup, sizeof(b->cgroup), "%s", b->origin);
		b->origin[slash - b->origin] = '\0';
		if (!b->origin[0])
			snprintf(b->origin, sizeof(b->origin), "/");
		return 0;
	}
	if (c && c->block_parent && *c->block_parent) {
		if (!safe_path(c->block_parent))
			return -EINVAL;
		snprintf(parent, sizeof(parent), "%s%s", c->block_parent[0] == '/' ? "" : "/",
			 c->block_parent);
	} else {
		snprintf(parent, sizeof(parent), "%s", b->origin);
	}
	rc = snprintf(b->cgroup, sizeof(b->cgroup), "%s/ias-block-%s",
		      strcmp(parent, "/") == 0 ? "" : parent, id);
	if (rc < 0 || (size_t)rc >= sizeof(b->cgroup))
		return -ENAMETOOLONG;
	if (path3(path, sizeof(path), root, parent, NULL) == 0 && mkdir(path, 0755) < 0 &&
	    errno != EEXIST)
		return -errno; /* the configured parent cannot be made */
	if (path3(path, sizeof(path), root, b->cgroup, NULL))
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		ias_note_add(n, "cannot create cgroup %s: %s", b->cgroup, strerror(-rc));
		b->cgroup[0] = '\0';
		return rc;
	}
	return 0;
}

static int move_to(const char *root, const char *cg, pid_t pid)
{
	char path[1024], num[32];
	int rc = path3(path, sizeof(path), root, cg, "/cgroup.procs");

	if (rc)
		return rc;
	snprintf(num, sizeof(num), "%d", (int)pid);
	return write_file(path, num);
}

/* Enable the rdma controller for the children of rel, and of each of its
 * ancestors on the way down from the root. */
static int enable_rdma(const char *root, const char *rel)
{
	char path[1024], prefix[512];
	size_t i, len = strlen(rel);
	int rc = 0;

	for (i = 0; i <= len && rc == 0; i++) {
		if (i < len && rel[i] != '/')
			continue;
		if (i == 0)
			snprintf(prefix, sizeof(prefix), "/");
		else
			snprintf(prefix, sizeof(prefix), "%.*s", (int)i, rel);
		if (path3(path, sizeof(path), root, prefix, "/cgroup.subtree_control"))
			return -ENAMETOOLONG;
		rc = write_file(path, "+rdma");
		if (i == 0 && len == 1)
			break;
	}
	return rc;
}

/* rdma.max of the block cgroup to zero, for every device listed. */
static int cap_rdma(const char *root, struct eproc_block *b, struct ias_note *n)
{
	char path[1024], text[4096], line[256], parent[512], *p, *e, *slash;
	int rc, devs = 0;

	if (path3(path, sizeof(path), root, b->cgroup, "/rdma.max"))
		return -ENAMETOOLONG;
	if (access(path, F_OK) != 0) {
		/* Enable the controller for the parent's children. */
		snprintf(parent, sizeof(parent), "%s", b->cgroup);
		slash = strrchr(parent, '/');
		if (slash)
			*slash = '\0';
		rc = enable_rdma(root, parent[0] ? parent : "/");
		if (rc) {
			ias_note_add(n, "rdma cap not set: cannot enable the rdma controller in %s: %s%s",
			    parent[0] ? parent : "/", strerror(-rc),
			    rc == -EBUSY ? " (that cgroup has other processes)" : "");
			return rc;
		}
	}
	if (read_file(path, text, sizeof(text)) < 0) {
		rc = -errno;
		ias_note_add(n, "rdma cap not set: %s unreadable: %s", path, strerror(-rc));
		return rc;
	}
	for (p = text; *p; p = e) {
		size_t len;

		e = strchr(p, '\n');
		len = e ? (size_t)(e - p) : strlen(p);
		e = e ? e + 1 : p + len;
		if (!len || len >= 64)
			continue;
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, " \n"), p);
		if (!line[0])
			continue;
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 " hca_handle=0 hca_object=0");
		rc = write_file(path, line);
		if (rc) {
			ias_note_add(n, "rdma cap on %.*s failed: %s", (int)strcspn(line, " "), line,
			    strerror(-rc));
			return rc;
		}
		devs++;
	}
	if (!devs) {
		ias_note_add(n, "rdma cap not set: no RDMA device listed in %s/rdma.max", b->cgroup);
		return -ENODEV;
	}
	b->did |= EPROC_RDMA_CAP;
	ias_note_add(n, "capped new RDMA objects in %s (hca_handle=0 hca_object=0 on %d device%s)",
	    b->cgroup, devs, devs == 1 ? "" : "s");
	return 0;
}

static int stop_fallback(pid_t pid, struct eproc_block *b, struct ias_note *n, const char *why)
{
	if (kill(pid, SIGSTOP) < 0) {
		int rc = -errno;

		ias_note_add(n, "cgroup freezer unavailable (%s) and SIGSTOP to %d failed: %s", why,
		    (int)pid, strerror(-rc));
		return rc;
	}
	b->did |= EPROC_SIGSTOP;
	ias_note_add(n, "cgroup freezer unavailable (%s): sent SIGSTOP to %d instead "
	    "(weaker: any process of the same user can send SIGCONT)", why, (int)pid);
	return 0;
}

static int do_block(const struct eproc_cfg *c, pid_t pid, const char *id, bool freeze,
		    bool rdma, struct eproc_block *b, char *note, size_t notelen)
{
	struct ias_note n = { note, notelen, 0 };
	const char *root = root_of(c);
	char path[1024];
	int rc;

	memset(b, 0, sizeof(*b));
	if (note && notelen)
		note[0] = '\0';
	b->pid = pid;
	if (pid <= 1 || !safe_id(id))
		return -EINVAL;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return -ESRCH;
	if (path3(path, sizeof(path), root, "/", "cgroup.controllers") || access(path, F_OK)) {
		rc = -ENOENT;
		if (freeze)
			return stop_fallback(pid, b, &n, "no cgroup v2 hierarchy");
		ias_note_add(&n, "rdma cap not set: no cgroup v2 hierarchy at %s", root);
		return rc;
	}
	rc = prepare(c, pid, id, b, &n);
	if (rc == -ESRCH)
		return rc;
	if (rc == 0) {
		rc = move_to(root, b->cgroup, pid);
		if (rc == -ESRCH)
			return rc;
		if (rc == 0) {
			b->did |= EPROC_MOVED;
			ias_note_add(&n, "moved %d from cgroup %s to %s", (int)pid, b->origin, b->cgroup);
		} else {
			ias_note_add(&n, "cannot move %d into %s: %s", (int)pid, b->cgroup, strerror(-rc));
		}
	}
	if (rc) {
		if (freeze)
			return stop_fallback(pid, b, &n, strerror(-rc));
		return rc;
	}
	if (rdma)
		(void)cap_rdma(root, b, &n); /* a freeze does not depend on it */
	if (!freeze)
		return b->did & EPROC_RDMA_CAP ? 0 : -EOPNOTSUPP;
	if (path3(path, sizeof(path), root, b->cgroup, "/cgroup.freeze"))
		return -ENAMETOOLONG;
	rc = write_file(path, "1");
	if (rc)
		return stop_fallback(pid, b, &n, "cgroup.freeze not writable");
	b->did |= EPROC_FROZEN;
	ias_note_add(&n, "freeze requested on %s (cgroup.freeze=1)", b->cgroup);
	return 0;
}

int eproc_freeze_begin(const struct eproc_cfg *c, pid_t pid, const char *id, bool rdma_cap,
		       struct eproc_block *b, char *note, size_t notelen)
{
	return do_block(c, pid, id, true, rdma_cap, b, note, notelen);
}

/* 1 when the text of a cgroup.events has the line "frozen 1", else 0. */
static int events_frozen(const char *text)
{
	const char *p = strstr(text, "frozen ");

	return p && (p == text || p[-1] == '\n') && p[7] == '1' && (p[8] == '\n' || !p[8]);
}

int eproc_events_path(const struct eproc_cfg *c, const struct eproc_block *b, char *out,
		      size_t len)
{
	if (!b || !b->cgroup[0])
		return -EINVAL;
	return path3(out, len, root_of(c), b->cgroup, "/cgroup.events");
}

int eproc_freeze_state(const struct eproc_cfg *c, const struct eproc_block *b)
{
	char path[1024], text[512];
	ssize_t n;
	int rc;

	if (!b)
		return -EINVAL;
	if (!(b->did & EPROC_FROZEN))
		return b->did & EPROC_SIGSTOP ? 1 : -EINVAL;
	rc = eproc_events_path(c, b, path, sizeof(path));
	if (rc)
		return rc;
	n = read_file(path, text, sizeof(text));
	if (n < 0)
		return (int)n;
	return events_frozen(text);
}

/* Blocking, for tools and tests only (see the header). */
int eproc_freeze(const struct eproc_cfg *c, pid_t pid, const char *id, bool rdma_cap,
		 struct eproc_block *b, char *note, size_t notelen)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct ias_note n;
	int rc, i, st = 0;

	rc = eproc_freeze_begin(c, pid, id, rdma_cap, b, note, notelen);
	if (rc || !(b->did & EPROC_FROZEN))
		return rc;
	for (i = 0; i < 100; i++) {
		st = eproc_freeze_state(c, b);
		if (st != 0)
			break;
		nanosleep(&ts, NULL);
	}
	n = (struct ias_note){ note, notelen, note && notelen ? strlen(note) : 0 };
	if (st == 1)
		ias_note_add(&n, "cgroup.events says frozen");
	else
		ias_note_add(&n, "it did not report frozen yet: %s",
			     strerror(st < 0 ? -st : ETIMEDOUT));
	return 0;
}

int eproc_rdma_cap(const struct eproc_cfg *c, pid_t pid, const char *id,
		   struct eproc_block *b, char *note, size_t notelen)
{
	return do_block(c, pid, id, false, true, b, note, notelen);
}

int eproc_kill(pid_t pid, struct eproc_block *b, char *note, size_t notelen)
{
	struct ias_note n = { note, notelen, 0 };
	int rc = 0;

	if (note && notelen)
		note[0] = '\0';
	if (pid <= 1)
		return -EINVAL;
	if (kill(pid, SIGKILL) < 0) {
		rc = -errno;
		ias_note_add(&n, "SIGKILL to %d failed: %s", (int)pid, strerror(-rc));
		return rc;
	}
	if (b) {
		b->pid = pid;
		b->did |= EPROC_KILLED;
	}
	ias_note_add(&n, "sent SIGKILL to %d", (int)pid);
	return 0;
}

int eproc_release(const struct eproc_cfg *c, struct eproc_block *b, char *note,
		  size_t notelen)
{
	struct ias_note n = { note, notelen, 0 };
	const char *root = root_of(c);
	char path[1024], back[512], *slash;
	int rc, first = 0, alive;

	if (note && notelen)
		note[0] = '\0';
	alive = b->pid > 1 && !(kill(b->pid, 0) < 0 && errno == ESRCH);
	if (b->did & EPROC_KILLED)
		ias_note_add(&n, "process %d was killed: nothing to undo", (int)b->pid);
	if (b->did & EPROC_SIGSTOP) {
		if (!alive)
			ias_note_add(&n, "process %d is gone: nothing to continue", (int)b->pid);
		else if (kill(b->pid, SIGCONT) == 0)
			ias_note_add(&n, "sent SIGCONT to %d", (int)b->pid);
		else {
			first = -errno;
			ias_note_add(&n, "SIGCONT to %d failed: %s", (int)b->pid, strerror(-first));
		}
		if (first == 0)
			b->did &= ~(unsigned)EPROC_SIGSTOP;
	}
	if (b->did & EPROC_FROZEN) {
		rc = path3(path, sizeof(path), root, b->cgroup, "/cgroup.freeze");
		if (rc == 0)
			rc = write_file(path, "0");
		if (rc == 0 || rc == -ENOENT) {
			ias_note_add(&n, rc ? "cgroup %s is gone: nothing to thaw" : "thawed %s (cgroup.freeze=0)",
			    b->cgroup);
			b->did &= ~(unsigned)EPROC_FROZEN;
		} else {
			first = first ? first : rc;
			ias_note_add(&n, "cannot thaw %s: %s", b->cgroup, strerror(-rc));
		}
	}
	if (b->did & EPROC_MOVED) {
		if (!alive) {
			ias_note_add(&n, "process %d is gone: not moved back", (int)b->pid);
			b->did &= ~(unsigned)EPROC_MOVED;
		} else {
			rc = move_to(root, b->origin, b->pid);
			snprintf(back, sizeof(back), "%s", b->origin);
			if (rc == -ENOENT) { /* the origin is gone: the block's parent */
				snprintf(back, sizeof(back), "%s", b->cgroup);
				slash = strrchr(back, '/');
				if (slash)
					*slash = '\0';
				if (!back[0])
					snprintf(back, sizeof(back), "/");
				rc = move_to(root, back, b->pid);
			}
			if (rc == 0) {
				ias_note_add(&n, "moved %d back to cgroup %s", (int)b->pid, back);
				b->did &= ~(unsigned)EPROC_MOVED;
			} else {
				first = first ? first : rc;
				ias_note_add(&n, "cannot move %d back to %s: %s", (int)b->pid, back,
				    strerror(-rc));
			}
		}
	}
	if (b->cgroup[0] && !(b->did & (EPROC_MOVED | EPROC_FROZEN))) {
		if (path3(path, sizeof(path), root, b->cgroup, NULL) == 0 && rmdir(path) == 0) {
			ias_note_add(&n, "removed cgroup %s%s", b->cgroup,
			    b->did & EPROC_RDMA_CAP ? " (and with it the rdma cap)" : "");
			b->did &= ~(unsigned)EPROC_RDMA_CAP;
			b->cgroup[0] = '\0';
		} else if (errno != ENOENT) {
			ias_note_add(&n, "cgroup %s left in place: %s", b->cgroup, strerror(errno));
		} else {
			b->did &= ~(unsigned)EPROC_RDMA_CAP;
			b->cgroup[0] = '\0';
		}
	}
	if (!n.used)
		ias_note_add(&n, "nothing to undo");
	return first;
}

int eproc_format(const struct eproc_block *b, char *out, size_t outlen)
{
	int w = snprintf(out, outlen, "pid=%d did=%u cg=%s from=%s", (int)b->pid, b->did,
			 b->cgroup[0] ? b->cgroup : "-", b->origin[0] ? b->origin : "-");

	return w < 0 || (size_t)w >= outlen ? -EINVAL : 0;
}

int eproc_parse(const char *text, struct eproc_block *b)
{
	char cg[512], from[512];
	int pid, used = 0;
	unsigned did;

	memset(b, 0, sizeof(*b));
	if (sscanf(text, "pid=%d did=%u cg=%511s from=%511s%n", &pid, &did, cg, from, &used) != 4 ||
	    text[used] != '\0' || pid <= 1 || did > 31)
		return -EINVAL;
	if ((strcmp(cg, "-") && (cg[0] != '/' || !safe_path(cg))) ||
	    (strcmp(from, "-") && (from[0] != '/' || !safe_path(from))))
		return -EINVAL;
	b->pid = pid;
	b->did = did;
	snprintf(b->cgroup, sizeof(b->cgroup), "%s", strcmp(cg, "-") ? cg : "");
	snprintf(b->origin, sizeof(b->origin), "%s", strcmp(from, "-") ? from : "");
	return 0;
}

/* A decimal number of 1..18 digits (no sign) filling s[0..len). */
static int dec_of(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (!len || len > 18)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int eproc_orphan_name(const char *name, uint64_t *instance, int64_t *block_id)
{
	const char *r;
	uint64_t inst = 0;
	size_t i;

	if (strncmp(name, "ias-block-", 10) != 0 || !safe_id(name + 10))
		return -EINVAL;
	r = name + 10;
	for (i = 0; i < 16; i++) {
		char ch = r[i];

		if (ch >= '0' && ch <= '9')
			inst = inst << 4 | (uint64_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			inst = inst << 4 | (uint64_t)(ch - 'a' + 10);
		else
			break;
	}
	if (i == 16 && r[16] == '-' && inst && dec_of(r + 17, strlen(r + 17), block_id) == 0) {
		*instance = inst;
		return 0;
	}
	*instance = 0; /* the old "ias-block-<id>" */
	if (dec_of(r, strlen(r), block_id))
		*block_id = -1;
	return 0;
}

/* Lines in a (possibly large) file: processes in a cgroup.procs; -1 error. */
static int count_lines(const char *path)
{
	char buf[4096];
	ssize_t n, i;
	int fd, lines = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return n < 0 ? -1 : lines;
}

struct walk {
	const char *root;
	int (*cb)(const struct eproc_orphan *o, void *arg);
	void *arg;
	int max_depth;
};

static int report_orphan(struct walk *w, const char *rel, uint64_t inst, int64_t id)
{
	struct eproc_orphan o;
	char path[1024], text[512];

	memset(&o, 0, sizeof(o));
	snprintf(o.cgroup, sizeof(o.cgroup), "%s", rel);
	o.instance = inst;
	o.block_id = id;
	if (path3(path, sizeof(path), w->root, rel, "/cgroup.events") == 0 &&
	    read_file(path, text, sizeof(text)) >= 0)
		o.frozen = events_frozen(text);
	if (path3(path, sizeof(path), w->root, rel, "/cgroup.freeze") == 0 &&
	    read_file(path, text, sizeof(text)) >= 0)
		o.freeze_set = text[0] == '1';
	o.nprocs = path3(path, sizeof(path), w->root, rel, "/cgroup.procs") ? -1 : count_lines(path);
	return w->cb(&o, w->arg);
}

/* The cgroups below rel (a buffer of 512 it appends to and restores). */
static int walk_dir(struct walk *w, char *rel, size_t cap, int depth)
{
	char path[1024];
	struct dirent *de;
	struct stat sb;
	size_t len = strlen(rel);
	uint64_t inst;
	int64_t id;
	DIR *d;
	int rc = 0;

	if (path3(path, sizeof(path), w->root, rel, NULL))
		return 0;
	d = opendir(path);
	if (!d)
		return depth == 0 ? -errno : 0; /* a cgroup that went away meanwhile */
	while (rc == 0 && (de = readdir(d))) {
		int w2;

		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		w2 = snprintf(rel + len, cap - len, "%s%s", len && rel[len - 1] == '/' ? "" : "/",
			      de->d_name);
		if (w2 < 0 || (size_t)w2 >= cap - len)
			goto next;
		if (de->d_type == DT_UNKNOWN &&
		    (path3(path, sizeof(path), w->root, rel, NULL) || lstat(path, &sb) ||
		     !S_ISDIR(sb.st_mode)))
			goto next;
		if (eproc_orphan_name(de->d_name, &inst, &id) == 0)
			rc = report_orphan(w, rel, inst, id);
		else if (depth + 1 < w->max_depth && safe_path(rel))
			rc = walk_dir(w, rel, cap, depth + 1);
next:
		rel[len] = '\0';
	}
	closedir(d);
	return rc;
}

int eproc_orphans_foreach(const struct eproc_cfg *c,
			  int (*cb)(const struct eproc_orphan *o, void *arg), void *arg)
{
	struct walk w = { root_of(c), cb, arg, EPROC_ORPHAN_DEPTH };
	char rel[512], path[1024];
	int rc;

	if (!cb)
		return -EINVAL;
	if (c && c->block_parent && *c->block_parent) {
		if (!safe_path(c->block_parent))
			return -EINVAL;
		snprintf(rel, sizeof(rel), "%s%s", c->block_parent[0] == '/' ? "" : "/",
			 c->block_parent);
		w.max_depth = 1;
		rc = path3(path, sizeof(path), w.root, rel, NULL);
		if (rc)
			return rc;
		if (access(path, F_OK) != 0) /* no block parent yet: no block cgroups */
			return access(w.root, F_OK) ? -ENOENT : 0;
	} else {
		snprintf(rel, sizeof(rel), "/");
	}
	return walk_dir(&w, rel, sizeof(rel), 0);
}

/* Move the processes in cg's cgroup.procs to dest (to the root cgroup when
 * dest takes none), in rounds until it is empty. 0, -EBUSY when the same
 * processes stay listed, or the first error. */
static int empty_cgroup(const char *root, const char *cg, const char *dest, struct ias_note *n)
{
	char path[1024], text[4096], prev[4096] = "", *p, *e;
	int round, rc = 0, moved = 0, to_root = 0;
	ssize_t len;

	if (path3(path, sizeof(path), root, cg, "/cgroup.procs"))
		return -ENAMETOOLONG;
	for (round = 0; round < 4 && rc == 0; round++) {
		len = read_file(path, text, sizeof(text));
		if (len <= 0) {
			rc = len == -ENOENT ? 0 : (int)len;
			break;
		}
		if (strcmp(text, prev) == 0) { /* the moves did not take */
			rc = -EBUSY;
			break;
		}
		/* Whole lines only: a full buffer may end in part of a PID. */
		for (p = text; rc == 0 && (e = strchr(p, '\n')); p = e + 1) {
			long pid = strtol(p, NULL, 10);
			int r;

			if (pid <= 1)
				continue;
			r = move_to(root, dest, (pid_t)pid);
			if (r && r != -ESRCH && strcmp(dest, "/") != 0) {
				r = move_to(root, "/", (pid_t)pid);
				to_root += r == 0;
			} else {
				moved += r == 0;
			}
			if (r && r != -ESRCH) {
				rc = r;
				ias_note_add(n, "cannot move %ld out of %s: %s", pid, cg, strerror(-r));
			}
		}
		memcpy(prev, text, (size_t)len + 1);
	}
	if (moved)
		ias_note_add(n, "moved %d process%s to cgroup %s", moved, moved == 1 ? "" : "es", dest);
	if (to_root)
		ias_note_add(n, "moved %d process%s to the root cgroup (%s takes none)", to_root,
		    to_root == 1 ? "" : "es", dest);
	return rc;
}

int eproc_orphan_release(const struct eproc_cfg *c, const struct eproc_orphan *o, char *note,
			 size_t notelen)
{
	struct ias_note n = { note, notelen, 0 };
	const char *root = root_of(c), *last;
	char path[1024], parent[512];
	uint64_t inst;
	int64_t id;
	int rc, first = 0;

	if (note && notelen)
		note[0] = '\0';
	last = strrchr(o->cgroup, '/');
	if (o->cgroup[0] != '/' || !safe_path(o->cgroup) || !last ||
	    eproc_orphan_name(last + 1, &inst, &id))
		return -EINVAL;
	snprintf(parent, sizeof(parent), "%.*s", (int)(last - o->cgroup), o->cgroup);
	if (!parent[0])
		snprintf(parent, sizeof(parent), "/");
	if (path3(path, sizeof(path), root, o->cgroup, NULL))
		return -ENAMETOOLONG;
	if (access(path, F_OK) != 0) {
		ias_note_add(&n, "cgroup %s is gone: nothing to release", o->cgroup);
		return 0;
	}
	path3(path, sizeof(path), root, o->cgroup, "/cgroup.freeze");
	rc = write_file(path, "0");
	if (rc == 0)
		ias_note_add(&n, "thawed %s (cgroup.freeze=0)", o->cgroup);
	else if (rc != -ENOENT) {
		first = rc;
		ias_note_add(&n, "cannot thaw %s: %s", o->cgroup, strerror(-rc));
	}
	rc = empty_cgroup(root, o->cgroup, parent, &n);
	if (rc) {
		first = first ? first : rc;
		if (rc == -EBUSY)
			ias_note_add(&n, "processes remain in %s", o->cgroup);
	}
	path3(path, sizeof(path), root, o->cgroup, NULL);
	if (rmdir(path) == 0 || errno == ENOENT) {
		ias_note_add(&n, "removed cgroup %s", o->cgroup);
	} else {
		rc = -errno;
		first = first ? first : rc;
		ias_note_add(&n, "cgroup %s left in place: %s", o->cgroup, strerror(-rc));
	}
	return first;
}
