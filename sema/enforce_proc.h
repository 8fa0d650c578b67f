/* Process-level blocking from outside the process: freeze through the
 * cgroup v2 freezer (SIGSTOP when it is unavailable), a cap on new RDMA
 * objects through the rdma cgroup controller, and kill. Every call says in
 * plain text exactly what it did, for the block's record and release note.
 * See docs/blocking-mechanisms.md. Needs root. */
#ifndef IAS_SEMA_ENFORCE_PROC_H
#define IAS_SEMA_ENFORCE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct eproc_cfg {
	const char *cgroup_root;  /* NULL: /sys/fs/cgroup (the cgroup2 mount) */
	/* Where block cgroups are made, relative to cgroup_root, e.g.
	 * "ias.slice". NULL or "": EPROC_DEFAULT_PARENT. It must be root's
	 * (eproc_trusted_dir), all the way from the root: never inside a
	 * subtree the blocked user may write. */
	const char *block_parent;
	/* Tests only (NULL in the agent): called with the absolute path of
	 * each block cgroup just made, so that a fake tree in a temporary
	 * directory can add the interface files the kernel would. */
	void (*made)(const char *path);
};

/* The block parent when none is configured: a directory of the cgroup
 * root, made 0755 by the agent. */
#define EPROC_DEFAULT_PARENT "/ias.blocks"

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
 * eproc_id_format's) under the block parent (eproc_parent_ready: made if
 * missing, refused when it is not root's), which must not exist yet (a
 * cgroup of that name is never reused: EEXIST falls back to SIGSTOP), and
 * must be root's once made; move the process into it, with rdma_cap write
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
 * origin (or, if that is gone, to the root cgroup), remove the
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

/* Ownership (enforce_own.c). A cgroup directory is root's when it is owned
 * by uid 0, not writable by group (unless group 0) or others, and its
 * cgroup.procs, cgroup.subtree_control and cgroup.threads (where present)
 * are owned by uid 0: no user was delegated it.
 *
 * eproc_trusted_dir: 0 when the cgroup root and every directory from it
 * down to rel (relative to root, "/a/b") are root's; else -EPERM (or the
 * stat error, -EINVAL for an unusable path) with the first offender in why.
 * root NULL or "": /sys/fs/cgroup. */
int eproc_trusted_dir(const char *root, const char *rel, char *why, size_t whylen);

/* The length of the longest leading part of rel, in whole components, whose
 * directories are all root's (0: not even the first, or the root itself is
 * not). */
size_t eproc_trusted_prefix(const char *root, const char *rel);

/* The unit of a process from its cgroup v2 path, counting only the root's
 * part of the path (eproc_trusted_prefix): with sd_unit (systemd's answer,
 * sd_pid_get_unit) that unit if it is one of those components; without
 * (no systemd), the last *.service or *.scope component among them. A
 * user-made cgroup named sshd.service inside a delegated subtree is never
 * the unit. 0, -ENOENT no unit, -EINVAL, -ENAMETOOLONG. */
int eproc_trusted_unit(const char *root, const char *cgpath, const char *sd_unit, char *out,
		       size_t outlen);

/* The block parent in use, "/..." relative to the root (c->block_parent or
 * EPROC_DEFAULT_PARENT). 0, -EINVAL, -ENAMETOOLONG. */
int eproc_block_parent(const struct eproc_cfg *c, char *out, size_t len);

/* Make the block parent (0755, each missing level) and check it with
 * eproc_trusted_dir. 0, or a negative errno with the reason in why (-EPERM:
 * it is not root's). */
int eproc_parent_ready(const struct eproc_cfg *c, char *why, size_t whylen);

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

/* Calls cb for every ias-block-* cgroup directly under the block parent
 * that is root's (a directory the agent made; others are skipped, never
 * taken). Nothing is found when the block parent is not root's itself.
 * A non-zero return of cb stops the walk and is returned. 0 (also when the
 * block parent does not exist yet) or -errno (-ENOENT no cgroup root). The
 * caller tells orphans from live blocks by o->instance and o->block_id. */
int eproc_orphans_foreach(const struct eproc_cfg *c,
			  int (*cb)(const struct eproc_orphan *o, void *arg), void *arg);

/* Release an orphan block cgroup: thaw it, move its processes to the root
 * cgroup (the block parent takes none), and remove it. Only o->cgroup is used, and its last component must be a block
 * cgroup's name (-EINVAL), and it must be root's (-EPERM). 0 (also when it is already gone), or the first
 * negative errno (-EBUSY when processes remain); note lists each step. */
int eproc_orphan_release(const struct eproc_cfg *c, const struct eproc_orphan *o, char *note,
			 size_t notelen);

/* Parse a block cgroup's last path component: "ias-block-<16 hex>-<n>"
 * (instance, block id) or the old "ias-block-<id>" (instance 0; block id
 * from a decimal id, else -1). 0, or -EINVAL when it is not one. */
int eproc_orphan_name(const char *name, uint64_t *instance, int64_t *block_id);

#endif
