/* Process-level blocking from outside the process: freeze through the
 * cgroup v2 freezer (SIGSTOP when it is unavailable), a cap on new RDMA
 * objects through the rdma cgroup controller, and kill. Every call says in
 * plain text exactly what it did, for the block's record and release note.
 * See docs/blocking-mechanisms.md. Needs root (or a delegated cgroup tree). */
#ifndef IAS_SEMA_ENFORCE_PROC_H
#define IAS_SEMA_ENFORCE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct eproc_cfg {
	const char *cgroup_root;  /* NULL: /sys/fs/cgroup (the cgroup2 mount) */
	/* Where block cgroups are made, relative to cgroup_root, e.g.
	 * "ias.slice". NULL or "": a child of the process's own cgroup. */
	const char *block_parent;
};

enum {
	EPROC_MOVED = 1,	/* moved into the block cgroup */
	EPROC_FROZEN = 2,	/* cgroup.freeze = 1 */
	EPROC_SIGSTOP = 4,	/* fallback: SIGSTOP sent */
	EPROC_RDMA_CAP = 8,	/* rdma.max set to 0 in the block cgroup */
	EPROC_KILLED = 16,	/* SIGKILL sent */
};

/* What was done to one process; enough to undo it, also after a restart of
 * the agent (eproc_format / eproc_parse give it a one-line text form). */
struct eproc_block {
	pid_t pid;
	unsigned did;		/* EPROC_* */
	char cgroup[512];	/* block cgroup, relative to the root ("" none) */
	char origin[512];	/* the process's cgroup before, relative to the root */
};

/* The id of a block cgroup as the agent makes it: "<instance>-<block id>",
 * instance in 16 lower-case hex digits (ias_store_instance(): random per
 * database, so names stay unique when the database is replaced), block id
 * in decimal. The cgroup is then "ias-block-<instance>-<block id>".
 * 0, -EINVAL (block_id < 0), -ENAMETOOLONG. */
int eproc_id_format(uint64_t instance, int64_t block_id, char *out, size_t len);

/* Start a freeze of pid, without waiting: make the cgroup "ias-block-<id>"
 * (id: [A-Za-z0-9_.-], at most 64 characters; the agent passes
 * eproc_id_format's), move the process into it, with rdma_cap write
 * "<dev> hca_handle=0 hca_object=0" for every device in its rdma.max
 * (enabling the rdma controller on the parent if needed), and write
 * cgroup.freeze=1. The kernel freezes the cgroup's tasks asynchronously:
 * eproc_freeze_state says when it is done (watch eproc_events_path with
 * inotify, IN_MODIFY, or poll it). When the cgroup freezer cannot be used,
 * SIGSTOP is sent instead; that takes effect at once.
 * Returns 0 (b->did says what was done; EPROC_FROZEN means "freeze
 * requested"), or a negative errno: -ESRCH no such process, -EINVAL bad pid
 * or id, or the error of the SIGSTOP fallback. note always says what was
 * done and what failed. Never sleeps. */
int eproc_freeze_begin(const struct eproc_cfg *c, pid_t pid, const char *id, bool rdma_cap,
		       struct eproc_block *b, char *note, size_t notelen);

/* The state of b's freeze: 1 frozen (cgroup.events says "frozen 1", or the
 * SIGSTOP fallback was used), 0 not yet, or a negative errno: -ENOENT the
 * block cgroup is gone, -EINVAL b records no freeze. Never sleeps. */
int eproc_freeze_state(const struct eproc_cfg *c, const struct eproc_block *b);

/* The absolute path of b's block cgroup's cgroup.events. 0, -EINVAL (b has
 * no block cgroup), -ENAMETOOLONG. */
int eproc_events_path(const struct eproc_cfg *c, const struct eproc_block *b, char *out,
		      size_t len);

/* eproc_freeze_begin, then wait (bounded, 1 s) until eproc_freeze_state
 * says frozen; the note says whether it did. BLOCKING: not for the agent's
 * reactor (tools and tests only; the agent uses eproc_freeze_begin). */
