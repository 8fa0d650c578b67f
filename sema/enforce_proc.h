/* Process-level blocking from outside the process: freeze through the
 * cgroup v2 freezer (SIGSTOP when it is unavailable), a cap on new RDMA
 * objects through the rdma cgroup controller, and kill. Every call says in
 * plain text exactly what it did, for the block's record and release note.
 * See docs/blocking-mechanisms.md. Needs root (or a delegated cgroup tree). */
#ifndef IAS_SEMA_ENFORCE_PROC_H
#define IAS_SEMA_ENFORCE_PROC_H

#include <stdbool.h>
#include <stddef.h>
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

/* Freeze pid: make the cgroup "ias-block-<id>" (id: [A-Za-z0-9_.-], e.g.
 * the block id), move the process into it, write cgroup.freeze=1 and wait
 * (bounded, 1 s) for cgroup.events to say frozen; with rdma_cap also
 * write "<dev> hca_handle=0 hca_object=0" for every device in its rdma.max
 * (enabling the rdma controller on the parent if needed). When the cgroup
 * freezer cannot be used, SIGSTOP is sent instead and the note says so.
 * Returns 0 when the process is frozen or stopped (check b->did), or a
 * negative errno: -ESRCH no such process, -EINVAL bad id, or the error of
 * the SIGSTOP fallback. note always says what was done and what failed. */
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
 * refused by eproc_freeze's checks). 0 or -EINVAL. */
int eproc_format(const struct eproc_block *b, char *out, size_t outlen);
int eproc_parse(const char *text, struct eproc_block *b);

/* The cgroup v2 path ("0::<path>" line) in the text of /proc/PID/cgroup.
 * 0, or -ENOENT when there is no v2 line, -ENAMETOOLONG. */
int eproc_cgroup_of(const char *text, char *out, size_t outlen);

#endif
