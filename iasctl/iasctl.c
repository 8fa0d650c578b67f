/* iasctl: the operator's command line for the IAS agent on this node.
 *
 *   iasctl [--socket PATH] [-o human|json] [--color auto|always|never] NOUN VERB ...
 *
 * Every reply is decoded once into a JSON tree (keys are attribute names in
 * lower case; repeated items become arrays) and both output formats are
 * rendered from it. Exit codes are stable; see iasctl(8). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "ctl/proto.h"
#include "verbs_ext/ias.h"

enum {
	EX_OK = 0,
	EX_AGENT = 1,      /* refused by the agent for another reason */
	EX_USAGE = 2,
	EX_UNREACH = 3,    /* cannot reach the agent */
	EX_PERM = 4,
	EX_NOENT = 5,
	EX_NEVERBLOCK = 6,
	EX_AGAIN = 7,
};

static const char *opt_socket;
static bool opt_manager;
static bool opt_json;
static bool opt_color;
static const char *prog = "iasctl";

/* ---- small helpers ------------------------------------------------------ */

__attribute__((format(printf, 1, 2)))
static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return EX_USAGE;
}

/* Strict unsigned decimal: digits only, no sign, no spaces, in range. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* After getopt_long returned '?' or ':' over argv - 1. */
static int bad_option(const char *cmd, char **argv, int argc)
{
	const char *arg = optind >= 2 && optind - 1 <= argc ? argv[optind - 2] : "?";

	return usage_err("%s: bad or incomplete option '%s'", cmd, arg);
}

static bool parse_pid(const char *s, uint32_t *pid)
{
	uint64_t v;

	if (!parse_u64(s, INT32_MAX, &v) || v == 0)
		return false;
	*pid = (uint32_t)v;
	return true;
}

static bool parse_bool(const char *s, uint8_t *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = 1;
			return true;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = 0;
			return true;
		}
	}
	return false;
}

static const char *bold(void) { return opt_color ? "\033[1m" : ""; }
static const char *dim(void) { return opt_color ? "\033[2m" : ""; }
static const char *red(void) { return opt_color ? "\033[31m" : ""; }
static const char *reset(void) { return opt_color ? "\033[0m" : ""; }

static uint64_t now_ms(void)
{
	const char *fixed = getenv("IASCTL_NOW_MS");
	struct timespec ts;
	uint64_t v;

	if (fixed && parse_u64(fixed, UINT64_MAX, &v))
		return v;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* "45s", "2m", "3h", "4d" */
static void fmt_span(uint64_t ms, char *out, size_t cap)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(out, cap, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(out, cap, "%" PRIu64 "m", s / 60);
	else if (s < 86400)
		snprintf(out, cap, "%" PRIu64 "h", s / 3600);
	else
		snprintf(out, cap, "%" PRIu64 "d", s / 86400);
}

static void fmt_time(uint64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms || !gmtime_r(&t, &tm)) {
		snprintf(out, cap, "-");
		return;
	}
	strftime(out, cap, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* ---- reply → JSON ------------------------------------------------------- */

static const char *list_key(uint16_t parent, uint16_t type)
{
	switch (type) {
	case IAS_CTL_A_QPN: return parent == IAS_CTL_A_BLOCK ? "qpns" : NULL;
	case IAS_CTL_A_DEST: return "dests";
	case IAS_CTL_A_BLOCK: return "blocks";
	case IAS_CTL_A_QP: return "qps";
	case IAS_CTL_A_INCIDENT: return "incidents";
	case IAS_CTL_A_ALLOW: return "allow";
	case IAS_CTL_A_AUDIT: return "audit";
	case IAS_CTL_A_EVENT: return "events";
	case IAS_CTL_A_FABRIC_NODE: return "nodes";
	default: return NULL;
	}
}

static json_object *tlv_to_json(struct ias_rd *r, uint16_t parent)
{
	json_object *o = json_object_new_object();
	struct ias_ctl_attr a;

	while (ias_ctl_next(r, &a) == 1) {
		const char *name = ias_ctl_attr_name(a.type), *lk;
		char key[64], s[IAS_CTL_STR_MAX + 1];
		json_object *v = NULL, *arr;
		struct ias_rd inner;
		uint8_t u8, g[16];
		uint32_t u32;
		uint64_t u64;
		size_t i;

		if (!name)
			continue; /* from a newer agent: not shown */
		for (i = 0; name[i] && i < sizeof(key) - 1; i++)
			key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
		key[i] = '\0';
		switch (ias_ctl_attr_wire(a.type)) {
		case IAS_CTL_W_U8:
			ias_ctl_get_u8(&a, &u8);
			/* u8 attributes are flags, except the QP's type and state */
			if (a.type == IAS_CTL_A_QP_TYPE || a.type == IAS_CTL_A_QP_STATE)
				v = json_object_new_int(u8);
			else
				v = json_object_new_boolean(u8 != 0);
			break;
		case IAS_CTL_W_U32:
			ias_ctl_get_u32(&a, &u32);
			v = json_object_new_int64(u32);
			break;
		case IAS_CTL_W_U64:
			ias_ctl_get_u64(&a, &u64);
			v = json_object_new_uint64(u64);
			break;
		case IAS_CTL_W_STR:
			ias_ctl_get_str(&a, s, sizeof(s));
			v = json_object_new_string(s);
			break;
		case IAS_CTL_W_GID:
			ias_ctl_get_bytes(&a, g, 16);
			snprintf(s, sizeof(s),
				 "%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x",
				 g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10],
				 g[11], g[12], g[13], g[14], g[15]);
			v = json_object_new_string(s);
			break;
		case IAS_CTL_W_NESTED:
			ias_ctl_attr_nested(&a, &inner);
			v = tlv_to_json(&inner, a.type);
			break;
		default:
			continue;
		}
		lk = list_key(parent, a.type);
		if (lk) {
			if (!json_object_object_get_ex(o, lk, &arr)) {
				arr = json_object_new_array();
				json_object_object_add(o, lk, arr);
			}
			json_object_array_add(arr, v);
		} else {
			json_object_object_add(o, key, v);
		}
	}
	return o;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return json_object_get_string(v);
}

static const char *jstr_or(json_object *o, const char *k, const char *dflt)
{
	const char *s = jstr(o, k);

	return s && *s ? s : dflt;
}

static bool jhas(json_object *o, const char *k)
{
	return o && json_object_object_get_ex(o, k, NULL);
}

static uint64_t ju64(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v))
		return 0;
	return json_object_get_uint64(v);
}

