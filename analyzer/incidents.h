/* What the analyzer daemon remembers per incident, and which processes it
 * must never report. Pure bookkeeping: no I/O, no logging.
 *
 * Per incident the daemon keeps two PID sets:
 *   seeds  PIDs alerted for the incident that no analyzer reported
 *          (operator or detector reports, trace hops): they seed searches;
 *   ours   PIDs the analyzer itself reported (or tried to) for it.
 * A new seed makes the incident "dirty": its next round searches with every
 * seed known so far and reports what is neither a seed nor ours. Alerts for
 * PIDs in ours (the analyzer's own reports coming back) never start a round.
 * A seed arriving after the analyzer reported something in the incident
 * marks it "re-reported" (this cancels auto-release).
 *
 * Functions return 0 / 1 as documented, or a negative errno. */
#ifndef IAS_ANALYZER_INCIDENTS_H
#define IAS_ANALYZER_INCIDENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "analyzer/snapshot.h"

#define AZ_INCIDENT_ID_MAX 31	/* bytes, as the control protocol's INCIDENT_ID */

struct az_pidset {
	pid_t *v;
	size_t n, cap;
};

struct az_incident {
	char id[AZ_INCIDENT_ID_MAX + 1];
	struct az_pidset seeds;
	struct az_pidset ours;
	uint64_t last_ms;	/* last alert or report, for forgetting idle incidents */
	bool dirty;		/* a seed arrived since the last round */
	bool reported_any;	/* the analyzer reported something in it */
	bool rereported;	/* a seed arrived after that */
};

struct az_incidents {
	struct az_incident **v;
	size_t n, cap;
};

bool az_pidset_has(const struct az_pidset *s, pid_t pid);
/* 1 added, 0 already there, -ENOMEM. */
int az_pidset_add(struct az_pidset *s, pid_t pid);

/* Find an incident, or NULL. */
struct az_incident *az_inc_find(struct az_incidents *t, const char *id);
/* Find or create. *created (may be NULL) says which. NULL with errno EINVAL
 * (empty or too long id) or ENOMEM. */
struct az_incident *az_inc_get(struct az_incidents *t, const char *id, uint64_t now_ms,
			       bool *created);

/* An alert for pid in inc; by_analyzer when the block behind it was made by
 * an analyzer. Returns 1 when pid became a new seed (the incident is now
 * dirty), 0 when it changes nothing, -EINVAL (pid <= 0) or -ENOMEM. */
int az_inc_alert(struct az_incident *inc, pid_t pid, bool by_analyzer, uint64_t now_ms);

/* The analyzer reported (or tried to report) pid in inc. 0 or -ENOMEM. */
int az_inc_mark_ours(struct az_incident *inc, pid_t pid, uint64_t now_ms);

/* Whether a search result's PID is new for the incident: neither a seed nor
 * one of ours. */
bool az_inc_is_new(const struct az_incident *inc, pid_t pid);

/* Forget incidents idle since before cutoff_ms, then, while more than max
 * remain, the least recently active ones. Returns how many were dropped. */
size_t az_inc_forget(struct az_incidents *t, uint64_t cutoff_ms, size_t max);

void az_incidents_free(struct az_incidents *t);

/* The PIDs the daemon passes to ias_search() as exclusions, ascending:
 * PID 1, the given PIDs (the analyzer itself, the agent), every ancestor of
 * self_pid (what started the analyzer is never a conspirator of what it
 * analyses), and every process whose program is one of exes[] (a path,
 * also matching the kernel's "PATH (deleted)" form). PIDs absent from the
 * snapshot are still listed. *out is malloc'd (free it). 0 or -ENOMEM. */
int az_exclusions(const struct ias_snapshot *s, pid_t self_pid, const pid_t *pids, size_t npids,
		  const char *const *exes, size_t nexes, pid_t **out, size_t *nout);

/* Copy a search reason into a control-protocol string: at most cap - 1
 * bytes, control characters replaced by '?'. */
void az_reason_copy(char *dst, size_t cap, const char *src);

#endif
