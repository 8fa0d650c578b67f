/* iasctl: what the manager serves: status and policy (which the agent serves
 * too, with the same reply layout: one function each, and only the fields a
 * reply carries are shown), and fabric status (the manager only). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iasctl/iasctl.h"
#include "mad_defs/policy.h"

/* ---- status ------------------------------------------------------------- */

#define STATUS_LINES 12

/* Status lines "Label:   value", printed as a tree once all are known
 * (the last one is drawn differently). */
struct status_lines {
	char l[STATUS_LINES][512];
	int n;
};

__attribute__((format(printf, 3, 4)))
static void status_add(struct status_lines *s, const char *label, const char *fmt, ...)
{
	char *line;
	va_list ap;
	int k;

	if (s->n == STATUS_LINES)
		return;
	line = s->l[s->n++];
	k = snprintf(line, sizeof(s->l[0]), "%-19s", label);
	va_start(ap, fmt);
	vsnprintf(line + k, sizeof(s->l[0]) - (size_t)k, fmt, ap);
	va_end(ap);
}

static void status_print(struct status_lines *s)
{
	int i;

	printf("%sStatus%s\n", out_bold(), out_reset());
	for (i = 0; i < s->n; i++)
		out_printf(stdout, "%s- %s\n", i + 1 < s->n ? "|" : "`", s->l[i]);
}

/* A counter and its companion, "3   (total since start: 17)", when the
 * reply has the counter. */
static void status_pair(struct status_lines *s, json_object *st, const char *label,
			const char *key, const char *pre, const char *key2, const char *post)
{
	if (jhas(st, key))
		status_add(s, label, "%-3" PRIu64 " (%s%" PRIu64 "%s)", ju64(st, key), pre,
			   ju64(st, key2), post);
}

int cmd_status(const struct cmd_args *a)
{
	struct status_lines s = { 0 };
	struct ias_ctl_msg m;
	json_object *o, *st, *pol;
	char up[32];
	int rc;

	(void)a;
	iasctl_req(&m, IAS_CTL_OP_STATUS);
	if ((rc = iasctl_call(&m, &o)))
		return rc;
	st = jobj(o, "status");
	pol = jobj(st, "policy");
	if (iasctl_opt.json) {
		out_json_print(stdout, st ? st : o);
		json_object_put(o);
		return EX_OK;
	}
	out_span(ju64(st, "uptime_s") * 1000, up, sizeof(up));
	status_add(&s, "Agent:", "%s on %s, up %s%s", jstr_or(st, "agent_version", "?"),
		   jstr_or(st, "node", "?"), up, ju64(st, "dry_run") ? " (dry run)" : "");
	/* The agent's readiness ("ready", or why not), when the reply has it. */
	if (jhas(st, "state"))
		status_add(&s, "State:", "%s", jstr_or(st, "state", "?"));
	status_add(&s, "Port:", "%s", jstr_or(st, "port_state", "-"));
	status_pair(&s, st, "Blocked processes:", "blocks_active", "total since start: ",
		    "blocks_total", "");
	status_pair(&s, st, "QPs blocked:", "qps_blocked", "of ", "qps_known", " known");
	status_pair(&s, st, "Incidents:", "incidents", "alerts pending: ", "alerts_pending", "");
	status_add(&s, "Policy level:", "%s%s%s%s", jstr_or(pol, "level", "-"),
		   jhas(pol, "block_mode") ? " (block mode " : "", jstr_or(pol, "block_mode", ""),
		   jhas(pol, "block_mode") ? ")" : "");
	if (jhas(st, "kernel_obs"))
		status_add(&s, "Kernel observation:", "%s", jstr_or(st, "kernel_obs", "-"));
	status_add(&s, "MADs rejected:", "%" PRIu64, ju64(st, "mads_rejected"));
	if (jhas(st, "traces_refused"))
		status_add(&s, "Traces refused:", "%" PRIu64 " (QP not connected to the sender)",
			   ju64(st, "traces_refused"));
	/* A count only where the reply has one: the manager counts the agents
	 * it knows; an agent that cannot count its peers sends nothing. */
	if (jhas(st, "peers_known"))
		status_add(&s, iasctl_opt.manager ? "Agents:" : "Peers:",
			   "%" PRIu64 " reachable / %" PRIu64 " known",
			   ju64(st, "peers_reachable"), ju64(st, "peers_known"));
	status_print(&s);
	json_object_put(o);
	return EX_OK;
}

