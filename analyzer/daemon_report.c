/* ias-analyzer daemon mode: reporting. Each conspirator a round found is
 * reported to the agent (REPORT_ATTACK) in its incident; with auto_release,
 * the blocks the analyzer made are released after a clean investigation
 * window unless the incident is re-reported. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "common/log.h"
#include "analyzer/daemon-int.h"
#include "analyzer/incidents.h"
#include "analyzer/search.h"
#include "ctl/proto.h"
#include "verbs_ext/ias.h"

/* ---- requests -------------------------------------------------------------- */

/* Did this analyzer (a process named ias-analyzer) make the block of pid in
 * incident? After a restart the analyzer's own earlier reports come back
 * without any memory of them. The block's ORIGIN cannot tell: the agent
 * calls every reporter but iasctl "analyzer", detectors using libias
 * included. So look at who the audit log says made the block. */
static bool actor_is_analyzer(const char *actor)
{
	const char *p = strrchr(actor, '(');

	return p && (strcmp(p, "(ias-analyzer)") == 0 || strcmp(p, "(lt-ias-analyzer)") == 0);
}

static bool block_made_by_analyzer(uint64_t block_id)
{
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	struct ias_ctl_attr a, b;
	struct ias_rd attrs, in;
	char actor[64], action[64];
	int st;

	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_BLOCK_INSPECT, 0, 0);
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, block_id);
	if (az_call(&m, &st, &attrs) || st)
		return false;
	while (ias_ctl_next(&attrs, &a) == 1) {
		if (a.type != IAS_CTL_A_AUDIT)
			continue;
		actor[0] = action[0] = '\0';
		ias_ctl_attr_nested(&a, &in);
		while (ias_ctl_next(&in, &b) == 1) {
			if (b.type == IAS_CTL_A_ACTOR)
				ias_ctl_get_str(&b, actor, sizeof(actor));
			else if (b.type == IAS_CTL_A_ACTION)
				ias_ctl_get_str(&b, action, sizeof(action));
		}
		if (strcmp(action, "block") == 0)
			return actor_is_analyzer(actor);
	}
	return false;
}

bool az_blocked_by_analyzer(pid_t pid, const char *incident)
{
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	struct ias_ctl_attr a, b;
	struct ias_rd attrs, in;
	uint64_t ids[8];
	size_t n = 0, i;
	int st;

	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_BLOCKS_LIST, 0, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, (uint32_t)pid);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, incident);
	ias_ctl_put_u8(&m, IAS_CTL_A_ALL, 1);
	if (az_call(&m, &st, &attrs) || st)
		return false;
	while (n < sizeof(ids) / sizeof(ids[0]) && ias_ctl_next(&attrs, &a) == 1) {
		if (a.type != IAS_CTL_A_BLOCK)
			continue;
		ias_ctl_attr_nested(&a, &in);
		while (ias_ctl_next(&in, &b) == 1)
			if (b.type == IAS_CTL_A_BLOCK_ID && ias_ctl_get_u64(&b, &ids[n]) == 0)
				n++;
	}
	/* The reply lives in azd.buf, which the next call reuses: ids copied. */
	for (i = 0; i < n && azd.cl; i++)
		if (block_made_by_analyzer(ids[i]))
			return true;
	return false;
}

/* REPORT_ATTACK pid with reason in incident. Returns the reply status (0,
 * IAS_CTL_E_*) or a negative errno; on 0, *block_id is the block and *mine
 * says whether this report made it (an existing block of the process, made
 * by someone else, is returned as it is: its reason or incident differ). */
static int report(pid_t pid, const char *reason, const char *incident, uint64_t *block_id,
		  bool *mine, char *msg, size_t mlen)
{
	char b_reason[REASON_MAX + 1] = "", b_inc[AZ_INCIDENT_ID_MAX + 1] = "";
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	struct ias_ctl_attr a, b;
	struct ias_rd attrs, in;
	int st, r;

	*block_id = 0;
	*mine = false;
	msg[0] = '\0';
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_REPORT_ATTACK, 0, 0);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, (uint32_t)pid);
	ias_ctl_put_str(&m, IAS_CTL_A_REASON, reason);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, incident);
	if ((r = az_call(&m, &st, &attrs)))
		return r;
	if (st) {
		az_reply_message(&attrs, st, msg, mlen);
		return st;
	}
	while (ias_ctl_next(&attrs, &a) == 1) {
		if (a.type != IAS_CTL_A_BLOCK)
			continue;
		ias_ctl_attr_nested(&a, &in);
		while (ias_ctl_next(&in, &b) == 1) {
			if (b.type == IAS_CTL_A_BLOCK_ID)
				ias_ctl_get_u64(&b, block_id);
			else if (b.type == IAS_CTL_A_REASON)
				ias_ctl_get_str(&b, b_reason, sizeof(b_reason));
			else if (b.type == IAS_CTL_A_INCIDENT_ID)
				ias_ctl_get_str(&b, b_inc, sizeof(b_inc));
		}
	}
	*mine = strcmp(b_reason, reason) == 0 && strcmp(b_inc, incident) == 0;
	return 0;
}

