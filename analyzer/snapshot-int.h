/* Internal layout of a snapshot, shared by snapshot*.c and search.c only. */
#ifndef IAS_ANALYZER_SNAPSHOT_INT_H
#define IAS_ANALYZER_SNAPSHOT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/snapshot.h"

/* String id 0 is always "-" (unknown). */
#define SNAP_STR_UNKNOWN 0u

struct snap_proc {
	int32_t pid;
	int32_t ppid;
	int32_t parent;		/* index of the parent, -1 for a root */
	uint32_t exe;		/* string ids */
	uint32_t ctx;
	uint32_t zone;
	uint64_t dev;
	uint64_t ino;		/* 0 = unknown */
	unsigned long line;	/* TSV line, 0 for live */
};

struct snap_strtab {
	char **str;
	size_t n, cap;
	uint32_t *slot;		/* open addressing: id + 1, 0 = empty */
	size_t mask;
};

struct ias_snapshot {
	struct snap_proc *p;	/* sorted by pid once finished */
	size_t n, cap;
	uint32_t *child_off;	/* n + 1 entries: children of i are */
	uint32_t *child;	/* child[child_off[i] .. child_off[i+1]) */
	struct snap_strtab strs;
	bool has_contexts;
};

enum snap_mode { SNAP_TSV, SNAP_LIVE };

struct ias_snapshot *snap_new(void);
/* Intern a string of len bytes (may hold any byte but NUL). Returns its id or
 * a negative errno. */
long snap_intern(struct ias_snapshot *s, const char *str, size_t len);
const char *snap_str(const struct ias_snapshot *s, uint32_t id);
/* Look a string up without adding it; -ENOENT if absent. */
long snap_lookup(const struct ias_snapshot *s, const char *str, size_t len);
int snap_add(struct ias_snapshot *s, const struct snap_proc *p);
/* Sort, index and check. In SNAP_TSV mode errors go to *err (-EINVAL); in
 * SNAP_LIVE mode inconsistencies from races are repaired, with reparent()
 * asked first for a fresh parent of a process whose parent is missing. */
int snap_finish(struct ias_snapshot *s, enum snap_mode mode, struct ias_snap_err *err,
		int32_t (*reparent)(void *ctx, int32_t pid), void *ctx);

/* ias_snapshot_live() with a given number of scanning threads (0: one per
 * usable CPU, at most 4; IAS_SNAP_LIVE_SERIAL means 1). For tests. */
int snap_live_scan(const char *procdir, unsigned flags, unsigned threads,
		   struct ias_snapshot **out);

/* Same program: dev+inode when both are known, else the path; an unknown
 * exe never matches. */
static inline bool snap_same_program(const struct snap_proc *a, const struct snap_proc *b)
{
	if (a->exe == SNAP_STR_UNKNOWN || b->exe == SNAP_STR_UNKNOWN)
		return false;
	if (a->ino && b->ino)
		return a->dev == b->dev && a->ino == b->ino;
	return a->exe == b->exe;
}

#endif