static json_object *jarr(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static json_object *jobj(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

static void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_SPACED |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Print a listing: the array under key, or [] when there is none. */
static void print_json_list(json_object *o, const char *key)
{
	json_object *a = jarr(o, key);

	if (a)
		print_json(a);
	else
		printf("[]\n");
}

/* ---- talking to the agent ------------------------------------------------ */

static uint8_t reqbuf[IAS_CTL_MAX_MSG], repbuf[IAS_CTL_MAX_MSG];

static int errno_exit(int err)
{
	switch (err) {
	case -EACCES:
	case -EPERM:
		return EX_PERM;
	default:
		return EX_UNREACH;
	}
}

static int status_exit(int status)
{
	switch (status) {
	case IAS_CTL_E_PERM: return EX_PERM;
	case IAS_CTL_E_NOENT: return EX_NOENT;
	case IAS_CTL_E_NEVERBLOCK: return EX_NEVERBLOCK;
	case IAS_CTL_E_AGAIN: return EX_AGAIN;
	default: return EX_AGENT;
	}
}

static void req_init(struct ias_ctl_msg *m, uint16_t op)
{
	ias_ctl_msg_init(m, reqbuf, sizeof(reqbuf), IAS_CTL_REQUEST, op, 0, 0);
}

/* Send, and on success return the reply as JSON in *out. On failure print
 * the reason and return the exit code. */
static int call(struct ias_ctl_msg *m, json_object **out)
{
	struct ias_client *c = NULL;
	struct ias_ctl_hdr h;
	struct ias_rd r;
	size_t len;
	int rc;

	*out = NULL;
	rc = ias_client_open(opt_socket, &c);
	if (rc) {
		fprintf(stderr, "%s: %s%s%s\n", prog, red(), ias_strerror(rc), reset());
		return errno_exit(rc);
	}
	rc = ias_client_call(c, m, repbuf, sizeof(repbuf), &len);
	ias_client_close(c);
	if (rc == -ENOSPC || rc == -EINVAL) {
		fprintf(stderr, "%s: request too large\n", prog);
		return EX_USAGE;
	}
	if (rc) {
		fprintf(stderr, "%s: %s%s%s\n", prog, red(), ias_strerror(rc), reset());
		return rc == -EBADMSG ? EX_AGENT : errno_exit(rc);
	}
	ias_ctl_parse_hdr(repbuf, len, &h, &r);
	*out = tlv_to_json(&r, 0);
	if (h.status != 0) {
		const char *msg = jstr(*out, "message");

		fprintf(stderr, "%s: %s%s%s\n", prog, red(),
			msg && *msg ? msg : ias_ctl_strerror(h.status), reset());
		json_object_put(*out);
		*out = NULL;
		return status_exit(h.status);
	}
	return EX_OK;
}

/* ---- tables ------------------------------------------------------------- */

#define MAXCOL 12

struct table {
	int ncol;
	const char *head[MAXCOL];
	size_t width[MAXCOL];
	char ***rows; /* rows[i][c] */
	bool *faint;
	int nrows, cap;
};

static void table_init(struct table *t, int ncol, const char *const *head)
{
	int c;

	memset(t, 0, sizeof(*t));
	t->ncol = ncol;
	for (c = 0; c < ncol; c++) {
		t->head[c] = head[c];
		t->width[c] = strlen(head[c]);
	}
}

static void table_row(struct table *t, bool faint, const char *const *cells)
{
	int c;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->rows = realloc(t->rows, (size_t)t->cap * sizeof(*t->rows));
		t->faint = realloc(t->faint, (size_t)t->cap * sizeof(*t->faint));
		if (!t->rows || !t->faint)
			abort();
	}
	t->rows[t->nrows] = calloc((size_t)t->ncol, sizeof(char *));
	if (!t->rows[t->nrows])
		abort();
	for (c = 0; c < t->ncol; c++) {
		t->rows[t->nrows][c] = strdup(cells[c] ? cells[c] : "-");
		if (!t->rows[t->nrows][c])
			abort();
		if (strlen(t->rows[t->nrows][c]) > t->width[c])
			t->width[c] = strlen(t->rows[t->nrows][c]);
	}
	t->faint[t->nrows++] = faint;
}

static void table_print(struct table *t)
{
	int r, c;

	printf("%s", bold());
	for (c = 0; c < t->ncol; c++)
		printf("%-*s%s", c + 1 < t->ncol ? (int)t->width[c] : 0, t->head[c],
		       c + 1 < t->ncol ? "  " : "");
	printf("%s\n", reset());
	for (r = 0; r < t->nrows; r++) {
		printf("%s", t->faint[r] ? dim() : "");
		for (c = 0; c < t->ncol; c++)
			printf("%-*s%s", c + 1 < t->ncol ? (int)t->width[c] : 0, t->rows[r][c],
			       c + 1 < t->ncol ? "  " : "");
		printf("%s\n", t->faint[r] ? reset() : "");
		for (c = 0; c < t->ncol; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	free(t->rows);
	free(t->faint);
}

/* ---- status ------------------------------------------------------------- */

static int cmd_status(int argc, char **argv)
{
	struct ias_ctl_msg m;
	json_object *o, *st, *pol;
	char up[32];
	int rc;

	if (argc != 0)
		return usage_err("status takes no arguments");
	req_init(&m, IAS_CTL_OP_STATUS);
	if ((rc = call(&m, &o)))
		return rc;
	st = jobj(o, "status");
	pol = jobj(st, "policy");
	if (opt_json) {
		print_json(st ? st : o);
		json_object_put(o);
		return EX_OK;
	}
	fmt_span(ju64(st, "uptime_s") * 1000, up, sizeof(up));
	printf("%sStatus%s\n", bold(), reset());
	printf("|- Agent:             %s on %s, up %s%s\n", jstr_or(st, "agent_version", "?"),
	       jstr_or(st, "node", "?"), up, ju64(st, "dry_run") ? " (dry run)" : "");
	printf("|- Port:              %s\n", jstr_or(st, "port_state", "-"));
	printf("|- Blocked processes: %-3" PRIu64 " (total since start: %" PRIu64 ")\n",
	       ju64(st, "blocks_active"), ju64(st, "blocks_total"));
	printf("|- QPs blocked:       %-3" PRIu64 " (of %" PRIu64 " known)\n",
	       ju64(st, "qps_blocked"), ju64(st, "qps_known"));
	printf("|- Incidents:         %-3" PRIu64 " (alerts pending: %" PRIu64 ")\n",
	       ju64(st, "incidents"), ju64(st, "alerts_pending"));
	printf("|- Policy level:      %s", jstr_or(pol, "level", "-"));
	if (jhas(pol, "block_mode"))
		printf(" (block mode %s)", jstr(pol, "block_mode"));
	printf("\n|- MADs rejected:     %" PRIu64 "\n", ju64(st, "mads_rejected"));
	printf("`- Peers:             %" PRIu64 " reachable / %" PRIu64 " known\n",
	       ju64(st, "peers_reachable"), ju64(st, "peers_known"));
	json_object_put(o);
	return EX_OK;
}

/* ---- report ------------------------------------------------------------- */

static int cmd_report(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "reason", required_argument, NULL, 'r' },
		{ "override", no_argument, NULL, 'O' },
		{ "duration", required_argument, NULL, 'd' },
		{ "incident", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct ias_ctl_msg m;
	json_object *o, *b = NULL, *blocks;
	const char *reason = NULL, *incident = NULL;
	uint32_t pid = 0;
	uint64_t dur = 0;
	bool override = false, have_dur = false;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!parse_pid(optarg, &pid))
				return usage_err("--pid: not a process id: '%s'", optarg);
			break;
		case 'r':
			reason = optarg;
			break;
		case 'i':
			incident = optarg;
			break;
		case 'O':
			override = true;
			break;
		case 'd':
			if (!parse_u64(optarg, UINT32_MAX, &dur))
				return usage_err("--duration: not a number of seconds: '%s'", optarg);
			have_dur = true;
			break;
		default:
			return bad_option("report", argv, argc);
		}
	}
	if (optind != argc + 1)
		return usage_err("report: unexpected argument '%s'", argv[optind - 1]);
	if (!pid)
		return usage_err("report needs --pid");
	if (reason && strlen(reason) > IAS_CTL_REASON_MAX)
		return usage_err("--reason: longer than %d bytes", IAS_CTL_REASON_MAX);
	if (incident && (!*incident || strlen(incident) > IAS_CTL_INCIDENT_ID_MAX))
		return usage_err("--incident: an incident id of 1 to %d bytes", IAS_CTL_INCIDENT_ID_MAX);
	req_init(&m, IAS_CTL_OP_REPORT_ATTACK);
	ias_ctl_put_u32(&m, IAS_CTL_A_PID, pid);
	if (reason)
		ias_ctl_put_str(&m, IAS_CTL_A_REASON, reason);
	if (override)
		ias_ctl_put_u8(&m, IAS_CTL_A_OVERRIDE, 1);
	if (have_dur)
		ias_ctl_put_u32(&m, IAS_CTL_A_DURATION_S, (uint32_t)dur);
	if (incident)
		ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, incident);
	if ((rc = call(&m, &o)))
		return rc;
	blocks = jarr(o, "blocks");
	if (blocks && json_object_array_length(blocks) > 0)
		b = json_object_array_get_idx(blocks, 0);
	if (opt_json) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "block", b ? json_object_get(b) : NULL);
		json_object_object_add(r, "incident_id",
				       json_object_new_string(jstr_or(o, "incident_id", "")));
		print_json(r);
		json_object_put(r);
	} else {
		printf("blocked pid %" PRIu32 ": block %" PRIu64 ", incident %s%s\n", pid,
		       ju64(b, "block_id"), jstr_or(o, "incident_id", "-"),
		       ju64(b, "simulated") ? " (dry run: nothing enforced)" : "");
	}
	json_object_put(o);
	return EX_OK;
}

