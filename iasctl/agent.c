/* iasctl: what only the agent serves: report, blocks, qps, allowlist. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iasctl/iasctl.h"

/* Print a JSON document built here and put it. */
static void print_own(json_object *r)
{
	out_json_print(stdout, r);
	json_object_put(r);
}

/* A reply's first item of list key, or NULL. */
static json_object *first(json_object *o, const char *key)
{
	return jat(jarr(o, key), 0);
}

static const char *dry_note(json_object *b)
{
	return ju64(b, "simulated") ? " (dry run: nothing enforced)" : "";
}

/* ---- report ------------------------------------------------------------- */

/* report --qp: the victim's side. */
static int report_qp(const struct cmd_args *a)
{
	struct ias_ctl_msg m;
	json_object *o;
	int rc;

	if (a->seen & (ARG_PID | ARG_OVERRIDE | ARG_DURATION | ARG_INCIDENT))
		return usage_err("report --qp takes only --reason");
	iasctl_req(&m, IAS_CTL_OP_REPORT_QP);
	ias_ctl_put_str(&m, IAS_CTL_A_DEVICE, a->qp_dev);
	ias_ctl_put_u32(&m, IAS_CTL_A_QPN, a->qpn);
	if (a->reason)
		ias_ctl_put_str(&m, IAS_CTL_A_REASON, a->reason);
	if ((rc = iasctl_call(&m, &o)))
		return rc;
	if (iasctl_opt.json)
		out_json_print(stdout, o);
	else {
		out_printf(stdout, "qp %s:0x%" PRIx32 " of pid %" PRIu64 " (the victim, not blocked): "
			   "incident %s\n", a->qp_dev, a->qpn, ju64(o, "pid"),
			   jstr_or(o, "incident_id", "-"));
		out_printf(stdout, "%s\n", jstr_or(o, "trace_where", "-"));
	}
	json_object_put(o);
	return EX_OK;
}

int cmd_report(const struct cmd_args *a)
{
	struct ias_ctl_msg m;
	json_object *o, *b;
	int rc;

	if (a->seen & ARG_QP)
		return report_qp(a);
	if (!(a->seen & ARG_PID))
		return usage_err("report needs --pid or --qp");
	iasctl_req(&m, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, a->pid);
	if (a->reason)
		ias_ctl_put_str(&m, IAS_CTL_A_REASON, a->reason);
	if (a->seen & ARG_OVERRIDE)
		ias_ctl_put_u8(&m, IAS_CTL_A_OVERRIDE, 1);
	if (a->seen & ARG_DURATION)
		ias_ctl_put_u32(&m, IAS_CTL_A_DURATION_S, a->duration_s);
	if (a->incident)
		ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, a->incident);
	if ((rc = iasctl_call(&m, &o)))
		return rc;
	b = first(o, "blocks");
	if (iasctl_opt.json) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "block", b ? json_object_get(b) : NULL);
		json_object_object_add(r, "incident_id",
				       json_object_new_string(jstr_or(o, "incident_id", "")));
		print_own(r);
	} else {
		out_printf(stdout, "blocked pid %" PRIu32 ": block %" PRIu64 ", incident %s%s\n",
			   a->pid, ju64(b, "block_id"), jstr_or(o, "incident_id", "-"), dry_note(b));
	}
	json_object_put(o);
	return EX_OK;
}

/* ---- blocks ------------------------------------------------------------- */

static void block_row(struct out_table *t, json_object *b, uint64_t now)
{
	char id[24], pid[16], qps[24], since[16], exp[16], reason[IAS_CTL_REASON_MAX + 16];
	uint64_t created = ju64(b, "created_ms"), until = ju64(b, "until_ms");
	bool released = ju64(b, "released_ms") != 0;

	snprintf(id, sizeof(id), "%" PRIu64, ju64(b, "block_id"));
	snprintf(pid, sizeof(pid), "%" PRIu64, ju64(b, "pid"));
	snprintf(qps, sizeof(qps), "%zu", jlen(jarr(b, "qpns")));
	if (created && now > created)
		out_span(now - created, since, sizeof(since));
	else
		snprintf(since, sizeof(since), created ? "0s" : "-");
	if (released)
		snprintf(exp, sizeof(exp), "RELEASED");
	else if (!until)
		snprintf(exp, sizeof(exp), "never");
	else if (until <= now)
		snprintf(exp, sizeof(exp), "due");
	else
		out_span(until - now, exp, sizeof(exp));
	snprintf(reason, sizeof(reason), "%s%s", ju64(b, "simulated") ? "[dry run] " : "",
		 jstr_or(b, "reason", "-"));
	const char *const cells[] = {
		id, jstr_or(b, "origin", "-"), jstr_or(b, "node", "-"), pid,
		jstr_or(b, "comm", "-"), qps, reason, jstr_or(b, "incident_id", "-"), since,
		exp,
	};
	out_table_row(t, released, cells);
}

