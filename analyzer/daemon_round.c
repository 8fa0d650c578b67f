/* ias-analyzer daemon mode: rounds. Every pending alert is taken from the
 * agent (GET_ATTACK_PID) into its incident; each incident with new seeds
 * gets one search of a fresh /proc snapshot, and what the search finds is
 * reported (daemon_report.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "analyzer/daemon-int.h"
#include "analyzer/incidents.h"
#include "analyzer/search.h"
#include "analyzer/snapshot.h"
#include "ctl/proto.h"
#include "verbs_ext/ias.h"

/* GET_ATTACK_PID: 1 got one, 0 nothing pending, < 0 error. */
static int take_alert(pid_t *pid, char *incident, size_t ilen)
{
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	struct ias_ctl_attr a;
	struct ias_rd attrs;
	uint32_t p = 0;
	int st, r;

	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_GET_ATTACK_PID, 0, 0);
	if ((r = az_call(&m, &st, &attrs)))
		return r;
	if (st == IAS_CTL_E_AGAIN)
		return 0;
	if (st) {
		char msg[256];

		log_warn("GET_ATTACK_PID refused: %s",
			 az_reply_message(&attrs, st, msg, sizeof(msg)));
		return ias_status_to_errno(st);
	}
	incident[0] = '\0';
	while (ias_ctl_next(&attrs, &a) == 1) {
		if (a.type == IAS_CTL_A_PID)
			ias_ctl_get_u32(&a, &p);
		else if (a.type == IAS_CTL_A_INCIDENT_ID)
			ias_ctl_get_str(&a, incident, ilen);
	}
	if (p == 0 || p > IAS_SNAP_PID_MAX)
		return -EBADMSG;
	*pid = (pid_t)p;
	return 1;
}

static void round_for(struct az_incident *inc, const struct ias_snapshot *snap,
		      const pid_t *excl, size_t nexcl)
{
	struct ias_search_result *res = NULL;
	pid_t *seeds, missing;
	size_t n = inc->seeds.n, i, k;
	int r;

	inc->dirty = false;
	if (!n)
		return;
	seeds = malloc(n * sizeof(*seeds));
	if (!seeds) {
		log_err("out of memory: incident %s not searched", inc->id);
		return;
	}
	memcpy(seeds, inc->seeds.v, n * sizeof(*seeds));
	for (;;) {
		missing = 0;
		r = ias_search(snap, azd.levels, seeds, n, excl, nexcl, &res, &missing);
		if (r != -ESRCH)
			break;
		/* The process exited before the snapshot: search without it. */
		log_info("incident %s: PID %d has exited; searching without it", inc->id,
			 (int)missing);
		for (i = k = 0; i < n; i++)
			if (seeds[i] != missing)
				seeds[k++] = seeds[i];
		if (k == n || k == 0) {
			r = 0;
			res = NULL;
			break;
		}
		n = k;
	}
	if (r) {
		log_err("incident %s: search failed: %s", inc->id, strerror(-r));
		goto out;
	}
	if (!res)
		goto out;
	azd.n_rounds++;
	log_info("incident %s: %zu seed(s), %zu found by the search", inc->id, res->n_input,
		 res->n_new);
	for (i = 0; i < res->n && azd.cl; i++)
		if (res->c[i].kind != IAS_WHY_REPORTED && az_inc_is_new(inc, res->c[i].pid))
			az_report_found(inc, &res->c[i]);
out:
	ias_search_result_free(res);
	free(seeds);
}

/* Take every pending alert, then run one round per incident with new seeds. */
void az_drain(void)
{
	struct ias_snapshot *snap = NULL;
	pid_t *excl = NULL, self = getpid(), known[2];
	size_t nexcl = 0, i;
	bool any = false;
	int r;

	while (azd.cl) {
		char incident[AZ_INCIDENT_ID_MAX + 1];
		struct az_incident *inc;
		bool created, ours;
		pid_t pid;

		r = take_alert(&pid, incident, sizeof(incident));
		if (r <= 0)
			break;
		azd.n_alerts++;
		if (!incident[0]) {
			log_warn("alert for PID %d without an incident: ignored", (int)pid);
			continue;
		}
		inc = az_inc_get(&azd.incs, incident, az_now_ms(), &created);
		if (!inc) {
			log_err("incident %s: %s", incident, strerror(errno));
			continue;
		}
		ours = az_pidset_has(&inc->ours, pid) ||
		       (!az_pidset_has(&inc->seeds, pid) && az_blocked_by_analyzer(pid, incident));
		r = az_inc_alert(inc, pid, ours, az_now_ms());
		if (r < 0) {
			log_err("incident %s: %s", incident, strerror(-r));
			continue;
		}
		log_debug("alert: PID %d, incident %s%s", (int)pid, incident,
			  ours ? " (reported by an analyzer: starts no round)" :
			  r ? " (new seed)" : "");
		if (r && inc->rereported)
			az_pending_cancel(inc->id);
		any |= r == 1;
	}
	if (!any)
		goto forget;
	r = ias_snapshot_live(NULL, ias_level_snapshot_flags(azd.levels), &snap);
	if (r) {
		log_err("cannot read /proc: %s; alerts stay unsearched", strerror(-r));
		goto forget;
	}
	known[0] = self;
	known[1] = azd.agent_pid;
	r = az_exclusions(snap, self, known, 2, azd.exes, azd.cfg.exclude_exe.n, &excl, &nexcl);
	if (r) {
		log_err("out of memory computing exclusions");
		goto forget;
	}
	for (i = 0; i < azd.incs.n && azd.cl; i++)
		if (azd.incs.v[i]->dirty)
			round_for(azd.incs.v[i], snap, excl, nexcl);
forget:
	i = az_inc_forget(&azd.incs, az_now_ms() > azd.cfg.incident_memory ?
			  az_now_ms() - azd.cfg.incident_memory : 0, INCIDENTS_MAX);
	if (i)
		log_debug("forgot %zu idle incident(s)", i);
	free(excl);
	ias_snapshot_free(snap);
}
