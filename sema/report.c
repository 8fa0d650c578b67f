/* See report.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "mad_defs/incident.h"
#include "sema/mad_port.h"
#include "sema/report.h"
#include "sema/store.h"

static int on_timer(sd_event_source *src, uint64_t usec, void *arg);

static void fill_attr(struct sema *s, const struct ias_report_rec *r, struct ias_attr_report *a)
{
	memset(a, 0, sizeof(*a));
	a->seq = (uint64_t)r->seq;
	if (r->incident[0])
		ias_incident_parse(r->incident, &a->incident_id);
	a->node_guid = mad_port_node_guid(s->mad);
	a->event_time_ms = (uint64_t)r->event_ms;
	a->block_id = (uint64_t)r->block_id;
	a->kind = r->kind;
	a->peer_lid = r->peer_lid;
	a->peer_qpn = r->peer_qpn;
	a->pid = (uint32_t)(r->pid > 0 ? r->pid : 0);
	a->qp_count = r->qp_count;
	/* The MAD carries printable ASCII only. */
	for (size_t i = 0; i < sizeof(a->comm) - 1 && r->comm[i]; i++)
		a->comm[i] = r->comm[i] >= 0x20 && r->comm[i] < 0x7f ? r->comm[i] : '?';
}

static void report_done(struct sema *s, void *ctx, const struct mad_dest *to,
			const struct ias_secmgt_msg *resp)
{
	int64_t seq = (int64_t)(intptr_t)ctx;

	s->report_in_flight = 0;
	if (!resp || resp->status || resp->u.report.seq != (uint64_t)seq) {
		if (!s->report_warned) {
			log_info("manager at LID %u has not acknowledged report %lld yet; "
				 "keeping it queued", to->lid, (long long)seq);
			s->report_warned = 1;
		}
		return;	/* the timer tries again */
	}
	s->report_warned = 0;
	if (ias_store_report_delivered(s->store, seq, sema_now_ms()) < 0)
		log_err("report %lld: %s", (long long)seq, ias_store_errmsg(s->store));
	report_kick(s);
}

void report_kick(struct sema *s)
{
	struct ias_report_rec r;
	struct ias_secmgt_msg m;
	struct mad_dest to;

	/* Only what is durable may leave: a report offered before its
	 * transaction commits could be lost with it, and its seq reused. */
	if (s->report_in_flight || !s->manager_lid || !s->mad ||
	    ias_store_in_transaction(s->store))
		return;
	if (ias_store_report_next(s->store, &r) < 0)
		return;
	memset(&m, 0, sizeof(m));
	m.method = IAS_METHOD_REPORT;
	m.attr_id = IAS_ATTR_REPORT;
	fill_attr(s, &r, &m.u.report);
	memset(&to, 0, sizeof(to));
	to.lid = s->manager_lid;
	if (mad_port_request(s->mad, &to, &m, report_done, (void *)(intptr_t)r.seq) == 0)
		s->report_in_flight = 1;
}

void report_manager_seen(struct sema *s, uint16_t lid)
{
	char v[16];

	if (!lid || lid == s->manager_lid || s->cfg.manager_lid)
		return;
	log_notice("manager at LID %u", lid);
	s->manager_lid = lid;
	snprintf(v, sizeof(v), "%u", lid);
	ias_store_kv_set(s->store, "manager_lid", v);
	report_kick(s);
}

uint16_t report_serve_get(struct sema *s, uint32_t seq, struct ias_attr_report *out)
{
	struct ias_report_rec r;
	int rc = ias_store_report_get(s->store, seq, &r);

	if (rc == -ENOENT)
		return IAS_STATUS_NOT_FOUND;
	if (rc < 0)
		return IAS_STATUS_INTERNAL;
	fill_attr(s, &r, out);
	return IAS_STATUS_OK;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	struct sema *s = arg;

	(void)usec;
	report_kick(s);
	sd_event_source_set_time_relative(src, s->cfg.report_retry * 1000);
	return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

int report_start(struct sema *s)
{
	char v[16];

	s->manager_lid = (uint16_t)s->cfg.manager_lid;
	if (!s->manager_lid && ias_store_kv_get(s->store, "manager_lid", v, sizeof(v)) == 0)
		s->manager_lid = (uint16_t)strtoul(v, NULL, 10);
	return sd_event_add_time_relative(s->ev, &s->report_timer, CLOCK_MONOTONIC,
					  s->cfg.report_retry * 1000, 0, on_timer, s);
}

void report_stop(struct sema *s)
{
	sd_event_source_disable_unref(s->report_timer);
	s->report_timer = NULL;
}