/* ---- blocks ------------------------------------------------------------- */

static void block_row(struct table *t, json_object *b, uint64_t now)
{
	char id[24], pid[16], qps[16], since[16], exp[16], reason[IAS_CTL_REASON_MAX + 16];
	json_object *q = jarr(b, "qpns");
	uint64_t created = ju64(b, "created_ms"), until = ju64(b, "until_ms");
	bool released = ju64(b, "released_ms") != 0;
	const char *cells[10];

	snprintf(id, sizeof(id), "%" PRIu64, ju64(b, "block_id"));
	snprintf(pid, sizeof(pid), "%" PRIu64, ju64(b, "pid"));
	snprintf(qps, sizeof(qps), "%zu", q ? json_object_array_length(q) : (size_t)0);
	if (created && now > created)
		fmt_span(now - created, since, sizeof(since));
	else
		snprintf(since, sizeof(since), created ? "0s" : "-");
	if (released)
		snprintf(exp, sizeof(exp), "RELEASED");
	else if (!until)
		snprintf(exp, sizeof(exp), "never");
	else if (until <= now)
		snprintf(exp, sizeof(exp), "due");
	else
		fmt_span(until - now, exp, sizeof(exp));
	snprintf(reason, sizeof(reason), "%s%s", ju64(b, "simulated") ? "[dry run] " : "",
		 jstr_or(b, "reason", "-"));
	cells[0] = id;
	cells[1] = jstr_or(b, "origin", "-");
	cells[2] = jstr_or(b, "node", "-");
	cells[3] = pid;
	cells[4] = jstr_or(b, "comm", "-");
	cells[5] = qps;
	cells[6] = reason;
	cells[7] = jstr_or(b, "incident_id", "-");
	cells[8] = since;
	cells[9] = exp;
	table_row(t, released, cells);
}

static int cmd_blocks_list(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "incident", required_argument, NULL, 'i' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const head[] = { "ID", "ORIGIN", "NODE", "PID", "COMM", "QPS",
					    "REASON", "INCIDENT", "SINCE", "EXPIRES" };
	struct ias_ctl_msg m;
	const char *incident = NULL;
	json_object *o, *a;
	struct table t;
	uint32_t pid = 0;
	bool all = false;
	uint64_t now = now_ms();
	size_t i;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!parse_pid(optarg, &pid))
				return usage_err("--pid: not a process id: '%s'", optarg);
			break;
		case 'i':
			incident = optarg;
			break;
		case 'a':
			all = true;
			break;
		default:
			return bad_option("blocks list", argv, argc);
		}
	}
	if (optind != argc + 1)
		return usage_err("blocks list: unexpected argument '%s'", argv[optind - 1]);
	req_init(&m, IAS_CTL_OP_BLOCKS_LIST);
	if (pid)
		ias_ctl_put_u32(&m, IAS_CTL_A_PID, pid);
	if (all)
		ias_ctl_put_u8(&m, IAS_CTL_A_ALL, 1);
	if (incident)
		ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, incident);
	if ((rc = call(&m, &o)))
		return rc;
	if (opt_json) {
		print_json_list(o, "blocks");
	} else {
		a = jarr(o, "blocks");
		table_init(&t, 10, head);
		for (i = 0; a && i < json_object_array_length(a); i++)
			block_row(&t, json_object_array_get_idx(a, i), now);
		table_print(&t);
	}
	json_object_put(o);
	return EX_OK;
}

static void print_kv(const char *k, const char *v)
{
	printf("%-13s %s\n", k, v && *v ? v : "-");
}

