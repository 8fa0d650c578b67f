/* Whose is a cgroup? A block only holds when the suspect's user cannot
 * write anything between the cgroup root and the block cgroup: a delegated
 * subtree (systemd's user@.service, Delegate=yes, or a chown by hand) gives
 * its user the directory and its cgroup.procs, cgroup.subtree_control and
 * cgroup.threads. Here a directory is root's when it is owned by uid 0, no
 * one else may write it, and those files, where present, are owned by uid 0.
 * See enforce_proc.h and docs/blocking-mechanisms.md. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/note.h"
#include "sema/enforce_int.h"

static const char *const owned_files[] = { "cgroup.procs", "cgroup.subtree_control",
					   "cgroup.threads" };

/* 0 when the directory at path (shown as rel) is root's, else -EPERM (or
 * the stat error) with the reason in n. */
static int dir_is_roots(const char *path, const char *rel, struct ias_note *n)
{
	char file[1100];
	struct stat sb;
	size_t i;

	if (stat(path, &sb) < 0) {
		int rc = -errno;

		ias_note_add(n, "%s: %s", rel, strerror(-rc));
		return rc;
	}
	if (!S_ISDIR(sb.st_mode)) {
		ias_note_add(n, "%s is not a directory", rel);
		return -ENOTDIR;
	}
	if (sb.st_uid != 0) {
		ias_note_add(n, "%s is owned by uid %u, not root (a delegated subtree)", rel,
			     (unsigned)sb.st_uid);
		return -EPERM;
	}
	if ((sb.st_mode & S_IWOTH) || ((sb.st_mode & S_IWGRP) && sb.st_gid != 0)) {
		ias_note_add(n, "%s is writable by others (mode %03o)", rel,
			     (unsigned)(sb.st_mode & 0777));
		return -EPERM;
	}
	for (i = 0; i < sizeof(owned_files) / sizeof(owned_files[0]); i++) {
		int w = snprintf(file, sizeof(file), "%s/%s", path, owned_files[i]);

		if (w < 0 || (size_t)w >= sizeof(file))
			return -ENAMETOOLONG;
		if (stat(file, &sb) < 0)
			continue;	/* not every cgroup has every file */
		if (sb.st_uid != 0) {
			ias_note_add(n, "%s/%s is owned by uid %u, not root (a delegated subtree)",
				     rel, owned_files[i], (unsigned)sb.st_uid);
			return -EPERM;
		}
	}
	return 0;
}

/* Calls dir_is_roots for the root and for each leading part of rel, down to
 * rel itself; returns the first failure, and in *good the length of the
 * longest leading part of rel that passed (0: not even the first). */
static int walk_down(const char *root, const char *rel, size_t *good, struct ias_note *n)
{
	char path[1100], part[600];
	size_t i, len = strlen(rel);
	int rc;

	*good = 0;
	if (ep_path3(path, sizeof(path), root, "/", NULL))
		return -ENAMETOOLONG;
	rc = dir_is_roots(path, "the cgroup root", n);
	if (rc)
		return rc;
	for (i = 1; i <= len; i++) {
		if (i < len && rel[i] != '/')
			continue;
		if (rel[i - 1] == '/')	/* "//" or a trailing '/' */
			continue;
		if (i >= sizeof(part))
			return -ENAMETOOLONG;
		memcpy(part, rel, i);
		part[i] = '\0';
		if (ep_path3(path, sizeof(path), root, part, NULL))
			return -ENAMETOOLONG;
		rc = dir_is_roots(path, part, n);
		if (rc)
			return rc;
		*good = i;
	}
	return 0;
}

int eproc_trusted_dir(const char *root, const char *rel, char *why, size_t whylen)
{
	struct ias_note n = { why, whylen, 0 };
	size_t good;

	if (why && whylen)
		why[0] = '\0';
	if (!root || !*root)
		root = "/sys/fs/cgroup";
	if (!rel || rel[0] != '/' || !ep_safe_path(rel)) {
		ias_note_add(&n, "cgroup path not usable: %s", rel ? rel : "(none)");
		return -EINVAL;
	}
	return walk_down(root, rel, &good, &n);
}

