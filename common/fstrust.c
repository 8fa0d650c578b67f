/* See fstrust.h. */
#include "fstrust.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 3, 4)))
static void put_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int stat_fail(const char *path, char *err, size_t errlen)
{
	int e = errno;

	put_err(err, errlen, "%s: %s", path, strerror(e));
	return -e;
}

int ias_fs_private_dir(const char *dir, uid_t owner, const char *what, char *err, size_t errlen)
{
	struct stat sb;

	if (stat(dir, &sb) < 0)
		return stat_fail(dir, err, errlen);
	if (!S_ISDIR(sb.st_mode)) {
		put_err(err, errlen, "%s %s: not a directory", what, dir);
		return -ENOTDIR;
	}
	if (sb.st_uid != owner) {
		put_err(err, errlen,
			"%s %s: owned by uid %u, not by this daemon's uid %u, who alone may write there"
			" (fix: chown %u %s)", what, dir, (unsigned)sb.st_uid, (unsigned)owner,
			(unsigned)owner, dir);
		return -EPERM;
	}
	if (sb.st_mode & 022) {
		put_err(err, errlen,
			"%s %s: mode %04o lets group or others write in it, so anyone could plant"
			" or replace files there (fix: chmod 0750 %s)", what, dir,
			(unsigned)(sb.st_mode & 07777), dir);
		return -EPERM;
	}
	return 0;
}

int ias_fs_private_file(const char *path, uid_t owner, char *err, size_t errlen)
{
	struct stat sb;

	if (lstat(path, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		return stat_fail(path, err, errlen);
	}
	if (S_ISLNK(sb.st_mode)) {
		put_err(err, errlen, "%s: a symbolic link; refusing to follow it", path);
		return -ELOOP;
	}
	if (!S_ISREG(sb.st_mode)) {
		put_err(err, errlen, "%s: not a regular file", path);
		return -EPERM;
	}
	if (sb.st_uid != owner) {
		put_err(err, errlen,
			"%s: owned by uid %u, not by this daemon's uid %u: another user could have"
			" planted or changed it (fix: inspect it, then chown %u %s)", path,
			(unsigned)sb.st_uid, (unsigned)owner, (unsigned)owner, path);
		return -EPERM;
	}
	if (sb.st_mode & 022) {
		put_err(err, errlen,
			"%s: mode %04o lets group or others write it (fix: inspect it, then chmod go-w %s)",
			path, (unsigned)(sb.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

int ias_fs_private_db(const char *dir, const char *db, uid_t owner, char *err, size_t errlen)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char path[PATH_MAX];
	size_t i;
	int r = ias_fs_private_dir(dir, owner, "state directory", err, errlen);

	for (i = 0; !r && i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s%s", dir, db, sfx[i]) >= sizeof(path)) {
			put_err(err, errlen, "%s: path too long", dir);
			return -ENAMETOOLONG;
		}
		r = ias_fs_private_file(path, owner, err, errlen);
	}
	return r;
}

/* One directory on the way to file; last: it holds file. */
static int check_ancestor(const char *file, const char *dir, uid_t owner, int last, char *err,
			  size_t errlen)
{
	struct stat sb;

	if (stat(dir, &sb) < 0)
		return stat_fail(dir, err, errlen);
	if (!S_ISDIR(sb.st_mode)) {
		put_err(err, errlen, "%s: %s on the way to it is not a directory", file, dir);
		return -ENOTDIR;
	}
	if (sb.st_uid != 0 && sb.st_uid != owner) {
		put_err(err, errlen,
			"%s: directory %s on the way to it is owned by uid %u, not root or uid %u:"
			" that user could put another key file in its place (fix: chown root %s)",
			file, dir, (unsigned)sb.st_uid, (unsigned)owner, dir);
		return -EPERM;
	}
	if (!(sb.st_mode & 022))
		return 0;
	if (last) {
		put_err(err, errlen,
			"%s: its directory %s is writable by group or others (mode %04o): anyone could"
			" put another key file in its place (fix: keep it in a directory only root can"
			" write, such as /etc/ias)", file, dir, (unsigned)(sb.st_mode & 07777));
		return -EPERM;
	}
	if ((sb.st_mode & S_ISVTX) && sb.st_uid == 0)
		return 0;	/* /tmp: the next component's owner decides */
	put_err(err, errlen,
		"%s: directory %s on the way to it is writable by group or others (mode %04o):"
		" anyone could put another key file in its place (fix: chmod go-w %s)",
		file, dir, (unsigned)(sb.st_mode & 07777), dir);
	return -EPERM;
}

/* Every prefix of the absolute directory path dir ("/", "/a", "/a/b"). */
static int check_chain(const char *file, const char *dir, uid_t owner, char *err, size_t errlen)
{
	char p[PATH_MAX];
	size_t len = strlen(dir), i;
	int r;

	if (len >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, len + 1);
	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	r = check_ancestor(file, "/", owner, len == 1, err, errlen);
	for (i = 2; !r && i <= len; i++) {
		char keep;

		if ((i < len && p[i] != '/') || p[i - 1] == '/')
			continue;
		keep = p[i];
		p[i] = '\0';
		r = check_ancestor(file, p, owner, i == len, err, errlen);
		p[i] = keep;
	}
	return r;
}

int ias_fs_safe_ancestors(const char *path, uid_t owner, char *err, size_t errlen)
{
	char dir[PATH_MAX], abs[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int r;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (dir[0] != '/') {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			return stat_fail(".", err, errlen);
		if ((size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, dir) >= sizeof(abs))
			return -ENAMETOOLONG;
	} else {
		snprintf(abs, sizeof(abs), "%s", dir);
	}
	/* The path as written (a symbolic link sits in a directory checked
	 * before it), then where it really leads. */
	r = check_chain(path, abs, owner, err, errlen);
	if (r)
		return r;
	if (!realpath(abs, real))
		return stat_fail(abs, err, errlen);
	return strcmp(real, abs) ? check_chain(path, real, owner, err, errlen) : 0;
}
