/* Block cgroups found on the system, whatever the store says about them
 * (after a crash, or a database that was replaced): only those of root's
 * under the block parent. See enforce_proc.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/note.h"
#include "sema/enforce_int.h"

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

	if (strncmp(name, "ias-block-", 10) != 0 || !ep_safe_id(name + 10))
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

/* The block cgroup rel (a name of ours) as cb sees it. */
static int report_orphan(const char *root, const char *rel, uint64_t inst, int64_t id,
			 int (*cb)(const struct eproc_orphan *o, void *arg), void *arg)
{
	struct eproc_orphan o;
	char path[1024], text[512];

	memset(&o, 0, sizeof(o));
	snprintf(o.cgroup, sizeof(o.cgroup), "%s", rel);
	o.instance = inst;
	o.block_id = id;
	if (ep_path3(path, sizeof(path), root, rel, "/cgroup.events") == 0 &&
	    ep_read_file(path, text, sizeof(text)) >= 0)
		o.frozen = ep_events_frozen(text);
	if (ep_path3(path, sizeof(path), root, rel, "/cgroup.freeze") == 0 &&
	    ep_read_file(path, text, sizeof(text)) >= 0)
		o.freeze_set = text[0] == '1';
	o.nprocs = ep_path3(path, sizeof(path), root, rel, "/cgroup.procs") ? -1 : count_lines(path);
	return cb(&o, arg);
}

int eproc_orphans_foreach(const struct eproc_cfg *c,
			  int (*cb)(const struct eproc_orphan *o, void *arg), void *arg)
{
	const char *root = ep_root_of(c);
	char parent[512], rel[600], path[1100];
	struct dirent *de;
	struct stat sb;
	uint64_t inst;
	int64_t id;
	DIR *d;
	int rc = 0;

	if (!cb)
		return -EINVAL;
	rc = eproc_block_parent(c, parent, sizeof(parent));
	if (rc)
		return rc;
	if (ep_path3(path, sizeof(path), root, parent, NULL))
		return -ENAMETOOLONG;
	if (access(path, F_OK) != 0) /* no block parent yet: no block cgroups */
		return access(root, F_OK) ? -ENOENT : 0;
	/* Under a parent the blocked users could write, nothing is ours. */
	if (eproc_trusted_dir(root, parent, NULL, 0) != 0)
		return 0;
	d = opendir(path);
	if (!d)
		return -errno;
	while (rc == 0 && (de = readdir(d))) {
		int w = snprintf(rel, sizeof(rel), "%s/%s", parent, de->d_name);

		if (w < 0 || (size_t)w >= sizeof(rel) || eproc_orphan_name(de->d_name, &inst, &id))
			continue;
		/* Only a directory of root's: the agent made it. */
		if (ep_path3(path, sizeof(path), root, rel, NULL) || lstat(path, &sb) ||
		    !S_ISDIR(sb.st_mode) || eproc_trusted_dir(root, rel, NULL, 0) != 0)
			continue;
		rc = report_orphan(root, rel, inst, id, cb, arg);
	}
	closedir(d);
	return rc;
}

/* Move the processes in cg's cgroup.procs to dest (to the root cgroup when
 * dest takes none), in rounds until it is empty. 0, -EBUSY when the same
 * processes stay listed, or the first error. */
static int empty_cgroup(const char *root, const char *cg, const char *dest, struct ias_note *n)
{
	char path[1024], text[4096], prev[4096] = "", *p, *e;
	int round, rc = 0, moved = 0, to_root = 0;
	ssize_t len;

	if (ep_path3(path, sizeof(path), root, cg, "/cgroup.procs"))
		return -ENAMETOOLONG;
	for (round = 0; round < 4 && rc == 0; round++) {
		len = ep_read_file(path, text, sizeof(text));
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
			r = ep_move_to(root, dest, (pid_t)pid);
			if (r && r != -ESRCH && strcmp(dest, "/") != 0) {
				r = ep_move_to(root, "/", (pid_t)pid);
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
	const char *root = ep_root_of(c), *last;
	char path[1024];
	uint64_t inst;
	int64_t id;
	int rc, first = 0;

	if (note && notelen)
		note[0] = '\0';
	last = strrchr(o->cgroup, '/');
	if (o->cgroup[0] != '/' || !ep_safe_path(o->cgroup) || !last ||
	    eproc_orphan_name(last + 1, &inst, &id))
		return -EINVAL;
	if (eproc_trusted_dir(root, o->cgroup, NULL, 0) == -EPERM) {
		ias_note_add(&n, "cgroup %s is not root's: not the agent's, not touched", o->cgroup);
		return -EPERM;
	}
	if (ep_path3(path, sizeof(path), root, o->cgroup, NULL))
		return -ENAMETOOLONG;
	if (access(path, F_OK) != 0) {
		ias_note_add(&n, "cgroup %s is gone: nothing to release", o->cgroup);
		return 0;
	}
	ep_path3(path, sizeof(path), root, o->cgroup, "/cgroup.freeze");
	rc = ep_write_file(path, "0");
	if (rc == 0)
		ias_note_add(&n, "thawed %s (cgroup.freeze=0)", o->cgroup);
	else if (rc != -ENOENT) {
		first = rc;
		ias_note_add(&n, "cannot thaw %s: %s", o->cgroup, strerror(-rc));
	}
	/* Where its processes were before is not known, and the block
	 * parent takes none (the rdma controller needs it empty): the root
	 * cgroup. */
	rc = empty_cgroup(root, o->cgroup, "/", &n);
	if (rc) {
		first = first ? first : rc;
		if (rc == -EBUSY)
			ias_note_add(&n, "processes remain in %s", o->cgroup);
	}
	ep_path3(path, sizeof(path), root, o->cgroup, NULL);
	if (rmdir(path) == 0 || errno == ENOENT) {
		ias_note_add(&n, "removed cgroup %s", o->cgroup);
	} else {
		rc = -errno;
		first = first ? first : rc;
		ias_note_add(&n, "cgroup %s left in place: %s", o->cgroup, strerror(-rc));
	}
	return first;
}