static void print_block_detail(json_object *b, uint64_t now)
{
	char buf[512], t1[40];
	json_object *q = jarr(b, "qpns");
	size_t i, n = 0;

	snprintf(buf, sizeof(buf), "%" PRIu64 "%s", ju64(b, "block_id"),
		 ju64(b, "simulated") ? " (dry run: nothing enforced)" : "");
	print_kv("Block:", buf);
	print_kv("Origin:", jstr(b, "origin"));
	print_kv("Node:", jstr(b, "node"));
	snprintf(buf, sizeof(buf), "%" PRIu64 " (%s), uid %" PRIu64, ju64(b, "pid"),
		 jstr_or(b, "comm", "?"), ju64(b, "uid"));
	print_kv("Process:", buf);
	print_kv("Executable:", jstr(b, "exe"));
	buf[0] = '\0';
	for (i = 0; q && i < json_object_array_length(q); i++)
		n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, "%s0x%" PRIx64,
				      i ? " " : "",
				      json_object_get_uint64(json_object_array_get_idx(q, i)));
	print_kv("QPs:", buf);
	print_kv("Reason:", jstr(b, "reason"));
	print_kv("Incident:", jstr(b, "incident_id"));
	print_kv("Mechanism:", jstr(b, "mechanism"));
	snprintf(buf, sizeof(buf), "%" PRIu64, ju64(b, "offence"));
	print_kv("Offence:", buf);
	fmt_time(ju64(b, "created_ms"), t1, sizeof(t1));
	print_kv("Created:", t1);
	if (ju64(b, "until_ms")) {
		fmt_time(ju64(b, "until_ms"), t1, sizeof(t1));
		print_kv("Until:", t1);
	} else {
		print_kv("Until:", "no end");
	}
	if (ju64(b, "released_ms")) {
		fmt_time(ju64(b, "released_ms"), t1, sizeof(t1));
		print_kv("Released:", t1);
		print_kv("Release note:", jstr(b, "release_note"));
	} else {
		print_kv("Released:", "no (active)");
	}
	(void)now;
}

static bool parse_block_id(const char *s, uint64_t *id)
{
	return parse_u64(s, UINT64_MAX, id) && *id != 0;
}

static int cmd_blocks_inspect(int argc, char **argv)
{
	struct ias_ctl_msg m;
	json_object *o, *b, *au;
	uint64_t id;
	size_t i;
	int rc;

	if (argc != 1)
		return usage_err("usage: blocks inspect ID");
	if (!parse_block_id(argv[0], &id))
		return usage_err("blocks inspect: not a block id: '%s'", argv[0]);
	req_init(&m, IAS_CTL_OP_BLOCK_INSPECT);
	ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, id);
	if ((rc = call(&m, &o)))
		return rc;
	b = jarr(o, "blocks") ? json_object_array_get_idx(jarr(o, "blocks"), 0) : NULL;
	au = jarr(o, "audit");
	if (opt_json) {
		json_object *r = b ? json_object_get(b) : json_object_new_object();

		json_object_object_add(r, "audit", au ? json_object_get(au) : json_object_new_array());
		print_json(r);
		json_object_put(r);
		json_object_put(o);
		return EX_OK;
	}
	print_block_detail(b, now_ms());
	printf("%sAudit%s\n", bold(), reset());
	for (i = 0; au && i < json_object_array_length(au); i++) {
		json_object *e = json_object_array_get_idx(au, i);
		char t[40];

		fmt_time(ju64(e, "ts_ms"), t, sizeof(t));
		printf("%s- %s  %s  %s: %s\n", i + 1 < json_object_array_length(au) ? "|" : "`",
		       t, jstr_or(e, "actor", "-"), jstr_or(e, "action", "-"),
		       jstr_or(e, "detail", ""));
	}
	json_object_put(o);
	return EX_OK;
}

static int cmd_blocks_release(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "incident", required_argument, NULL, 'i' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct ias_ctl_msg m;
	const char *incident = NULL;
	json_object *o, *a;
	uint32_t pid = 0;
	uint64_t id = 0;
	bool dry = false;
	int c, rc, sel = 0;
	size_t i, n;

	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!parse_pid(optarg, &pid))
				return usage_err("--pid: not a process id: '%s'", optarg);
			sel++;
			break;
		case 'i':
			incident = optarg;
			sel++;
			break;
		case 'n':
			dry = true;
			break;
		default:
			return bad_option("blocks release", argv, argc);
		}
	}
	for (i = (size_t)optind; i < (size_t)argc + 1; i++) {
		if (id || !parse_block_id(argv[i - 1], &id))
			return usage_err("blocks release: not a block id: '%s'", argv[i - 1]);
		sel++;
	}
	if (sel != 1)
		return usage_err("blocks release needs exactly one of ID, --pid P, --incident ID");
	req_init(&m, IAS_CTL_OP_RELEASE);
	if (pid)
		ias_ctl_put_u32(&m, IAS_CTL_A_PID, pid);
	if (id)
		ias_ctl_put_u64(&m, IAS_CTL_A_BLOCK_ID, id);
	if (incident)
		ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, incident);
	if (dry)
		ias_ctl_put_u8(&m, IAS_CTL_A_DRY_RUN, 1);
	if ((rc = call(&m, &o)))
		return rc;
	a = jarr(o, "blocks");
	n = a ? json_object_array_length(a) : 0;
	if (opt_json) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "dry_run", json_object_new_boolean(dry));
		json_object_object_add(r, "count",
				       json_object_new_uint64(jhas(o, "count") ? ju64(o, "count") : n));
		json_object_object_add(r, "blocks", a ? json_object_get(a) : json_object_new_array());
		print_json(r);
		json_object_put(r);
	} else {
		for (i = 0; i < n; i++) {
			json_object *b = json_object_array_get_idx(a, i);

			printf("%s block %" PRIu64 " (pid %" PRIu64 " %s, incident %s): %s\n",
			       dry ? "would release" : "released", ju64(b, "block_id"),
			       ju64(b, "pid"), jstr_or(b, "comm", "?"), jstr_or(b, "incident_id", "-"),
			       jstr_or(b, "release_note", "-"));
		}
		printf("%s %" PRIu64 " block(s)\n", dry ? "would release" : "released",
		       jhas(o, "count") ? ju64(o, "count") : (uint64_t)n);
	}
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

/* A listing request: with -o json the list is printed (an empty one as [])
 * and *o is NULL; otherwise *a is the list (NULL when empty) and the caller
 * releases *o. Returns the exit code of the call. */
static int call_list(struct ias_ctl_msg *m, const char *key, json_object **o,
		     json_object **a)
{
	int rc = call(m, o);

	*a = NULL;
	if (rc)
		return rc;
	if (opt_json) {
		print_json_list(*o, key);
		json_object_put(*o);
		*o = NULL;
		return EX_OK;
	}
	*a = jarr(*o, key);
	return EX_OK;
}

