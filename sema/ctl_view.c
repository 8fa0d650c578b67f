/* The control socket's listings and settings: blocks, incidents, the
 * allowlist, the policy (see ctl_ops.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ctl/proto.h"
#include "ctl/server.h"
#include "sema/ctl_ops_int.h"
#include "sema/engine.h"
#include "sema/policy.h"
#include "sema/procinfo.h"

static int put_block_cb(const struct ias_block_rec *rec, void *arg)
{
	ctl_put_block(arg, rec);
	return ((struct ias_ctl_msg *)arg)->err ? 1 : 0;
}

int op_blocks_list(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	char incident[IAS_CTL_INCIDENT_ID_MAX + 1] = "";
	struct ias_block_filter f = { 0 };
	struct ias_ctl_attr a;
	uint32_t pid = 0;
	uint8_t all = 0;

	while (ias_ctl_next(&x->attrs, &a) > 0) {
		if (a.type == IAS_CTL_A_PID)
			ias_ctl_get_u32(&a, &pid);
		else if (a.type == IAS_CTL_A_ALL)
			ias_ctl_get_u8(&a, &all);
		else if (a.type == IAS_CTL_A_INCIDENT_ID && ctl_get_str(x, &a, incident, sizeof(incident)))
			return IAS_CTL_E_INVAL;
	}
	f.pid = (int32_t)pid;
	f.include_released = all;
	f.incident = incident[0] ? incident : NULL;
	if (ias_store_blocks_foreach(s->store, &f, put_block_cb, x->rep) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	return 0;
}

struct audit_ctx {
	struct ias_ctl_msg *m;
	char prefix[32];
};

static int audit_cb(int64_t ts, const char *actor, const char *action, const char *detail, void *arg)
{
	struct audit_ctx *c = arg;

	if (strncmp(detail, c->prefix, strlen(c->prefix)) != 0)
		return 0;
	ias_ctl_nest_begin(c->m, IAS_CTL_A_AUDIT);
	ias_ctl_put_u64(c->m, IAS_CTL_A_TS_MS, (uint64_t)ts);
	ias_ctl_put_str(c->m, IAS_CTL_A_ACTOR, actor);
	ias_ctl_put_str(c->m, IAS_CTL_A_ACTION, action);
	ias_ctl_put_str(c->m, IAS_CTL_A_DETAIL, detail);
	ias_ctl_nest_end(c->m);
	return 0;
}

int op_block_inspect(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct audit_ctx ac = { .m = x->rep };
	struct ias_block_rec rec;
	struct ias_ctl_attr a;
	uint64_t id = 0;
	int r;

	while (ias_ctl_next(&x->attrs, &a) > 0)
		if (a.type == IAS_CTL_A_BLOCK_ID)
			ias_ctl_get_u64(&a, &id);
	if (id == 0 || id > INT64_MAX)
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "a block id is required");
	r = ias_store_block_get(s->store, (int64_t)id, &rec);
	if (r == -ENOENT)
		return ctlsrv_fail(x, IAS_CTL_E_NOENT, "no block %llu", (unsigned long long)id);
	if (r < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	ctl_put_block(x->rep, &rec);
	snprintf(ac.prefix, sizeof(ac.prefix), "block %llu ", (unsigned long long)id);
	if (ias_store_audit_foreach(s->store, 0, audit_cb, &ac) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	return 0;
}

static void put_incident_fields(struct ias_ctl_msg *m, const struct ias_incident_rec *i)
{
	ias_ctl_put_str(m, IAS_CTL_A_INCIDENT_ID, i->id);
	ias_ctl_put_str(m, IAS_CTL_A_ORIGIN, i->origin);
	ias_ctl_put_str(m, IAS_CTL_A_NODE, i->node);
	ias_ctl_put_u64(m, IAS_CTL_A_OPENED_MS, (uint64_t)i->opened_ms);
	ias_ctl_put_u32(m, IAS_CTL_A_ROOT_PID, (uint32_t)i->root_pid);
	ias_ctl_put_str(m, IAS_CTL_A_REASON, i->reason);
	ias_ctl_put_str(m, IAS_CTL_A_STATE, i->state);
	ias_ctl_put_u64(m, IAS_CTL_A_CLOSED_MS, (uint64_t)i->closed_ms);
}

static int put_incident_cb(const struct ias_incident_rec *i, void *arg)
{
	struct ias_ctl_msg *m = arg;

	ias_ctl_nest_begin(m, IAS_CTL_A_INCIDENT);
	put_incident_fields(m, i);
	ias_ctl_nest_end(m);
	return m->err ? 1 : 0;
}

int op_incidents_list(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;

	if (ias_store_incidents_foreach(s->store, put_incident_cb, x->rep) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	return 0;
}

static int put_event_cb(const struct ias_incident_event *e, void *arg)
{
	struct ias_ctl_msg *m = arg;

	ias_ctl_nest_begin(m, IAS_CTL_A_EVENT);
	ias_ctl_put_u64(m, IAS_CTL_A_TS_MS, (uint64_t)e->ts_ms);
	ias_ctl_put_str(m, IAS_CTL_A_NODE, e->node);
	ias_ctl_put_u32(m, IAS_CTL_A_PID, (uint32_t)e->pid);
	ias_ctl_put_u32(m, IAS_CTL_A_QPN, e->qpn);
	ias_ctl_put_str(m, IAS_CTL_A_KIND, e->kind);
	ias_ctl_put_str(m, IAS_CTL_A_TEXT, e->text);
	ias_ctl_nest_end(m);
	return m->err ? 1 : 0;
}

int op_incident_show(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	char id[IAS_CTL_INCIDENT_ID_MAX + 1] = "";
	struct ias_incident_rec inc;
	struct ias_ctl_attr a;
	int r;

	while (ias_ctl_next(&x->attrs, &a) > 0)
		if (a.type == IAS_CTL_A_INCIDENT_ID && ctl_get_str(x, &a, id, sizeof(id)))
			return IAS_CTL_E_INVAL;
	if (!id[0])
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "an incident id is required");
	r = ias_store_incident_get(s->store, id, &inc);
	if (r == -ENOENT)
		return ctlsrv_fail(x, IAS_CTL_E_NOENT, "no incident %s", id);
	if (r < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	ias_ctl_nest_begin(x->rep, IAS_CTL_A_INCIDENT);
	put_incident_fields(x->rep, &inc);
	if (ias_store_incident_events_foreach(s->store, id, put_event_cb, x->rep) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	ias_ctl_nest_end(x->rep);
	return 0;
}

static void put_allow(struct ias_ctl_msg *m, const struct ias_allow_rec *a)
{
	ias_ctl_nest_begin(m, IAS_CTL_A_ALLOW);
	ias_ctl_put_u64(m, IAS_CTL_A_ALLOW_ID, (uint64_t)a->id);
	ias_ctl_put_str(m, IAS_CTL_A_KIND, a->kind);
	ias_ctl_put_str(m, IAS_CTL_A_VALUE, a->value);
	ias_ctl_put_u64(m, IAS_CTL_A_CREATED_MS, (uint64_t)a->created_ms);
	ias_ctl_put_str(m, IAS_CTL_A_NOTE, a->note);
	ias_ctl_nest_end(m);
}

static int put_allow_cb(const struct ias_allow_rec *a, void *arg)
{
	put_allow(arg, a);
	return ((struct ias_ctl_msg *)arg)->err ? 1 : 0;
}

int op_allow_list(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;

	if (ias_store_allow_foreach(s->store, put_allow_cb, x->rep) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	return 0;
}

static int allow_args(struct ctlsrv_req *x, struct ias_allow_rec *rec)
{
	static const char *const kinds[] = { "exe", "user", "unit", "comm", "pid" };
	struct ias_ctl_attr a;
	size_t i;

	memset(rec, 0, sizeof(*rec));
	while (ias_ctl_next(&x->attrs, &a) > 0) {
		if (a.type == IAS_CTL_A_KIND && ctl_get_str(x, &a, rec->kind, sizeof(rec->kind)))
			return IAS_CTL_E_INVAL;
		if (a.type == IAS_CTL_A_VALUE && ctl_get_str(x, &a, rec->value, sizeof(rec->value)))
			return IAS_CTL_E_INVAL;
		if (a.type == IAS_CTL_A_NOTE && ctl_get_str(x, &a, rec->note, sizeof(rec->note)))
			return IAS_CTL_E_INVAL;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(rec->kind, kinds[i]) == 0)
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "kind must be exe, user, unit, comm or pid");
	if (!rec->value[0])
		return ctlsrv_fail(x, IAS_CTL_E_INVAL, "a value is required");
	return 0;
}

int op_allow_add(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct ias_allow_rec rec;
	char detail[600];
	int r = allow_args(x, &rec);

	if (r)
		return r;
	rec.created_ms = sema_now_ms();
	r = ias_store_allow_add(s->store, &rec);
	if (r == -EEXIST)
		return ctlsrv_fail(x, IAS_CTL_E_EXIST, "%s %s is already on the allowlist", rec.kind, rec.value);
	if (r < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	snprintf(detail, sizeof(detail), "allow %s %s", rec.kind, rec.value);
	ias_store_audit(s->store, rec.created_ms, x->actor, "allow-add", detail);
	put_allow(x->rep, &rec);
	return 0;
}

int op_allow_remove(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct ias_allow_rec rec;
	char detail[600];
	int r = allow_args(x, &rec);

	if (r)
		return r;
	r = ias_store_allow_remove(s->store, rec.kind, rec.value);
	if (r == -ENOENT)
		return ctlsrv_fail(x, IAS_CTL_E_NOENT, "%s %s is not on the allowlist", rec.kind, rec.value);
	if (r < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	snprintf(detail, sizeof(detail), "allow %s %s", rec.kind, rec.value);
	ias_store_audit(s->store, sema_now_ms(), x->actor, "allow-remove", detail);
	return 0;
}

int op_policy_show(struct ctlsrv_req *x)
{
	ctl_put_policy(x->rep, &((struct sema *)x->ctx)->policy);
	return 0;
}

int op_policy_set(struct ctlsrv_req *x)
{
	struct sema *s = x->ctx;
	struct ias_policy p = s->policy;
	struct ias_ctl_attr a, in;
	struct ias_rd r;
	char name[IAS_CTL_NAME_MAX + 1];
	uint32_t v;
	uint8_t b;
	int idx;

	while (ias_ctl_next(&x->attrs, &a) > 0) {
		if (a.type != IAS_CTL_A_POLICY)
			continue;
		ias_ctl_attr_nested(&a, &r);
		while (ias_ctl_next(&r, &in) > 0) {
			switch (in.type) {
			case IAS_CTL_A_LEVEL:
			case IAS_CTL_A_BLOCK_MODE:
				if (ctl_get_str(x, &in, name, sizeof(name)))
					return IAS_CTL_E_INVAL;
				idx = in.type == IAS_CTL_A_LEVEL ? ias_level_parse(name)
								 : ias_mode_parse(name);
				if (idx < 0)
					return ctlsrv_fail(x, IAS_CTL_E_INVAL, "%s: unknown value %s",
						    ias_ctl_attr_name(in.type), name);
				if (in.type == IAS_CTL_A_LEVEL)
					p.level = (unsigned)idx;
				else
					p.block_mode = (unsigned)idx;
				break;
			case IAS_CTL_A_DRY_RUN:
				ias_ctl_get_u8(&in, &b);
				p.dry_run = b != 0;
				break;
			case IAS_CTL_A_BASE_DURATION_S:
				ias_ctl_get_u32(&in, &v);
				p.base_duration_ms = (uint64_t)v * 1000;
				break;
			case IAS_CTL_A_MAX_DURATION_S:
				ias_ctl_get_u32(&in, &v);
				p.max_duration_ms = (uint64_t)v * 1000;
				break;
			case IAS_CTL_A_ESCALATION:
				ias_ctl_get_u32(&in, &v);
				p.escalation = v;
				break;
			case IAS_CTL_A_HOP_LIMIT:
				ias_ctl_get_u32(&in, &v);
				p.hop_limit = v;
				break;
			case IAS_CTL_A_FANOUT_LIMIT:
				ias_ctl_get_u32(&in, &v);
				p.fanout_limit = v;
				break;
			default:
				break;
			}
		}
	}
	if (ias_policy_check(&p, x->msg, sizeof(x->msg)))
		return IAS_CTL_E_INVAL;
	p.version = s->policy.version + 1;
	if (policy_save(s, &p) < 0)
		return ctlsrv_fail(x, IAS_CTL_E_INTERNAL, "store: %s", ias_store_errmsg(s->store));
	s->policy = p;
	log_notice("policy version %u set by %s", p.version, x->actor);
	ctl_put_policy(x->rep, &s->policy);
	return 0;
}
