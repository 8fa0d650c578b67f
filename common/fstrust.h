/* Who can change a daemon's files: the checks the agent and the manager
 * make at start-up before they trust a state directory, a database or the
 * key file.
 *
 * A file or directory is private to `owner` when it is owned by owner and
 * neither group nor others may write it. Nobody else can then replace it,
 * plant a file in it or change what it holds.
 *
 * The key file's ancestors (every directory from / down to the one holding
 * it) must each be owned by root or by owner and not be group/other
 * writable, so that nobody else can rename a directory on the way and put a
 * key file of their own in its place. One exception, higher up the chain
 * only: a root-owned sticky directory (/tmp) lets nobody rename or remove an
 * entry they do not own, so the check of the next component decides; the
 * directory that holds the key file itself is never allowed to be sticky
 * or writable by others. Symbolic links on the way are followed and the
 * directories they lead to checked the same way.
 *
 * Library code: 0 or a negative errno (-EPERM: somebody else could change
 * it; -ENOTDIR, -ELOOP: wrong kind of file; else the errno of stat), with
 * one line "PATH: why (fix: ...)" in err. Never prints. */
#ifndef IAS_COMMON_FSTRUST_H
#define IAS_COMMON_FSTRUST_H

#include <stddef.h>
#include <sys/types.h>

/* dir is a directory private to owner. what names it in the message
 * ("state directory"). */
int ias_fs_private_dir(const char *dir, uid_t owner, const char *what, char *err,
		       size_t errlen);

/* path, if it exists, is a regular file (not a symbolic link) private to
 * owner. A missing file is fine (0). */
int ias_fs_private_file(const char *path, uid_t owner, char *err, size_t errlen);

/* The SQLite database db (and, if present, its -wal, -shm and -journal
 * files) in state directory dir: dir by ias_fs_private_dir, each file by
 * ias_fs_private_file. */
int ias_fs_private_db(const char *dir, const char *db, uid_t owner, char *err,
		      size_t errlen);

/* Every directory above path, as described at the top. */
int ias_fs_safe_ancestors(const char *path, uid_t owner, char *err, size_t errlen);

#endif