int eproc_freeze(const struct eproc_cfg *c, pid_t pid, const char *id, bool rdma_cap,
		 struct eproc_block *b, char *note, size_t notelen);

/* Only the rdma cap, no freeze (the process keeps running, but can make no
 * new RDMA objects). Same conventions as eproc_freeze. */
int eproc_rdma_cap(const struct eproc_cfg *c, pid_t pid, const char *id,
		   struct eproc_block *b, char *note, size_t notelen);

/* SIGKILL (only when policy says so). 0 or negative errno; b may be NULL. */
int eproc_kill(pid_t pid, struct eproc_block *b, char *note, size_t notelen);

/* Undo what b records: thaw (or SIGCONT), move the process back to its
 * origin (or, if that is gone, to the block cgroup's parent), remove the
 * block cgroup. A killed process stays killed (the note says so). 0 when
 * everything reversible was undone, else the first negative errno; the note
 * lists each step. b->did is cleared of what was undone. */
int eproc_release(const struct eproc_cfg *c, struct eproc_block *b, char *note,
		  size_t notelen);

/* "pid=<n> did=<bits> cg=<path> from=<path>" and back. Paths have no spaces
 * in this form ('%20'-style escaping is not done: a path with a space is
 * refused by eproc_freeze's checks). 0 or -EINVAL.
 * Legacy: the store keeps struct ias_proc_undo now; these remain only for
 * the migration that reads the old text and for tests/kernel/eproc_tool.
 * Nothing new should depend on them. */
int eproc_format(const struct eproc_block *b, char *out, size_t outlen);
int eproc_parse(const char *text, struct eproc_block *b);

/* The cgroup v2 path ("0::<path>" line) in the text of /proc/PID/cgroup.
 * 0, or -ENOENT when there is no v2 line, -ENAMETOOLONG. */
int eproc_cgroup_of(const char *text, char *out, size_t outlen);

/* A block cgroup found on the system, whatever the store says about it
 * (after a crash, or a database that was replaced). */
struct eproc_orphan {
	char cgroup[512];	/* relative to the cgroup root, e.g. "/ias.slice/ias-block-..." */
	uint64_t instance;	/* the database instance in its name; 0 for the old
				 * "ias-block-<id>" form, which carries none */
	int64_t block_id;	/* the block id in its name; -1 when it is not a number */
	bool frozen;		/* cgroup.events says "frozen 1" */
	bool freeze_set;	/* cgroup.freeze is 1 (frozen, or still freezing) */
	int nprocs;		/* processes in its cgroup.procs; -1 unreadable */
};

/* Calls cb for every ias-block-* cgroup under the block parent, or, when
 * none is configured, found by walking the cgroup tree from the root down
 * to EPROC_ORPHAN_DEPTH levels (block cgroups themselves are not entered).
 * A non-zero return of cb stops the walk and is returned. 0 (also when the
 * block parent does not exist yet) or -errno (-ENOENT no cgroup root). The
 * caller tells orphans from live blocks by o->instance and o->block_id. */
#define EPROC_ORPHAN_DEPTH 8
int eproc_orphans_foreach(const struct eproc_cfg *c,
			  int (*cb)(const struct eproc_orphan *o, void *arg), void *arg);

/* Release an orphan block cgroup: thaw it, move its processes to its
 * parent cgroup (to the root cgroup when the parent takes none), and remove
 * it. Only o->cgroup is used, and its last component must be a block
 * cgroup's name (-EINVAL). 0 (also when it is already gone), or the first
 * negative errno (-EBUSY when processes remain); note lists each step. */
int eproc_orphan_release(const struct eproc_cfg *c, const struct eproc_orphan *o, char *note,
			 size_t notelen);

/* Parse a block cgroup's last path component: "ias-block-<16 hex>-<n>"
 * (instance, block id) or the old "ias-block-<id>" (instance 0; block id
 * from a decimal id, else -1). 0, or -EINVAL when it is not one. */
int eproc_orphan_name(const char *name, uint64_t *instance, int64_t *block_id);

#endif
