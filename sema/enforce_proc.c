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
#include "sema/enforce_int.h"

#define DEF_ROOT "/sys/fs/cgroup"

const char *ep_root_of(const struct eproc_cfg *c)
{
	return c && c->cgroup_root && *c->cgroup_root ? c->cgroup_root : DEF_ROOT;
}

/* root + rel + "/" + file into out. */
int ep_path3(char *out, size_t len, const char *root, const char *rel, const char *file)
{
	int w = snprintf(out, len, "%s%s%s%s", root, rel[0] == '/' ? "" : "/", rel,
			 file ? file : "");

	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

int ep_write_file(const char *path, const char *text)
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

ssize_t ep_read_file(const char *path, char *buf, size_t cap)
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

int ep_safe_path(const char *s)
{
	if (!*s || strstr(s, "..") || strpbrk(s, " \t\n"))
		return 0;
	return 1;
}

int ep_safe_id(const char *id)
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

/* The process's cgroup and a new block cgroup for it under the block
 * parent, which must be root's: a cgroup the blocked user can write (a
 * delegated subtree) would let it move the process out or thaw it. */
static int prepare(const struct eproc_cfg *c, pid_t pid, const char *id, struct eproc_block *b,
		   struct ias_note *n)
{
	char path[1024], text[4096], parent[512], why[400];
	const char *root = ep_root_of(c);
	const char *slash;
	struct stat sb;
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (ep_read_file(path, text, sizeof(text)) < 0)
		return -ESRCH;
	rc = eproc_cgroup_of(text, b->origin, sizeof(b->origin));
	if (rc) {
		ias_note_add(n, "process %d has no cgroup v2 membership", (int)pid);
		return rc;
	}
	if (!ep_safe_path(b->origin)) {
		ias_note_add(n, "cgroup path of %d not usable: %s", (int)pid, b->origin);
		return -EINVAL;
	}
	rc = eproc_parent_ready(c, why, sizeof(why));
	if (rc) {
		ias_note_add(n, "%s", why);
		return rc;
	}
	if (eproc_block_parent(c, parent, sizeof(parent)))
		return -EINVAL;
	/* Already in one of our block cgroups (a second block): reuse it,
	 * but only one under the block parent that is root's, never one
	 * named like it elsewhere. */
	slash = strrchr(b->origin, '/');
	if (slash && strncmp(slash + 1, "ias-block-", 10) == 0 &&
	    (size_t)(slash - b->origin) == strlen(parent) &&
	    strncmp(b->origin, parent, strlen(parent)) == 0 &&
	    eproc_trusted_dir(root, b->origin, NULL, 0) == 0) {
		snprintf(b->cgroup, sizeof(b->cgroup), "%s", b->origin);
		/* Its cgroup before is recorded with the first block. */
		snprintf(b->origin, sizeof(b->origin), "%s", parent);
		return 0;
	}
	rc = snprintf(b->cgroup, sizeof(b->cgroup), "%s/ias-block-%s", parent, id);
	if (rc < 0 || (size_t)rc >= sizeof(b->cgroup))
		return -ENAMETOOLONG;
	if (ep_path3(path, sizeof(path), root, b->cgroup, NULL))
		return -ENAMETOOLONG;
	/* mkdir must make it: a cgroup of that name that exists already
	 * was not made for this block and is never reused. */
	if (mkdir(path, 0755) < 0) {
		rc = -errno;
		if (rc == -EEXIST)
			ias_note_add(n, "cgroup %s exists already: not made for this block, not reused",
				     b->cgroup);
		else
			ias_note_add(n, "cannot create cgroup %s: %s", b->cgroup, strerror(-rc));
		b->cgroup[0] = '\0';
		return rc;
	}
	if (stat(path, &sb) < 0 || sb.st_uid != 0) {
		ias_note_add(n, "cgroup %s is not root's after mkdir: not used", b->cgroup);
		rmdir(path);
		b->cgroup[0] = '\0';
		return -EPERM;
	}
	if (c && c->made)
		c->made(path);
	return 0;
}

int ep_move_to(const char *root, const char *cg, pid_t pid)
{
	char path[1024], num[32];
	int rc = ep_path3(path, sizeof(path), root, cg, "/cgroup.procs");

	if (rc)
		return rc;
	snprintf(num, sizeof(num), "%d", (int)pid);
	return ep_write_file(path, num);
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
		if (ep_path3(path, sizeof(path), root, prefix, "/cgroup.subtree_control"))
			return -ENAMETOOLONG;
		rc = ep_write_file(path, "+rdma");
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

	if (ep_path3(path, sizeof(path), root, b->cgroup, "/rdma.max"))
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
	if (ep_read_file(path, text, sizeof(text)) < 0) {
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
		rc = ep_write_file(path, line);
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
	const char *root = ep_root_of(c);
	char path[1024];
	int rc;

	memset(b, 0, sizeof(*b));
	if (note && notelen)
		note[0] = '\0';
	b->pid = pid;
	if (pid <= 1 || !ep_safe_id(id))
		return -EINVAL;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return -ESRCH;
	if (ep_path3(path, sizeof(path), root, "/", "cgroup.controllers") || access(path, F_OK)) {
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
		rc = ep_move_to(root, b->cgroup, pid);
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
	if (ep_path3(path, sizeof(path), root, b->cgroup, "/cgroup.freeze"))
		return -ENAMETOOLONG;
	rc = ep_write_file(path, "1");
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
int ep_events_frozen(const char *text)
{
	const char *p = strstr(text, "frozen ");

	return p && (p == text || p[-1] == '\n') && p[7] == '1' && (p[8] == '\n' || !p[8]);
}

int eproc_events_path(const struct eproc_cfg *c, const struct eproc_block *b, char *out,
		      size_t len)
{
	if (!b || !b->cgroup[0])
		return -EINVAL;
	return ep_path3(out, len, ep_root_of(c), b->cgroup, "/cgroup.events");
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
	n = ep_read_file(path, text, sizeof(text));
	if (n < 0)
		return (int)n;
	return ep_events_frozen(text);
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
	const char *root = ep_root_of(c);
	char path[1024], back[512];
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
		rc = ep_path3(path, sizeof(path), root, b->cgroup, "/cgroup.freeze");
		if (rc == 0)
			rc = ep_write_file(path, "0");
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
			rc = ep_move_to(root, b->origin, b->pid);
			snprintf(back, sizeof(back), "%s", b->origin);
			if (rc == -ENOENT) {
				/* The origin is gone: the root cgroup (the block
				 * parent takes no processes). */
				snprintf(back, sizeof(back), "/");
				rc = ep_move_to(root, back, b->pid);
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
		if (ep_path3(path, sizeof(path), root, b->cgroup, NULL) == 0 && rmdir(path) == 0) {
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
	if ((strcmp(cg, "-") && (cg[0] != '/' || !ep_safe_path(cg))) ||
	    (strcmp(from, "-") && (from[0] != '/' || !ep_safe_path(from))))
		return -EINVAL;
	b->pid = pid;
	b->did = did;
	snprintf(b->cgroup, sizeof(b->cgroup), "%s", strcmp(cg, "-") ? cg : "");
	snprintf(b->origin, sizeof(b->origin), "%s", strcmp(from, "-") ? from : "");
	return 0;
}