static int cmd_qps_list(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const head[] = { "QPN", "TYPE", "STATE", "PID", "COMM", "DEVICE",
					    "PORT", "REMOTE", "SOURCE", "BLOCKED" };
	struct ias_ctl_msg m;
	json_object *o, *a;
	struct table t;
	uint32_t pid = 0;
	size_t i;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "", lo, NULL)) != -1) {
		if (c != 'p')
			return bad_option("qps list", argv, argc);
		if (!parse_pid(optarg, &pid))
			return usage_err("--pid: not a process id: '%s'", optarg);
	}
	if (optind != argc + 1)
		return usage_err("qps list: unexpected argument '%s'", argv[optind - 1]);
	req_init(&m, IAS_CTL_OP_QPS_LIST);
	if (pid)
		ias_ctl_put_u32(&m, IAS_CTL_A_PID, pid);
	if ((rc = call_list(&m, "qps", &o, &a)) || !o)
		return rc;
	table_init(&t, 10, head);
	for (i = 0; a && i < json_object_array_length(a); i++) {
		json_object *q = json_object_array_get_idx(a, i), *d = jarr(q, "dests");
		char qpn[16], qpid[16], port[16], remote[96];
		const char *cells[10];

		snprintf(qpn, sizeof(qpn), "0x%" PRIx64, ju64(q, "qpn"));
		snprintf(qpid, sizeof(qpid), "%" PRIu64, ju64(q, "pid"));
		snprintf(port, sizeof(port), "%" PRIu64, ju64(q, "port"));
		if (jhas(q, "remote_lid") || jhas(q, "remote_qpn"))
			snprintf(remote, sizeof(remote), "lid %" PRIu64 " qp 0x%" PRIx64,
				 ju64(q, "remote_lid"), ju64(q, "remote_qpn"));
		else if (d)
			snprintf(remote, sizeof(remote), "%zu dest(s)", json_object_array_length(d));
		else
			snprintf(remote, sizeof(remote), "-");
		cells[0] = qpn;
		cells[1] = qp_type_name(ju64(q, "qp_type"));
		cells[2] = qp_state_name(ju64(q, "qp_state"));
		cells[3] = qpid;
		cells[4] = jstr_or(q, "comm", "-");
		cells[5] = jstr_or(q, "device", "-");
		cells[6] = port;
		cells[7] = remote;
		cells[8] = jstr_or(q, "source", "-");
		cells[9] = ju64(q, "blocked") ? "yes" : "no";
		table_row(&t, false, cells);
	}
	table_print(&t);
	json_object_put(o);
	return EX_OK;
}

/* ---- incidents ---------------------------------------------------------- */

static int cmd_incidents_list(int argc, char **argv)
{
	static const char *const head[] = { "ID", "ORIGIN", "NODE", "ROOT_PID", "REASON",
					    "STATE", "OPENED", "CLOSED" };
	struct ias_ctl_msg m;
	json_object *o, *a;
	struct table t;
	uint64_t now = now_ms();
	size_t i;
	int rc;

	(void)argv;
	if (argc != 0)
		return usage_err("incidents list takes no arguments");
	req_init(&m, IAS_CTL_OP_INCIDENTS_LIST);
	if ((rc = call_list(&m, "incidents", &o, &a)) || !o)
		return rc;
	table_init(&t, 8, head);
	for (i = 0; a && i < json_object_array_length(a); i++) {
		json_object *n = json_object_array_get_idx(a, i);
		char pid[16], opened[24], closed[24];
		uint64_t op = ju64(n, "opened_ms"), cl = ju64(n, "closed_ms");
		const char *cells[8];

		snprintf(pid, sizeof(pid), "%" PRIu64, ju64(n, "root_pid"));
		if (op && now > op) {
			fmt_span(now - op, opened, sizeof(opened) - 4);
			strcat(opened, " ago");
		} else {
			snprintf(opened, sizeof(opened), "-");
		}
		if (cl && now > cl) {
			fmt_span(now - cl, closed, sizeof(closed) - 4);
			strcat(closed, " ago");
		} else {
			snprintf(closed, sizeof(closed), "-");
		}
		cells[0] = jstr_or(n, "incident_id", "-");
		cells[1] = jstr_or(n, "origin", "-");
		cells[2] = jstr_or(n, "node", "-");
		cells[3] = pid;
		cells[4] = jstr_or(n, "reason", "-");
		cells[5] = jstr_or(n, "state", "-");
		cells[6] = opened;
		cells[7] = closed;
		table_row(&t, cl != 0, cells);
	}
	table_print(&t);
	json_object_put(o);
	return EX_OK;
}

/* Graphviz-safe quoting: only printable characters reach here (the codec
 * rejects control characters), so escaping quotes and backslashes is enough. */
static void dot_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void incident_dot(json_object *inc)
{
	json_object *ev = jarr(inc, "events");
	const char *prev = NULL;
	size_t i, j, n = ev ? json_object_array_length(ev) : 0;

	printf("digraph ");
	dot_str(jstr_or(inc, "incident_id", "incident"));
	printf(" {\n\trankdir=LR;\n\tnode [shape=box];\n");
	/* One box per node, listing what happened there. */
	for (i = 0; i < n; i++) {
		const char *node = jstr_or(json_object_array_get_idx(ev, i), "node", "?");
		bool seen = false;
		char label[2048];
		size_t k = 0;

		for (j = 0; j < i && !seen; j++)
			seen = strcmp(jstr_or(json_object_array_get_idx(ev, j), "node", "?"), node) == 0;
		if (seen)
			continue;
		k += (size_t)snprintf(label, sizeof(label), "%s", node);
		for (j = i; j < n && k < sizeof(label); j++) {
			json_object *e = json_object_array_get_idx(ev, j);

			if (strcmp(jstr_or(e, "node", "?"), node) != 0)
				continue;
			k += (size_t)snprintf(label + k, sizeof(label) - k, "\\n%s pid %" PRIu64,
					      jstr_or(e, "kind", "?"), ju64(e, "pid"));
		}
		printf("\t");
		dot_str(node);
		printf(" [label=\"");
		for (k = 0; label[k]; k++) {
			if (label[k] == '"')
				putchar('\\');
			putchar(label[k]);
		}
		printf("\"];\n");
	}
	/* Edges: from each hop to the node it went to, when the events say
	 * (the manager's view); otherwise each time the events, in time order,
	 * move to another node. */
	for (i = 0, j = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(ev, i);

		if (!jhas(e, "peer_node"))
			continue;
		j++;
		printf("\t");
		dot_str(jstr_or(e, "node", "?"));
		printf(" -> ");
		dot_str(jstr_or(e, "peer_node", "?"));
		printf(" [label=\"qp 0x%" PRIx64 "\"%s];\n", ju64(e, "qpn"),
		       strcmp(jstr_or(e, "kind", ""), "unreachable") == 0 ? ", style=dashed" : "");
	}
	for (i = 0; i < n && j == 0; i++) {
		json_object *e = json_object_array_get_idx(ev, i);
		const char *node = jstr_or(e, "node", "?");

		if (prev && strcmp(prev, node) != 0) {
			printf("\t");
			dot_str(prev);
			printf(" -> ");
			dot_str(node);
			if (jhas(e, "qpn"))
				printf(" [label=\"qp 0x%" PRIx64 "\"]", ju64(e, "qpn"));
			printf(";\n");
		}
		prev = node;
	}
	printf("}\n");
}

