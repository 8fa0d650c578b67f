/* Helpers shared by the files of sema/libiasenforceproc (enforce_proc.c,
 * enforce_orphan.c, enforce_own.c); not an interface for anything else. */
#ifndef IAS_SEMA_ENFORCE_INT_H
#define IAS_SEMA_ENFORCE_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "sema/enforce_proc.h"

/* c->cgroup_root, or /sys/fs/cgroup. */
const char *ep_root_of(const struct eproc_cfg *c);
/* root + rel + file into out: 0 or -ENAMETOOLONG. */
int ep_path3(char *out, size_t len, const char *root, const char *rel, const char *file);
/* Whole-text write (O_TRUNC) and read (NUL-terminated): 0 / length, or -errno. */
int ep_write_file(const char *path, const char *text);
ssize_t ep_read_file(const char *path, char *buf, size_t cap);
/* A cgroup path with no "..", blanks or newlines; an id of [A-Za-z0-9_.-]{1,64}. */
int ep_safe_path(const char *s);
int ep_safe_id(const char *id);
/* Write pid into root+cg's cgroup.procs: 0 or -errno. */
int ep_move_to(const char *root, const char *cg, pid_t pid);
/* 1 when a cgroup.events text says "frozen 1". */
int ep_events_frozen(const char *text);

#endif
