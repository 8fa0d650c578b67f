/* iasctl: incidents list and incidents show, drawn as a tree of the nodes
 * the trace reached or as a Graphviz DOT graph. Agent and manager answer
 * with the same layout (the manager's events also name the node a hop went
 * to, as peer_node). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iasctl/iasctl.h"

static const char *ev_node(json_object *e)
{
	return jstr_or(e, "node", "?");
}

/* Events that say a QP was not traced or a trace not obeyed: a dead end,
 * a registration's claim nobody confirmed, a refused trace. Drawn so they
 * stand out. */
static bool ev_untraced(json_object *e)
{
	const char *k = jstr_or(e, "kind", "");

	return strcmp(k, "dead-end") == 0 || strcmp(k, "unconfirmed") == 0 ||
	       strcmp(k, "trace-refused") == 0;
}

/* ---- list --------------------------------------------------------------- */

static void incident_row(struct out_table *t, json_object *n, uint64_t now)
{
	char pid[24], opened[32], closed[32];

	snprintf(pid, sizeof(pid), "%" PRIu64, ju64(n, "root_pid"));
	out_ago(now, ju64(n, "opened_ms"), opened, sizeof(opened));
	out_ago(now, ju64(n, "closed_ms"), closed, sizeof(closed));
	const char *const cells[] = {
		jstr_or(n, "incident_id", "-"), jstr_or(n, "origin", "-"),
		jstr_or(n, "node", "-"), pid, jstr_or(n, "reason", "-"),
		jstr_or(n, "state", "-"), opened, closed,
	};
	out_table_row(t, ju64(n, "closed_ms") != 0, cells);
}

int cmd_incidents_list(const struct cmd_args *a)
{
	static const char *const head[] = { "ID", "ORIGIN", "NODE", "ROOT_PID", "REASON",
					    "STATE", "OPENED", "CLOSED" };
	struct ias_ctl_msg m;

	(void)a;
	iasctl_req(&m, IAS_CTL_OP_INCIDENTS_LIST);
	return iasctl_list(&m, "incidents", 8, head, incident_row);
}

/* ---- DOT ---------------------------------------------------------------- */

/* s as the inside of a DOT string: quotes and backslashes escaped, control
 * characters (which the codec already refuses) as '?'. */
static void dot_put(FILE *f, const char *s)
{
	char *clean = out_clean(s);
	const char *p;

	for (p = clean; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	free(clean);
}

static void dot_str(FILE *f, const char *s)
{
	fputc('"', f);
	dot_put(f, s);
	fputc('"', f);
}

static void dot_edge(FILE *f, const char *from, const char *to)
{
	fputc('\t', f);
	dot_str(f, from);
	fputs(" -> ", f);
	dot_str(f, to);
}

/* Has a node already appeared among the first i events? */
static bool node_seen(json_object *ev, size_t i, const char *node)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (strcmp(ev_node(jat(ev, j)), node) == 0)
			return true;
	return false;
}

static void incident_dot(FILE *f, json_object *inc)
{
	json_object *ev = jarr(inc, "events");
	const char *prev = NULL;
	size_t i, j, n = jlen(ev), edges = 0;

	fputs("digraph ", f);
	dot_str(f, jstr_or(inc, "incident_id", "incident"));
	fputs(" {\n\trankdir=LR;\n\tnode [shape=box];\n", f);
	/* One box per node, listing what happened there. */
	for (i = 0; i < n; i++) {
		const char *node = ev_node(jat(ev, i));

		if (node_seen(ev, i, node))
			continue;
		bool untraced = false;

		fputc('\t', f);
		dot_str(f, node);
		fputs(" [label=\"", f);
		dot_put(f, node);
		for (j = i; j < n; j++) {
			json_object *e = jat(ev, j);

			if (strcmp(ev_node(e), node) != 0)
				continue;
			fputs(ev_untraced(e) ? "\\n!! " : "\\n", f);
			untraced |= ev_untraced(e);
			dot_put(f, jstr_or(e, "kind", "?"));
			fprintf(f, " pid %" PRIu64, ju64(e, "pid"));
			if (ev_untraced(e))
				fprintf(f, " qp 0x%" PRIx64, ju64(e, "qpn"));
		}
		fputs(untraced ? "\", color=red];\n" : "\"];\n", f);
	}
	/* Edges: from each hop to the node it went to, when the events say
	 * (the manager's view); otherwise each time the events, in time order,
	 * move to another node. */
	for (i = 0; i < n; i++) {
		json_object *e = jat(ev, i);

		if (!jhas(e, "peer_node"))
			continue;
		edges++;
		dot_edge(f, ev_node(e), jstr_or(e, "peer_node", "?"));
		fprintf(f, " [label=\"qp 0x%" PRIx64 "\"%s];\n", ju64(e, "qpn"),
			strcmp(jstr_or(e, "kind", ""), "unreachable") == 0 ? ", style=dashed" : "");
	}
	for (i = 0; i < n && edges == 0; i++) {
		json_object *e = jat(ev, i);
		const char *node = ev_node(e);

		if (prev && strcmp(prev, node) != 0) {
			dot_edge(f, prev, node);
			if (jhas(e, "qpn"))
				fprintf(f, " [label=\"qp 0x%" PRIx64 "\"]", ju64(e, "qpn"));
			fputs(";\n", f);
		}
		prev = node;
	}
	fputs("}\n", f);
}