int cmd_blocks_list(const struct cmd_args *a)
{
	static const char *const head[] = { "ID", "ORIGIN", "NODE", "PID", "COMM", "QPS",
					    "REASON", "INCIDENT", "SINCE", "EXPIRES" };
	struct ias_ctl_msg m;

	iasctl_req(&m, IAS_CTL_OP_BLOCKS_LIST);
	if (a->seen & ARG_PID)
		ias_ctl_put_u32(&m, IAS_CTL_A_PID, a->pid);
	if (a->seen & ARG_ALL)
		ias_ctl_put_u8(&m, IAS_CTL_A_ALL, 1);
	if (a->incident)
		ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, a->incident);
	return iasctl_list(&m, "blocks", 10, head, block_row);
}

static void print_kv(const char *k, const char *v)
{
	out_printf(stdout, "%-13s %s\n", k, v && *v ? v : "-");
}

static void print_kv_time(const char *k, uint64_t ms, const char *none)
{
	char t[40];

	out_time(ms, t, sizeof(t));
	print_kv(k, ms ? t : none);
}

static void print_block_detail(json_object *b)
{
	char buf[512];
	json_object *q = jarr(b, "qpns");
	size_t i, n = 0;

	snprintf(buf, sizeof(buf), "%" PRIu64 "%s", ju64(b, "block_id"), dry_note(b));
	print_kv("Block:", buf);
	print_kv("Origin:", jstr(b, "origin"));
	print_kv("Node:", jstr(b, "node"));
	snprintf(buf, sizeof(buf), "%" PRIu64 " (%s), uid %" PRIu64, ju64(b, "pid"),
		 jstr_or(b, "comm", "?"), ju64(b, "uid"));
	print_kv("Process:", buf);
	print_kv("Executable:", jstr(b, "exe"));
	buf[0] = '\0';
	for (i = 0; i < jlen(q) && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s0x%" PRIx64, i ? " " : "",
				      json_object_get_uint64(jat(q, i)));
	print_kv("QPs:", buf);
	print_kv("Reason:", jstr(b, "reason"));
	print_kv("Incident:", jstr(b, "incident_id"));
	print_kv("Mechanism:", jstr(b, "mechanism"));
	snprintf(buf, sizeof(buf), "%" PRIu64, ju64(b, "offence"));
	print_kv("Offence:", buf);
	print_kv_time("Created:", ju64(b, "created_ms"), "-");
	print_kv_time("Until:", ju64(b, "until_ms"), "no end");
	print_kv_time("Released:", ju64(b, "released_ms"), "no (active)");
	if (ju64(b, "released_ms"))
		print_kv("Release note:", jstr(b, "release_note"));
}

int cmd_blocks_inspect(const struct cmd_args *a)
{
	struct ias_ctl_msg m;
	json_object *o, *b, *au;
	uint64_t id;
	size_t i, n;
	int rc;

	if (!parse_block_id(a->pos[0], &id))
		return usage_err("blocks inspect: not a block id: '%s'", a->pos[0]);
	iasctl_req(&m, IAS_CTL_OP_BLOCK_INSPECT);
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, id);
	if ((rc = iasctl_call(&m, &o)))
		return rc;
	b = first(o, "blocks");
	au = jarr(o, "audit");
	if (iasctl_opt.json) {
		json_object *r = b ? json_object_get(b) : json_object_new_object();

		json_object_object_add(r, "audit", au ? json_object_get(au) : json_object_new_array());
		print_own(r);
		json_object_put(o);
		return EX_OK;
	}
	print_block_detail(b);
	printf("%sAudit%s\n", out_bold(), out_reset());
	for (i = 0, n = jlen(au); i < n; i++) {
		json_object *e = jat(au, i);
		char t[40];

		out_time(ju64(e, "ts_ms"), t, sizeof(t));
		out_printf(stdout, "%s- %s  %s  %s: %s\n", i + 1 < n ? "|" : "`", t,
			   jstr_or(e, "actor", "-"), jstr_or(e, "action", "-"),
			   jstr_or(e, "detail", ""));
	}
	json_object_put(o);
	return EX_OK;
}