size_t eproc_trusted_prefix(const char *root, const char *rel)
{
	struct ias_note n = { NULL, 0, 0 };
	size_t good = 0;

	if (!root || !*root)
		root = "/sys/fs/cgroup";
	if (!rel || rel[0] != '/' || !ep_safe_path(rel))
		return 0;
	(void)walk_down(root, rel, &good, &n);
	return good;
}

/* 1 when s[0..len) names a service or a scope. */
static int unit_name(const char *s, size_t len)
{
	return (len > 8 && strncmp(s + len - 8, ".service", 8) == 0) ||
	       (len > 6 && strncmp(s + len - 6, ".scope", 6) == 0);
}

int eproc_trusted_unit(const char *root, const char *cgpath, const char *sd_unit, char *out,
		       size_t outlen)
{
	size_t good, i, start;
	const char *best = NULL;
	size_t best_len = 0;

	if (!out || !outlen)
		return -EINVAL;
	out[0] = '\0';
	if (!cgpath || cgpath[0] != '/')
		return -EINVAL;
	good = eproc_trusted_prefix(root, cgpath);
	/* Components wholly inside cgpath[0..good). */
	for (i = 1, start = 1; i <= good; i++) {
		if (i < good && cgpath[i] != '/')
			continue;
		if (i > start) {
			size_t len = i - start;

			if (sd_unit) {
				/* systemd's unit must be one of the root's
				 * components (its first, as systemd counts). */
				if (strlen(sd_unit) == len && strncmp(cgpath + start, sd_unit, len) == 0) {
					best = cgpath + start;
					best_len = len;
					break;
				}
			} else if (unit_name(cgpath + start, len)) {
				best = cgpath + start;
				best_len = len;
			}
		}
		start = i + 1;
	}
	if (!best)
		return -ENOENT;
	if (best_len >= outlen)
		return -ENAMETOOLONG;
	memcpy(out, best, best_len);
	out[best_len] = '\0';
	return 0;
}

int eproc_block_parent(const struct eproc_cfg *c, char *out, size_t len)
{
	const char *p = c && c->block_parent && *c->block_parent ? c->block_parent :
			EPROC_DEFAULT_PARENT;
	int w;

	if (!ep_safe_path(p) || strcmp(p, "/") == 0)
		return -EINVAL;
	w = snprintf(out, len, "%s%s", p[0] == '/' ? "" : "/", p);
	if (w < 0 || (size_t)w >= len)
		return -ENAMETOOLONG;
	while (w > 1 && out[w - 1] == '/')	/* "ias.blocks/" */
		out[--w] = '\0';
	return 0;
}

int eproc_parent_ready(const struct eproc_cfg *c, char *why, size_t whylen)
{
	struct ias_note n = { why, whylen, 0 };
	const char *root = ep_root_of(c);
	char parent[512], path[1100], part[512];
	size_t i, len;
	int rc;

	if (why && whylen)
		why[0] = '\0';
	rc = eproc_block_parent(c, parent, sizeof(parent));
	if (rc) {
		ias_note_add(&n, "block_cgroup_parent not usable");
		return rc;
	}
	/* Make what is missing, one level at a time: 0755, root's; never
	 * inside a directory that is not root's. */
	len = strlen(parent);
	for (i = 1; i <= len; i++) {
		struct stat sb;

		if (i < len && parent[i] != '/')
			continue;
		memcpy(part, parent, i);
		part[i] = '\0';
		if (ep_path3(path, sizeof(path), root, part, NULL))
			return -ENAMETOOLONG;
		if (stat(path, &sb) == 0)
			continue;
		{
			char *slash = strrchr(part, '/');

			if (slash == part)
				slash[1] = '\0';	/* the root */
			else
				*slash = '\0';
			rc = eproc_trusted_dir(root, part, why, whylen);
			if (rc) {
				n.used = why && whylen ? strlen(why) : 0;
				ias_note_add(&n, "refused as the block parent: the blocked user could "
					     "undo a block");
				return rc;
			}
		}
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			ias_note_add(&n, "cannot create the block parent %s: %s", parent, strerror(-rc));
			return rc;
		}
	}
	rc = eproc_trusted_dir(root, parent, why, whylen);
	if (rc == -EPERM) {
		n.used = why && whylen ? strlen(why) : 0;
		ias_note_add(&n, "refused as the block parent: the blocked user could undo a block");
	}
	return rc;
}