/* ---- policy ------------------------------------------------------------- */

static const struct {
	const char *key;
	uint16_t type;
} nums[] = {
	{ "base_duration_s", IAS_CTL_A_BASE_DURATION_S },
	{ "max_duration_s", IAS_CTL_A_MAX_DURATION_S },
	{ "escalation", IAS_CTL_A_ESCALATION },
	{ "hop_limit", IAS_CTL_A_HOP_LIMIT },
	{ "fanout_limit", IAS_CTL_A_FANOUT_LIMIT },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void print_policy(json_object *p)
{
	size_t i;

	printf("%-16s %s\n", "level", jstr_or(p, "level", "-"));
	printf("%-16s %s\n", "block_mode", jstr_or(p, "block_mode", "-"));
	printf("%-16s %s\n", "dry_run", jhas(p, "dry_run") ? (ju64(p, "dry_run") ? "yes" : "no") : "-");
	for (i = 0; i <= COUNT(nums); i++) {
		const char *k = i < COUNT(nums) ? nums[i].key : "policy_version";

		if (jhas(p, k))
			printf("%-16s %" PRIu64 "\n", k, ju64(p, k));
		else
			printf("%-16s -\n", k);
	}
}

static int show_policy_reply(json_object *o)
{
	json_object *p = jobj(o, "policy");

	if (iasctl_opt.json)
		out_json_print(stdout, p ? p : o);
	else
		print_policy(p);
	json_object_put(o);
	return EX_OK;
}

int cmd_policy_show(const struct cmd_args *a)
{
	struct ias_ctl_msg m;
	json_object *o;
	int rc;

	(void)a;
	iasctl_req(&m, IAS_CTL_OP_POLICY_SHOW);
	if ((rc = iasctl_call(&m, &o)))
		return rc;
	return show_policy_reply(o);
}

static bool one_of(const char *v, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v, set[i]) == 0)
			return true;
	return false;
}

static bool parse_bool(const char *s, uint8_t *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	if (one_of(s, yes, COUNT(yes)))
		*out = 1;
	else if (one_of(s, no, COUNT(no)))
		*out = 0;
	else
		return false;
	return true;
}

/* One KEY=VALUE (KEY with '-' or '_') into m; EX_OK or a usage error. */
static int policy_item(struct ias_ctl_msg *m, const char *item)
{
	const char *eq = strchr(item, '='), *val;
	size_t k, klen;
	char key[32];
	uint64_t v;
	uint8_t b;

	klen = eq ? (size_t)(eq - item) : 0;
	if (!eq || klen == 0 || klen >= sizeof(key))
		return usage_err("policy set: expected KEY=VALUE, not '%s'", item);
	for (k = 0; k < klen; k++)
		key[k] = item[k] == '-' ? '_' : item[k];
	key[klen] = '\0';
	val = eq + 1;
	if (strcmp(key, "level") == 0) {
		if (ias_level_parse(val) < 0)
			return usage_err("policy set: level must be basic, sibling, lca, selinux or zone");
		ias_ctl_put_str(m, IAS_CTL_A_LEVEL, val);
	} else if (strcmp(key, "block_mode") == 0) {
		if (ias_mode_parse(val) < 0)
			return usage_err("policy set: block_mode must be pause, cut, freeze or kill");
		ias_ctl_put_str(m, IAS_CTL_A_BLOCK_MODE, val);
	} else if (strcmp(key, "dry_run") == 0) {
		if (!parse_bool(val, &b))
			return usage_err("policy set: dry_run must be yes or no");
		ias_ctl_put_u8(m, IAS_CTL_A_DRY_RUN, b);
	} else {
		for (k = 0; k < COUNT(nums) && strcmp(key, nums[k].key) != 0; k++)
			;
		if (k == COUNT(nums))
			return usage_err("policy set: unknown key '%s'", key);
		if (!parse_u64(val, UINT32_MAX, &v))
			return usage_err("policy set: %s needs a number, not '%s'", key, val);
		ias_ctl_put_u32(m, nums[k].type, (uint32_t)v);
	}
	return EX_OK;
}