int cmd_blocks_release(const struct cmd_args *a)
{
	bool dry = a->seen & ARG_DRY_RUN;
	int sel = !!(a->seen & ARG_PID) + !!a->incident + a->npos, rc;
	struct ias_ctl_msg m;
	json_object *o, *l;
	uint64_t id = 0, count;
	size_t i, n;

	if (a->npos && !parse_block_id(a->pos[0], &id))
		return usage_err("blocks release: not a block id: '%s'", a->pos[0]);
	if (sel != 1)
		return usage_err("blocks release needs exactly one of ID, --pid P, --incident ID");
	iasctl_req(&m, IAS_CTL_OP_RELEASE);
	if (a->seen & ARG_PID)
		ias_ctl_put_u32(&m, IAS_CTL_A_PID, a->pid);
	if (id)
		ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, id);
	if (a->incident)
		ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, a->incident);
	if (dry)
		ias_ctl_put_u8(&m, IAS_CTL_A_DRY_RUN, 1);
	if ((rc = iasctl_call(&m, &o)))
		return rc;
	l = jarr(o, "blocks");
	n = jlen(l);
	count = jhas(o, "count") ? ju64(o, "count") : (uint64_t)n;
	if (iasctl_opt.json) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "dry_run", json_object_new_boolean(dry));
		json_object_object_add(r, "count", json_object_new_uint64(count));
		json_object_object_add(r, "blocks", l ? json_object_get(l) : json_object_new_array());
		print_own(r);
		json_object_put(o);
		return EX_OK;
	}
	for (i = 0; i < n; i++) {
		json_object *b = jat(l, i);

		out_printf(stdout, "%s block %" PRIu64 " (pid %" PRIu64 " %s, incident %s): %s\n",
			   dry ? "would release" : "released", ju64(b, "block_id"), ju64(b, "pid"),
			   jstr_or(b, "comm", "?"), jstr_or(b, "incident_id", "-"),
			   jstr_or(b, "release_note", "-"));
	}
	printf("%s %" PRIu64 " block(s)\n", dry ? "would release" : "released", count);
	json_object_put(o);
	return EX_OK;
}

/* ---- qps ---------------------------------------------------------------- */

static const char *qp_type_name(uint64_t t)
{
	switch (t) {
	case 2: return "RC";
	case 3: return "UC";
	case 4: return "UD";
	case 8: return "RAW";
	case 9: return "XRC_SEND";
	case 10: return "XRC_RECV";
	default: return "?";
	}
}

static const char *qp_state_name(uint64_t s)
{
	static const char *const n[] = { "RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR" };

	return s < 7 ? n[s] : "?";
}

static void qp_row(struct out_table *t, json_object *q, uint64_t now)
{
	char qpn[24], qpid[24], port[24], remote[96], from[96];
	json_object *d = jarr(q, "dests");
	const char *rsrc = jstr_or(q, "remote_source", "");

	(void)now;
	snprintf(qpn, sizeof(qpn), "0x%" PRIx64, ju64(q, "qpn"));
	snprintf(qpid, sizeof(qpid), "%" PRIu64, ju64(q, "pid"));
	snprintf(port, sizeof(port), "%" PRIu64, ju64(q, "port"));
	if (jhas(q, "remote_lid") || jhas(q, "remote_qpn"))
		snprintf(remote, sizeof(remote), "lid %" PRIu64 " qp 0x%" PRIx64,
			 ju64(q, "remote_lid"), ju64(q, "remote_qpn"));
	else if (d)
		snprintf(remote, sizeof(remote), "%zu dest(s)", jlen(d));
	else
		snprintf(remote, sizeof(remote), "-");
	/* Where the remote end was learnt; a registration nobody confirmed
	 * reads "libias (unconfirmed)": it is not a trace target. */
	snprintf(from, sizeof(from), "%s", *rsrc ? rsrc : "-");
	const char *const cells[] = {
		qpn, qp_type_name(ju64(q, "qp_type")), qp_state_name(ju64(q, "qp_state")), qpid,
		jstr_or(q, "comm", "-"), jstr_or(q, "device", "-"), port, remote, from,
		jstr_or(q, "source", "-"), ju64(q, "blocked") ? "yes" : "no",
	};
	out_table_row(t, false, cells);
}

