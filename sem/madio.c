/* See madio.h. The port, its retries, the requests in flight and the
 * bounded logging of refused MADs are common/umad.c's, shared with the
 * agent; this file wires the manager's modules to it and runs its timers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "mad_defs/secmgt.h"
#include "sem/madint.h"
#include "sem/madio.h"

#define TICK_MS 100
#define MAX_PENDING 512		/* agent requests (one per agent) and SA queries */

static void on_request(void *ctx, struct ias_umad *u, const struct ias_umad_rx *rx)
{
	(void)u;
	sem_intake_request(ctx, rx);
}

static void on_response(void *ctx, struct ias_umad *u, const struct ias_umad_rx *rx)
{
	struct sem_mad *m = ctx;

	(void)u;
	if (rx->mgmt_class == IAS_SECMGT_CLASS) {
		sem_probe_response(m, rx);
		sem_probe_drive(m);
	} else {
		sem_discover_response(m, rx);
	}
}

static void on_expired(void *ctx, struct ias_umad *u, struct ias_pend_ent *e)
{
	struct sem_mad *m = ctx;

	if (e->kind == SEM_PEND_SA)
		sem_discover_expired(m, e);
	else
		ias_umad_untrack(u, e);	/* the view times the agent out itself */
}

static void on_attach(void *ctx, struct ias_umad *u)
{
	struct sem_mad *m = ctx;

	m->u = u;
	m->s->sm_lid = ias_umad_sm_lid(u);
	m->s->local_port_guid = ias_umad_port(u)->port_guid;
	log_notice("master SM LID %u", m->s->sm_lid);
	sem_update_role(m->s);
	sem_mad_discover(m);
}

static int on_tick(sd_event_source *src, uint64_t usec, void *arg)
{
	struct sem_mad *m = arg;

	(void)usec;
	sem_probe_drive(m);
	sd_event_source_set_time_relative(src, TICK_MS * 1000);
	return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

static int on_discover(sd_event_source *src, uint64_t usec, void *arg)
{
	struct sem_mad *m = arg;

	(void)usec;
	sem_mad_discover(m);
	sd_event_source_set_time_relative(src, m->s->cfg.discovery_interval * 1000);
	return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

int sem_mad_start(struct sem *s, struct sem_mad **out)
{
	struct sem_mad *m = calloc(1, sizeof(*m));
	struct ias_umad_ops ops = {
		.who = "manager",
		.where = { s->cfg.umad_ca, s->cfg.umad_port, s->cfg.simulated_fabric, s->cfg.port_retry },
		/* Report only: an agent on the same node keeps Get/Set. */
		.serve_methods = 1u << IAS_METHOD_REPORT,
		.sa = 1,
		.max_pending = MAX_PENDING,
		.rejected = &s->mads_rejected,
		.ctx = m,
		.on_request = on_request,
		.on_response = on_response,
		.on_expired = on_expired,
		.on_attach = on_attach,
	};
	int r;

	if (!m)
		return -ENOMEM;
	m->s = s;
	r = ias_secmgt_auth_init(&m->auth, s->keys, s->nkeys, s->cfg.replay_window, NULL);
	if (r) {
		free(m);
		return r;
	}
	if ((r = sd_event_add_time_relative(s->ev, &m->tick, CLOCK_MONOTONIC, TICK_MS * 1000, 0,
					    on_tick, m)) < 0 ||
	    (r = sd_event_add_time_relative(s->ev, &m->disc_timer, CLOCK_MONOTONIC,
					    s->cfg.discovery_interval * 1000, 0, on_discover, m)) < 0 ||
	    (r = ias_umad_start(s->ev, &ops, &m->u)) < 0) {
		sem_mad_stop(m);
		return r;
	}
	*out = m;
	return 0;
}

void sem_mad_stop(struct sem_mad *m)
{
	if (!m)
		return;
	ias_umad_stop(m->u);
	sd_event_source_disable_unref(m->tick);
	sd_event_source_disable_unref(m->disc_timer);
	ias_secmgt_auth_wipe(&m->auth);
	sem_agentlist_free(m);
	free(m->found);
	free(m);
}

void sem_mad_describe(const struct sem_mad *m, char *buf, size_t len)
{
	ias_umad_describe(m ? m->u : NULL, buf, len);
}