/* RELEASE one block by id. Returns the status or a negative errno. */
static int release_block(uint64_t block_id, uint32_t *count)
{
	uint8_t rq[REQ_CAP];
	struct ias_ctl_msg m;
	struct ias_ctl_attr a;
	struct ias_rd attrs;
	int st, r;

	*count = 0;
	ias_ctl_msg_init(&m, rq, sizeof(rq), IAS_CTL_REQUEST, IAS_CTL_OP_RELEASE, 0, 0);
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, block_id);
	if ((r = az_call(&m, &st, &attrs)))
		return r;
	while (!st && ias_ctl_next(&attrs, &a) == 1)
		if (a.type == IAS_CTL_A_COUNT)
			ias_ctl_get_u32(&a, count);
	return st;
}

/* ---- auto-release ---------------------------------------------------------- */

static int on_release_timer(sd_event_source *src, uint64_t usec, void *arg);

void az_arm_release_timer(void)
{
	uint64_t due = UINT64_MAX, now = az_now_ms();
	size_t i;

	for (i = 0; i < azd.npend; i++)
		if (azd.pend[i].due_ms < due)
			due = azd.pend[i].due_ms;
	if (due == UINT64_MAX) {
		if (azd.release_timer)
			sd_event_source_set_enabled(azd.release_timer, SD_EVENT_OFF);
		return;
	}
	due = due > now ? due - now : 0;
	if (!azd.release_timer) {
		if (sd_event_add_time_relative(azd.ev, &azd.release_timer, CLOCK_MONOTONIC,
					       due * 1000, 0, on_release_timer, NULL) < 0)
			log_err("cannot arm the auto-release timer");
		return;
	}
	sd_event_source_set_time_relative(azd.release_timer, due * 1000);
	sd_event_source_set_enabled(azd.release_timer, SD_EVENT_ONESHOT);
}

static void pending_add(uint64_t block_id, pid_t pid, const char *incident)
{
	struct pending_release *p;

	if (azd.npend == azd.cappend) {
		size_t cap = azd.cappend ? azd.cappend * 2 : 16;

		p = realloc(azd.pend, cap * sizeof(*p));
		if (!p) {
			log_err("out of memory: block %llu will not be auto-released",
				(unsigned long long)block_id);
			return;
		}
		azd.pend = p;
		azd.cappend = cap;
	}
	p = &azd.pend[azd.npend++];
	p->block_id = block_id;
	p->pid = pid;
	snprintf(p->incident, sizeof(p->incident), "%s", incident);
	p->due_ms = az_now_ms() + azd.auto_release_ms;
}

/* The incident was re-reported: keep the analyzer's blocks in it. */
void az_pending_cancel(const char *incident)
{
	size_t i, j, n = 0;

	for (i = j = 0; i < azd.npend; i++) {
		if (strcmp(azd.pend[i].incident, incident) == 0)
			n++;
		else
			azd.pend[j++] = azd.pend[i];
	}
	azd.npend = j;
	if (n)
		log_notice("incident %s was re-reported: %zu block(s) the analyzer made stay "
			   "until an operator releases them", incident, n);
}

static int on_release_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	uint64_t now = az_now_ms();
	size_t i, j;

	if (!azd.cl)
		return 0;	/* re-armed after reconnecting */
	for (i = j = 0; i < azd.npend; i++) {
		struct pending_release *p = &azd.pend[i];
		uint32_t count;
		int r;

		if (p->due_ms > now || !azd.cl) {
			azd.pend[j++] = *p;
			continue;
		}
		r = release_block(p->block_id, &count);
		if (r < 0) {
			azd.pend[j++] = *p;	/* connection lost: retry later */
			continue;
		}
		if (r == 0 && count) {
			azd.n_released++;
			log_notice("released block %llu (PID %d, incident %s) after a clean "
				   "investigation window", (unsigned long long)p->block_id,
				   (int)p->pid, p->incident);
		} else {
			log_info("block %llu (PID %d, incident %s) was already released",
				 (unsigned long long)p->block_id, (int)p->pid, p->incident);
		}
	}
	azd.npend = j;
	az_arm_release_timer();
	return 0;
}

void az_report_found(struct az_incident *inc, const struct ias_conspirator *c)
{
	char reason[REASON_MAX + 1], msg[256];
	uint64_t block_id;
	bool mine;
	int st;

	az_reason_copy(reason, sizeof(reason), c->reason);
	if (az_inc_mark_ours(inc, c->pid, az_now_ms()) < 0) {
		log_err("out of memory: PID %d not reported", (int)c->pid);
		return;
	}
	st = report(c->pid, reason, inc->id, &block_id, &mine, msg, sizeof(msg));
	switch (st) {
	case 0:
		azd.n_reported++;
		log_notice("reported PID %d (%s), incident %s, block %llu", (int)c->pid, reason,
			   inc->id, (unsigned long long)block_id);
		if (azd.auto_release_ms && !inc->rereported && block_id && mine) {
			pending_add(block_id, c->pid, inc->id);
			az_arm_release_timer();
		}
		break;
	case IAS_CTL_E_NEVERBLOCK:
		azd.n_refused++;
		log_info("PID %d (%s) not blocked: %s", (int)c->pid, reason, msg);
		break;
	case IAS_CTL_E_NOENT:
		log_info("PID %d (%s) exited before it could be reported", (int)c->pid, reason);
		break;
	default:
		if (st < 0)
			log_warn("PID %d not reported: %s", (int)c->pid, strerror(-st));
		else
			log_warn("PID %d not reported: %s", (int)c->pid, msg);
	}
}