int cmd_policy_set(const struct cmd_args *a)
{
	struct ias_ctl_msg m;
	json_object *o;
	int i, rc;

	iasctl_req(&m, IAS_CTL_OP_POLICY_SET);
	ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	if (a->npos == 1 && ias_level_parse(a->pos[0]) >= 0) {
		ias_ctl_put_str(&m, IAS_CTL_A_LEVEL, a->pos[0]); /* "policy set lca" */
	} else {
		for (i = 0; i < a->npos; i++)
			if ((rc = policy_item(&m, a->pos[i])))
				return rc;
	}
	ias_ctl_nest_end(&m);
	if ((rc = iasctl_call(&m, &o)))
		return rc;
	return show_policy_reply(o);
}

/* ---- fabric status ------------------------------------------------------ */

static void fabric_row(struct out_table *t, json_object *n, uint64_t now)
{
	char lid[24], guid[24], pol[96], blk[24], reps[24], last[32];
	bool agent = ju64(n, "agent") != 0, reachable = ju64(n, "reachable") != 0;

	snprintf(lid, sizeof(lid), "%" PRIu64, ju64(n, "lid"));
	snprintf(guid, sizeof(guid), "0x%016" PRIx64, ju64(n, "node_guid"));
	if (jhas(n, "policy_version"))
		snprintf(pol, sizeof(pol), "v%" PRIu64 " %s", ju64(n, "policy_version"),
			 jstr_or(n, "policy_state", ""));
	else
		snprintf(pol, sizeof(pol), "%s", agent ? jstr_or(n, "policy_state", "-") : "-");
	snprintf(blk, sizeof(blk), agent ? "%" PRIu64 : "-", ju64(n, "blocks_active"));
	snprintf(reps, sizeof(reps), agent ? "%" PRIu64 : "-", ju64(n, "reports"));
	out_ago(now, ju64(n, "last_report_ms"), last, sizeof(last));
	const char *const cells[] = {
		jstr_or(n, "node", "-"), lid, guid, jstr_or(n, "node_type", "-"),
		!agent ? "-" : reachable ? "reachable" : "unreachable", pol, blk, reps, last,
	};
	out_table_row(t, !agent || !reachable, cells);
}

int cmd_fabric_status(const struct cmd_args *a)
{
	static const char *const head[] = { "NODE", "LID", "GUID", "TYPE", "AGENT", "POLICY",
					    "BLOCKS", "REPORTS", "LAST_REPORT" };
	uint64_t now = out_now_ms();
	struct ias_ctl_msg m;
	struct out_table t;
	json_object *o, *l;
	size_t i;
	int rc;

	(void)a;
	iasctl_req(&m, IAS_CTL_OP_FABRIC_STATUS);
	if ((rc = iasctl_call(&m, &o)))
		return rc;
	if (iasctl_opt.json) {
		if (!jarr(o, "nodes"))
			json_object_object_add(o, "nodes", json_object_new_array());
		out_json_print(stdout, o);
		json_object_put(o);
		return EX_OK;
	}
	printf("%sManager%s: %s, master SM LID %" PRIu64 " GUID 0x%016" PRIx64
	       ", fabric policy version %" PRIu64 ", %" PRIu64 " report(s)\n",
	       out_bold(), out_reset(), jstr_or(o, "role", "?"), ju64(o, "sm_lid"),
	       ju64(o, "sm_guid"), ju64(o, "policy_version"), ju64(o, "reports"));
	l = jarr(o, "nodes");
	out_table_init(&t, 9, head);
	for (i = 0; i < jlen(l); i++)
		fabric_row(&t, jat(l, i), now);
	out_table_print(stdout, &t);
	json_object_put(o);
	return EX_OK;
}