static void incident_tree(json_object *inc)
{
	json_object *ev = jarr(inc, "events");
	size_t i, j, n = ev ? json_object_array_length(ev) : 0, nn = 0;
	const char *nodes[256];
	char t[40];

	fmt_time(ju64(inc, "opened_ms"), t, sizeof(t));
	printf("%sIncident %s%s (%s): %s\n", bold(), jstr_or(inc, "incident_id", "?"), reset(),
	       jstr_or(inc, "state", "?"), jstr_or(inc, "reason", "-"));
	printf("   origin %s on %s, root pid %" PRIu64 ", opened %s\n",
	       jstr_or(inc, "origin", "-"), jstr_or(inc, "node", "-"), ju64(inc, "root_pid"), t);
	/* Nodes in the order the trace reached them, each with its events. */
	for (i = 0; i < n; i++) {
		const char *node = jstr_or(json_object_array_get_idx(ev, i), "node", "?");

		for (j = 0; j < nn && strcmp(nodes[j], node) != 0; j++)
			;
		if (j == nn && nn < 256)
			nodes[nn++] = node;
	}
	for (j = 0; j < nn; j++) {
		bool last_node = j + 1 == nn;
		size_t left = 0;

		for (i = 0; i < n; i++)
			if (strcmp(jstr_or(json_object_array_get_idx(ev, i), "node", "?"), nodes[j]) == 0)
				left++;
		printf("%s- %s\n", last_node ? "`" : "|", nodes[j]);
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(ev, i);
			char qp[24] = "";

			if (strcmp(jstr_or(e, "node", "?"), nodes[j]) != 0)
				continue;
			fmt_time(ju64(e, "ts_ms"), t, sizeof(t));
			if (jhas(e, "qpn"))
				snprintf(qp, sizeof(qp), " qp 0x%" PRIx64, ju64(e, "qpn"));
			printf("%s  %s- %s %s pid %" PRIu64 "%s: %s\n", last_node ? " " : "|",
			       --left ? "|" : "`", t, jstr_or(e, "kind", "?"), ju64(e, "pid"), qp,
			       jstr_or(e, "text", ""));
		}
	}
	if (!n)
		printf("`- (no events)\n");
}

static int cmd_incidents_show(int argc, char **argv)
{
	struct ias_ctl_msg m;
	json_object *o, *inc;
	const char *id = NULL;
	bool dot = false;
	int i, rc;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dot") == 0)
			dot = true;
		else if (argv[i][0] == '-' || id)
			return usage_err("usage: incidents show ID [--dot]");
		else
			id = argv[i];
	}
	if (!id)
		return usage_err("usage: incidents show ID [--dot]");
	if (strlen(id) > IAS_CTL_INCIDENT_ID_MAX)
		return usage_err("incidents show: incident id too long");
	req_init(&m, IAS_CTL_OP_INCIDENT_SHOW);
	ias_ctl_put_str(&m, IAS_CTL_A_INCIDENT_ID, id);
	if ((rc = call(&m, &o)))
		return rc;
	inc = jarr(o, "incidents") ? json_object_array_get_idx(jarr(o, "incidents"), 0) : NULL;
	if (dot)
		incident_dot(inc);
	else if (opt_json)
		print_json(inc ? inc : o);
	else
		incident_tree(inc);
	json_object_put(o);
	return EX_OK;
}

/* ---- allowlist ---------------------------------------------------------- */

static bool allow_kind_ok(const char *k)
{
	static const char *const kinds[] = { "exe", "user", "unit", "comm", "pid" };
	size_t i;

	for (i = 0; i < 5; i++)
		if (strcmp(k, kinds[i]) == 0)
			return true;
	return false;
}

static int cmd_allow_list(int argc, char **argv)
{
	static const char *const head[] = { "ID", "KIND", "VALUE", "CREATED", "NOTE" };
	struct ias_ctl_msg m;
	json_object *o, *a;
	struct table t;
	size_t i;
	int rc;

	(void)argv;
	if (argc != 0)
		return usage_err("allowlist list takes no arguments");
	req_init(&m, IAS_CTL_OP_ALLOW_LIST);
	if ((rc = call_list(&m, "allow", &o, &a)) || !o)
		return rc;
	table_init(&t, 5, head);
	for (i = 0; a && i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		char id[24], created[40];
		const char *cells[5];

		snprintf(id, sizeof(id), "%" PRIu64, ju64(e, "allow_id"));
		fmt_time(ju64(e, "created_ms"), created, sizeof(created));
		cells[0] = id;
		cells[1] = jstr_or(e, "kind", "-");
		cells[2] = jstr_or(e, "value", "-");
		cells[3] = created;
		cells[4] = jstr_or(e, "note", "-");
		table_row(&t, false, cells);
	}
	table_print(&t);
	json_object_put(o);
	return EX_OK;
}

static int cmd_allow_add_remove(int argc, char **argv, bool add)
{
	static const struct option lo[] = {
		{ "note", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct ias_ctl_msg m;
	const char *note = NULL;
	json_object *o, *e;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "", lo, NULL)) != -1) {
		if (c != 'n' || !add)
			return bad_option(add ? "allowlist add" : "allowlist remove", argv, argc);
		note = optarg;
	}
	if (argc + 1 - optind != 2)
		return usage_err("usage: allowlist %s KIND VALUE%s", add ? "add" : "remove",
				 add ? " [--note TEXT]" : "");
	argv += optind - 1;
	if (!allow_kind_ok(argv[0]))
		return usage_err("allowlist: KIND must be exe, user, unit, comm or pid, not '%s'",
				 argv[0]);
	req_init(&m, add ? IAS_CTL_OP_ALLOW_ADD : IAS_CTL_OP_ALLOW_REMOVE);
	ias_ctl_put_str(&m, IAS_CTL_A_KIND, argv[0]);
	ias_ctl_put_str(&m, IAS_CTL_A_VALUE, argv[1]);
	if (note)
		ias_ctl_put_str(&m, IAS_CTL_A_NOTE, note);
	if ((rc = call(&m, &o)))
		return rc;
	e = jarr(o, "allow") ? json_object_array_get_idx(jarr(o, "allow"), 0) : NULL;
	if (opt_json) {
		json_object *r = e ? json_object_get(e) : json_object_new_object();

		if (!add) {
			json_object_object_add(r, "kind", json_object_new_string(argv[0]));
			json_object_object_add(r, "value", json_object_new_string(argv[1]));
			json_object_object_add(r, "removed", json_object_new_boolean(1));
		}
		print_json(r);
		json_object_put(r);
	} else if (add) {
		printf("added %s %s to the never-block list (id %" PRIu64 ")\n", argv[0], argv[1],
		       ju64(e, "allow_id"));
	} else {
		printf("removed %s %s from the never-block list\n", argv[0], argv[1]);
	}
	json_object_put(o);
	return EX_OK;
}