int cmd_qps_list(const struct cmd_args *a)
{
	static const char *const head[] = { "QPN", "TYPE", "STATE", "PID", "COMM", "DEVICE",
					    "PORT", "REMOTE", "REMOTE FROM", "SOURCE", "BLOCKED" };
	struct ias_ctl_msg m;

	iasctl_req(&m, IAS_CTL_OP_QPS_LIST);
	if (a->seen & ARG_PID)
		ias_ctl_put_u32(&m, IAS_CTL_A_PID, a->pid);
	return iasctl_list(&m, "qps", 11, head, qp_row);
}

/* ---- allowlist ---------------------------------------------------------- */

static void allow_row(struct out_table *t, json_object *e, uint64_t now)
{
	char id[24], created[40];

	(void)now;
	snprintf(id, sizeof(id), "%" PRIu64, ju64(e, "allow_id"));
	out_time(ju64(e, "created_ms"), created, sizeof(created));
	const char *const cells[] = {
		id, jstr_or(e, "kind", "-"), jstr_or(e, "value", "-"), created,
		jstr_or(e, "note", "-"),
	};
	out_table_row(t, false, cells);
}

int cmd_allow_list(const struct cmd_args *a)
{
	static const char *const head[] = { "ID", "KIND", "VALUE", "CREATED", "NOTE" };
	struct ias_ctl_msg m;

	(void)a;
	iasctl_req(&m, IAS_CTL_OP_ALLOW_LIST);
	return iasctl_list(&m, "allow", 5, head, allow_row);
}

static int allow_change(const struct cmd_args *a, bool add)
{
	static const char *const kinds[] = { "exe", "user", "unit", "comm", "pid" };
	const char *kind = a->pos[0], *value = a->pos[1];
	struct ias_ctl_msg m;
	json_object *o, *e;
	size_t i;
	int rc;

	for (i = 0; i < 5 && strcmp(kind, kinds[i]) != 0; i++)
		;
	if (i == 5)
		return usage_err("allowlist: KIND must be exe, user, unit, comm or pid, not '%s'",
				 kind);
	iasctl_req(&m, add ? IAS_CTL_OP_ALLOW_ADD : IAS_CTL_OP_ALLOW_REMOVE);
	ias_ctl_put_str(&m, IAS_CTL_A_KIND, kind);
	ias_ctl_put_str(&m, IAS_CTL_A_VALUE, value);
	if (a->note)
		ias_ctl_put_str(&m, IAS_CTL_A_NOTE, a->note);
	if ((rc = iasctl_call(&m, &o)))
		return rc;
	e = first(o, "allow");
	if (iasctl_opt.json) {
		json_object *r = e ? json_object_get(e) : json_object_new_object();

		if (!add) {
			json_object_object_add(r, "kind", out_json_string(kind));
			json_object_object_add(r, "value", out_json_string(value));
			json_object_object_add(r, "removed", json_object_new_boolean(1));
		}
		print_own(r);
	} else if (add) {
		out_printf(stdout, "added %s %s to the never-block list (id %" PRIu64 ")\n", kind,
			   value, ju64(e, "allow_id"));
	} else {
		out_printf(stdout, "removed %s %s from the never-block list\n", kind, value);
	}
	json_object_put(o);
	return EX_OK;
}

int cmd_allow_add(const struct cmd_args *a)
{
	return allow_change(a, true);
}

int cmd_allow_remove(const struct cmd_args *a)
{
	return allow_change(a, false);
}
