/* The analyzer's multi-level conspirator search over a process snapshot.
 *
 * Input: a snapshot, a set of levels, the reported conspirator PIDs and an
 * optional exclusion set. Output: every conspirator (the reported ones with
 * reason "reported", then the new ones) ordered by PID, each with one reason.
 * No I/O: the daemon and the offline command call the same function.
 *
 * Levels are independent rules applied once to the reported set (one round:
 * processes found by one rule never seed another rule or another round):
 *   sibling  same parent and same program as a reported process;
 *   lca      every process that is the LCA of some pair of reported
 *            processes, and its children;
 *   selinux  the lca rule in the forest induced by one SELinux context;
 *   zone     every process in the same cgroup as a reported process.
 * The precise definitions are in ias-analyzer(8). PID 0, PID 1 and excluded
 * PIDs are never reported; a reported PID that is 1 or excluded is ignored
 * (listed in ignored[], not a seed). */
#ifndef IAS_ANALYZER_SEARCH_H
#define IAS_ANALYZER_SEARCH_H

#include <stddef.h>
#include <sys/types.h>

#include "analyzer/snapshot.h"

enum ias_level {
	IAS_LEVEL_BASIC = 0,
	IAS_LEVEL_SIBLING = 1 << 0,
	IAS_LEVEL_LCA = 1 << 1,
	IAS_LEVEL_SELINUX = 1 << 2,
	IAS_LEVEL_ZONE = 1 << 3,
};
#define IAS_LEVEL_ALL (IAS_LEVEL_SIBLING | IAS_LEVEL_LCA | IAS_LEVEL_SELINUX | IAS_LEVEL_ZONE)

enum ias_reason_kind {
	IAS_WHY_REPORTED,
	IAS_WHY_SIBLING,	/* a = the reported sibling */
	IAS_WHY_LCA,		/* a < b: the pair it is the LCA of */
	IAS_WHY_LCA_CHILD,	/* a = the LCA */
	IAS_WHY_CTX_LCA,	/* as LCA, within one SELinux context */
	IAS_WHY_CTX_CHILD,	/* as LCA_CHILD, within one SELinux context */
	IAS_WHY_ZONE,		/* a = the reported process of that zone */
};

struct ias_conspirator {
	pid_t pid;
	enum ias_reason_kind kind;
	pid_t a, b;
	char *reason;		/* e.g. "LCA of 120 and 130" */
};

struct ias_search_result {
	unsigned levels;
	pid_t *input;		/* reported PIDs, ascending, without duplicates */
	size_t n_input;
	pid_t *ignored;		/* reported PIDs ignored (1 or excluded), ascending */
	size_t n_ignored;
	struct ias_conspirator *c;	/* ascending PID */
	size_t n;
	size_t n_new;		/* entries whose kind is not IAS_WHY_REPORTED */
};

/* Run the search. Returns 0, -EINVAL (bad levels, PID out of range),
 * -ESRCH when a reported PID is not in the snapshot (*missing set to it when
 * missing is not NULL), -EOPNOTSUPP when IAS_LEVEL_SELINUX is asked of a
 * snapshot without contexts (live, SELinux off), or -ENOMEM.
 * Cost: O(n) time and memory for the lca, selinux and zone rules (no parent
 * chain is walked twice); the sibling rule costs, per parent of a reported
 * process, its children times the distinct programs among its reported
 * children. */
int ias_search(const struct ias_snapshot *s, unsigned levels, const pid_t *pids, size_t npids,
	       const pid_t *exclude, size_t nexclude, struct ias_search_result **out,
	       pid_t *missing);

void ias_search_result_free(struct ias_search_result *r);

/* "basic", "sibling", "lca", "selinux", "zone", or a comma-separated list of
 * them ("sibling,lca"). Returns 0 or -EINVAL. */
int ias_level_parse(const char *s, unsigned *levels);
/* Canonical name of a level set into buf ("basic", "lca", "sibling,lca"). */
const char *ias_level_format(unsigned levels, char *buf, size_t len);
/* The ias_snapshot_live() flags for what these levels need: no cgroup
 * reads without the zone level, no SELinux contexts without selinux. */
unsigned ias_level_snapshot_flags(unsigned levels);

#endif