/* ---- policy ------------------------------------------------------------- */

static void print_policy(json_object *p)
{
	static const char *const u32keys[] = { "base_duration_s", "max_duration_s", "escalation",
					       "hop_limit", "fanout_limit", "policy_version" };
	size_t i;

	printf("%-16s %s\n", "level", jstr_or(p, "level", "-"));
	printf("%-16s %s\n", "block_mode", jstr_or(p, "block_mode", "-"));
	printf("%-16s %s\n", "dry_run", jhas(p, "dry_run") ? (ju64(p, "dry_run") ? "yes" : "no") : "-");
	for (i = 0; i < sizeof(u32keys) / sizeof(u32keys[0]); i++) {
		if (jhas(p, u32keys[i]))
			printf("%-16s %" PRIu64 "\n", u32keys[i], ju64(p, u32keys[i]));
		else
			printf("%-16s -\n", u32keys[i]);
	}
}

static int show_policy_reply(json_object *o)
{
	json_object *p = jobj(o, "policy");

	if (opt_json)
		print_json(p ? p : o);
	else
		print_policy(p);
	json_object_put(o);
	return EX_OK;
}

static int cmd_policy_show(int argc, char **argv)
{
	struct ias_ctl_msg m;
	json_object *o;
	int rc;

	(void)argv;
	if (argc != 0)
		return usage_err("policy show takes no arguments");
	req_init(&m, IAS_CTL_OP_POLICY_SHOW);
	if ((rc = call(&m, &o)))
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

static int cmd_policy_set(int argc, char **argv)
{
	static const char *const levels[] = { "basic", "sibling", "lca", "selinux", "zone" };
	static const char *const modes[] = { "pause", "cut", "freeze", "kill" };
	static const struct { const char *key; uint16_t type; } nums[] = {
		{ "base_duration_s", IAS_CTL_A_BASE_DURATION_S },
		{ "max_duration_s", IAS_CTL_A_MAX_DURATION_S },
		{ "escalation", IAS_CTL_A_ESCALATION },
		{ "hop_limit", IAS_CTL_A_HOP_LIMIT },
		{ "fanout_limit", IAS_CTL_A_FANOUT_LIMIT },
	};
	struct ias_ctl_msg m;
	json_object *o;
	int i, rc;

	if (argc == 0)
		return usage_err("usage: policy set KEY=VALUE... (or policy set LEVEL)");
	req_init(&m, IAS_CTL_OP_POLICY_SET);
	ias_ctl_nest_begin(&m, IAS_CTL_A_POLICY);
	for (i = 0; i < argc; i++) {
		char key[32];
		const char *eq = strchr(argv[i], '='), *val;
		size_t k, klen;
		bool done = false;

		if (!eq) { /* "policy set lca" */
			if (!one_of(argv[i], levels, 5) || argc != 1)
				return usage_err("policy set: expected KEY=VALUE, not '%s'", argv[i]);
			ias_ctl_put_str(&m, IAS_CTL_A_LEVEL, argv[i]);
			continue;
		}
		klen = (size_t)(eq - argv[i]);
		if (klen == 0 || klen >= sizeof(key))
			return usage_err("policy set: bad key in '%s'", argv[i]);
		memcpy(key, argv[i], klen);
		key[klen] = '\0';
		for (k = 0; k < klen; k++)
			if (key[k] == '-')
				key[k] = '_';
		val = eq + 1;
		if (strcmp(key, "level") == 0) {
			if (!one_of(val, levels, 5))
				return usage_err("policy set: level must be basic, sibling, lca, selinux or zone");
			ias_ctl_put_str(&m, IAS_CTL_A_LEVEL, val);
			done = true;
		} else if (strcmp(key, "block_mode") == 0) {
			if (!one_of(val, modes, 4))
				return usage_err("policy set: block_mode must be pause, cut, freeze or kill");
			ias_ctl_put_str(&m, IAS_CTL_A_BLOCK_MODE, val);
			done = true;
		} else if (strcmp(key, "dry_run") == 0) {
			uint8_t b;

			if (!parse_bool(val, &b))
				return usage_err("policy set: dry_run must be yes or no");
			ias_ctl_put_u8(&m, IAS_CTL_A_DRY_RUN, b);
			done = true;
		}
		for (k = 0; !done && k < sizeof(nums) / sizeof(nums[0]); k++) {
			uint64_t v;

			if (strcmp(key, nums[k].key) != 0)
				continue;
			if (!parse_u64(val, UINT32_MAX, &v))
				return usage_err("policy set: %s needs a number, not '%s'", key, val);
			ias_ctl_put_u32(&m, nums[k].type, (uint32_t)v);
			done = true;
		}
		if (!done)
			return usage_err("policy set: unknown key '%s'", key);
	}
	ias_ctl_nest_end(&m);
	if ((rc = call(&m, &o)))
		return rc;
	return show_policy_reply(o);
}

/* ---- fabric (through the manager) ------------------------------------------ */

static int cmd_fabric_status(int argc, char **argv)
{
	static const char *const head[] = { "NODE", "LID", "GUID", "TYPE", "AGENT", "POLICY",
					    "BLOCKS", "REPORTS", "LAST_REPORT" };
	struct ias_ctl_msg m;
	json_object *o, *a;
	struct table t;
	uint64_t now = now_ms();
	size_t i;
	int rc;

	(void)argv;
	if (argc != 0)
		return usage_err("fabric status takes no arguments");
	req_init(&m, IAS_CTL_OP_FABRIC_STATUS);
	if ((rc = call(&m, &o)))
		return rc;
	if (opt_json) {
		if (!jarr(o, "nodes"))
			json_object_object_add(o, "nodes", json_object_new_array());
		print_json(o);
		json_object_put(o);
		return EX_OK;
	}
	printf("%sManager%s: %s, master SM LID %" PRIu64 " GUID 0x%016" PRIx64
	       ", fabric policy version %" PRIu64 ", %" PRIu64 " report(s)\n",
	       bold(), reset(), jstr_or(o, "role", "?"), ju64(o, "sm_lid"), ju64(o, "sm_guid"),
	       ju64(o, "policy_version"), ju64(o, "reports"));
	a = jarr(o, "nodes");
	table_init(&t, 9, head);
	for (i = 0; a && i < json_object_array_length(a); i++) {
		json_object *n = json_object_array_get_idx(a, i);
		char lid[16], guid[24], pol[48], blk[16], reps[24], last[32];
		bool agent = jhas(n, "agent") && ju64(n, "agent");
		const char *cells[9];
		uint64_t lr = ju64(n, "last_report_ms");

		snprintf(lid, sizeof(lid), "%" PRIu64, ju64(n, "lid"));
		snprintf(guid, sizeof(guid), "0x%016" PRIx64, ju64(n, "node_guid"));
		if (jhas(n, "policy_version"))
			snprintf(pol, sizeof(pol), "v%" PRIu64 " %s", ju64(n, "policy_version"),
				 jstr_or(n, "policy_state", ""));
		else
			snprintf(pol, sizeof(pol), "%s", agent ? jstr_or(n, "policy_state", "-") : "-");
		snprintf(blk, sizeof(blk), agent ? "%" PRIu64 : "-", ju64(n, "blocks_active"));
		snprintf(reps, sizeof(reps), agent ? "%" PRIu64 : "-", ju64(n, "reports"));
		if (lr && now > lr) {
			fmt_span(now - lr, last, sizeof(last) - 4);
			strcat(last, " ago");
		} else {
			snprintf(last, sizeof(last), "-");
		}
		cells[0] = jstr_or(n, "node", "-");
		cells[1] = lid;
		cells[2] = guid;
		cells[3] = jstr_or(n, "node_type", "-");
		cells[4] = !agent ? "-" : ju64(n, "reachable") ? "reachable" : "unreachable";
		cells[5] = pol;
		cells[6] = blk;
		cells[7] = reps;
		cells[8] = last;
		table_row(&t, !agent || !ju64(n, "reachable"), cells);
	}
	table_print(&t);
	json_object_put(o);
	return EX_OK;
}

/* ---- main --------------------------------------------------------------- */

static int help(FILE *f)
{
	fprintf(f,
		"Usage: %s [OPTIONS] NOUN VERB [ARGS]\n"
		"\n"
		"Options (before the noun):\n"
		"  --socket PATH            agent control socket (default $IAS_SOCKET or %s)\n"
		"  --manager                talk to the fabric's manager (sem) instead: socket\n"
		"                           $IAS_MANAGER_SOCKET or %s\n"
		"  -o, --output human|json  output format (listings print a JSON array)\n"
		"  --color auto|always|never\n"
		"  -h, --help               this help\n"
		"  --version                print the version\n"
		"\n"
		"Commands:\n"
		"  status\n"
		"  report --pid P [--reason TEXT] [--override] [--duration SECONDS]\n"
		"         [--incident ID]\n"
		"  blocks list [--pid P] [--incident ID] [--all]\n"
		"  blocks inspect ID\n"
		"  blocks release ID | --pid P | --incident ID [--dry-run]\n"
		"  qps list [--pid P]\n"
		"  incidents list\n"
		"  incidents show ID [--dot]\n"
		"  allowlist list\n"
		"  allowlist add KIND VALUE [--note TEXT]   (KIND: exe user unit comm pid)\n"
		"  allowlist remove KIND VALUE\n"
		"  policy show\n"
		"  policy set KEY=VALUE...   (level block_mode dry_run base_duration_s\n"
		"                             max_duration_s escalation hop_limit fanout_limit)\n"
		"  fabric status             (always asks the manager)\n"
		"With --manager: status, incidents list|show, policy show|set act on the\n"
		"fabric (the manager's view, built from every agent's reports).\n"
		"\n"
		"Exit status: 0 ok, 1 refused by the agent, 2 usage error, 3 agent unreachable,\n"
		"4 permission denied, 5 not found, 6 on the never-block list, 7 nothing pending.\n",
		prog, IAS_CTL_DEFAULT_SOCKET, IAS_CTL_MANAGER_SOCKET);
	return f == stdout ? EX_OK : EX_USAGE;
}

struct command {
	const char *noun, *verb;
	int (*fn)(int argc, char **argv);
};

static int cmd_allow_add(int argc, char **argv) { return cmd_allow_add_remove(argc, argv, true); }
static int cmd_allow_remove(int argc, char **argv) { return cmd_allow_add_remove(argc, argv, false); }

static const struct command commands[] = {
	{ "status", NULL, cmd_status },
	{ "report", NULL, cmd_report },
	{ "blocks", "list", cmd_blocks_list },
	{ "blocks", "inspect", cmd_blocks_inspect },
	{ "blocks", "release", cmd_blocks_release },
	{ "qps", "list", cmd_qps_list },
	{ "incidents", "list", cmd_incidents_list },
	{ "incidents", "show", cmd_incidents_show },
	{ "allowlist", "list", cmd_allow_list },
	{ "allowlist", "add", cmd_allow_add },
	{ "allowlist", "remove", cmd_allow_remove },
	{ "policy", "show", cmd_policy_show },
	{ "policy", "set", cmd_policy_set },
	{ "fabric", "status", cmd_fabric_status },
};

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "manager", no_argument, NULL, 'M' },
		{ "output", required_argument, NULL, 'o' },
		{ "color", required_argument, NULL, 'C' },
		{ "colour", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *color = "auto";
	const struct command *cmd = NULL;
	bool noun_known = false;
	size_t i;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'S':
			opt_socket = optarg;
			break;
		case 'M':
			opt_manager = true;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				opt_json = true;
			else if (strcmp(optarg, "human") == 0)
				opt_json = false;
			else
				return usage_err("-o: expected human or json, not '%s'", optarg);
			break;
		case 'C':
			color = optarg;
			if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never"))
				return usage_err("--color: expected auto, always or never");
			break;
		case 'h':
			return help(stdout);
		case 'V':
			printf("iasctl (IAS) %s, control protocol %d\n", PACKAGE_VERSION,
			       IAS_CTL_VERSION);
			return EX_OK;
		default:
			return usage_err("bad or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (strcmp(color, "always") == 0)
		opt_color = true;
	else if (strcmp(color, "auto") == 0)
		opt_color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !opt_json;
	if (opt_json)
		opt_color = false;
	if (optind >= argc)
		return help(stderr);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].noun, argv[optind]) != 0)
			continue;
		noun_known = true;
		if (!commands[i].verb ||
		    (optind + 1 < argc && strcmp(commands[i].verb, argv[optind + 1]) == 0)) {
			cmd = &commands[i];
			break;
		}
	}
	if (!cmd) {
		if (noun_known)
			return usage_err("%s: unknown or missing verb%s%s", argv[optind],
					 optind + 1 < argc ? " " : "",
					 optind + 1 < argc ? argv[optind + 1] : "");
		return usage_err("unknown command '%s'", argv[optind]);
	}
	optind += cmd->verb ? 2 : 1;
	/* The manager's socket: --manager, or a command only it serves;
	 * --socket still names the socket explicitly. */
	if ((opt_manager || cmd->fn == cmd_fabric_status) && !opt_socket) {
		opt_socket = getenv(IAS_CTL_MANAGER_SOCKET_ENV);
		if (!opt_socket || !*opt_socket)
			opt_socket = IAS_CTL_MANAGER_SOCKET;
	}
	return cmd->fn(argc - optind, argv + optind);
}