/* ---- tree --------------------------------------------------------------- */

static size_t node_events(json_object *ev, const char *node)
{
	size_t i, k = 0;

	for (i = 0; i < jlen(ev); i++)
		k += strcmp(ev_node(jat(ev, i)), node) == 0;
	return k;
}

static void incident_tree(json_object *inc)
{
	json_object *ev = jarr(inc, "events");
	size_t i, j, n = jlen(ev), nodes = 0, shown = 0, untraced = 0;
	char t[40];

	out_time(ju64(inc, "opened_ms"), t, sizeof(t));
	printf("%sIncident ", out_bold());
	out_printf(stdout, "%s", jstr_or(inc, "incident_id", "?"));
	printf("%s", out_reset());
	out_printf(stdout, " (%s): %s\n", jstr_or(inc, "state", "?"), jstr_or(inc, "reason", "-"));
	out_printf(stdout, "   origin %s on %s, root pid %" PRIu64 ", opened %s\n",
		   jstr_or(inc, "origin", "-"), jstr_or(inc, "node", "-"), ju64(inc, "root_pid"), t);
	if (!n) {
		printf("`- (no events)\n");
		return;
	}
	for (i = 0; i < n; i++)
		nodes += !node_seen(ev, i, ev_node(jat(ev, i)));
	/* Nodes in the order the events name them first, each with its events. */
	for (i = 0; i < n; i++) {
		const char *node = ev_node(jat(ev, i));
		bool last_node;
		size_t left;

		if (node_seen(ev, i, node))
			continue;
		last_node = ++shown == nodes;
		left = node_events(ev, node);
		out_printf(stdout, "%s- %s\n", last_node ? "`" : "|", node);
		for (j = i; j < n; j++) {
			json_object *e = jat(ev, j);
			char qp[24] = "";

			if (strcmp(ev_node(e), node) != 0)
				continue;
			out_time(ju64(e, "ts_ms"), t, sizeof(t));
			if (jhas(e, "qpn"))
				snprintf(qp, sizeof(qp), " qp 0x%" PRIx64, ju64(e, "qpn"));
			out_printf(stdout, "%s  %s- %s ", last_node ? " " : "|", --left ? "|" : "`", t);
			if (ev_untraced(e)) {
				untraced++;
				printf("%s", out_red());
				out_printf(stdout, "!! %s", jstr_or(e, "kind", "?"));
				printf("%s", out_reset());
			} else {
				out_printf(stdout, "%s", jstr_or(e, "kind", "?"));
			}
			out_printf(stdout, " pid %" PRIu64 "%s: %s\n", ju64(e, "pid"), qp,
				   jstr_or(e, "text", ""));
		}
	}
	if (untraced)
		printf("%s!! %zu QP(s) or trace(s) marked !! were not followed: dead ends, "
		       "unconfirmed claims or refused traces%s\n", out_red(), untraced, out_reset());
}

int cmd_incidents_show(const struct cmd_args *a)
{
	const char *id = a->pos[0];
	struct ias_ctl_msg m;
	json_object *o, *inc;
	int rc;

	if (strlen(id) > IAS_CTL_INCIDENT_ID_MAX)
		return usage_err("incidents show: incident id too long");
	iasctl_req(&m, IAS_CTL_OP_INCIDENT_SHOW);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, id);
	if ((rc = iasctl_call(&m, &o)))
		return rc;
	inc = jat(jarr(o, "incidents"), 0);
	if (a->seen & ARG_DOT)
		incident_dot(stdout, inc);
	else if (iasctl_opt.json)
		out_json_print(stdout, inc ? inc : o);
	else
		incident_tree(inc);
	json_object_put(o);
	return EX_OK;
}
