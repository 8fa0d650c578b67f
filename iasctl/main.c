/* iasctl: the operator's command line for the IAS agent on this node and
 * for the fabric's manager.
 *
 *   iasctl [--socket PATH] [--manager] [-o human|json] [--color auto|always|never]
 *          NOUN VERB ...
 *
 * This file: the options, the command table, each command's arguments, and
 * the one way a request reaches a daemon. See iasctl.h for the other files. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "iasctl/iasctl.h"
#include "verbs_ext/ias.h"

struct iasctl_opts iasctl_opt;

static const char *const prog = "iasctl";

static const struct command commands[] = {
	{ "status", NULL, "", 0, 0, 0, cmd_status },
	{ "report", NULL, "--pid P [--reason TEXT] [--override] [--duration SECONDS]\n"
	  "         [--incident ID]\n"
	  "       report --qp DEV:QPN [--reason TEXT]   (this QP is attacked by its remote end)",
	  ARG_PID | ARG_REASON | ARG_OVERRIDE | ARG_DURATION | ARG_INCIDENT | ARG_QP, 0, 0,
	  cmd_report },
	{ "blocks", "list", "[--pid P] [--incident ID] [--all]", ARG_PID | ARG_INCIDENT | ARG_ALL,
	  0, 0, cmd_blocks_list },
	{ "blocks", "inspect", "ID", 0, 1, 1, cmd_blocks_inspect },
	{ "blocks", "release", "ID | --pid P | --incident ID [--dry-run]",
	  ARG_PID | ARG_INCIDENT | ARG_DRY_RUN, 0, 1, cmd_blocks_release },
	{ "qps", "list", "[--pid P]", ARG_PID, 0, 0, cmd_qps_list },
	{ "incidents", "list", "", 0, 0, 0, cmd_incidents_list },
	{ "incidents", "show", "ID [--dot]", ARG_DOT, 1, 1, cmd_incidents_show },
	{ "allowlist", "list", "", 0, 0, 0, cmd_allow_list },
	{ "allowlist", "add", "KIND VALUE [--note TEXT]   (KIND: exe user unit comm pid)",
	  ARG_NOTE, 2, 2, cmd_allow_add },
	{ "allowlist", "remove", "KIND VALUE", 0, 2, 2, cmd_allow_remove },
	{ "policy", "show", "", 0, 0, 0, cmd_policy_show },
	{ "policy", "set", "KEY=VALUE...   (level block_mode dry_run base_duration_s\n"
	  "                             max_duration_s escalation hop_limit fanout_limit)",
	  0, 1, -1, cmd_policy_set },
	{ "fabric", "status", "            (always asks the manager)", 0, 0, 0,
	  cmd_fabric_status },
};

/* ---- small helpers ------------------------------------------------------ */

int usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return EX_USAGE;
}

bool parse_u64(const char *s, uint64_t max, uint64_t *out)
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

bool parse_block_id(const char *s, uint64_t *id)
{
	return parse_u64(s, UINT64_MAX, id) && *id != 0;
}

/* DEV:QPN, the QPN in hex (0x optional) or decimal with a leading '#'? No:
 * hex as the QP listings print it, with or without 0x. */
static bool parse_qp(const char *s, struct cmd_args *a)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long v;

	if (!colon || colon == s || (size_t)(colon - s) > IAS_CTL_DEVICE_MAX || !colon[1])
		return false;
	errno = 0;
	v = strtoul(colon + 1, &end, 16);
	if (errno || *end || v == 0 || v > 0xffffff || colon[1] == '-' || colon[1] == '+')
		return false;
	memcpy(a->qp_dev, s, (size_t)(colon - s));
	a->qp_dev[colon - s] = 0;
	a->qpn = (uint32_t)v;
	return true;
}

static bool parse_pid(const char *s, uint32_t *pid)
{
	uint64_t v;

	if (!parse_u64(s, INT32_MAX, &v) || v == 0)
		return false;
	*pid = (uint32_t)v;
	return true;
}

/* ---- a command's arguments --------------------------------------------- */

static int usage_of(const struct command *c)
{
	const char *nl = strchr(c->usage, '\n');
	int n = nl ? (int)(nl - c->usage) : (int)strlen(c->usage);

	return usage_err("usage: %s%s%s %.*s", c->noun, c->verb ? " " : "", c->verb ? c->verb : "",
			 n, c->usage);
}

/* One option's value, checked; ARG_* flags only set a bit. */
static int take_option(struct cmd_args *a, unsigned arg)
{
	uint64_t v;

	switch (arg) {
	case ARG_PID:
		if (!parse_pid(optarg, &a->pid))
			return usage_err("--pid: not a process id: '%s'", optarg);
		break;
	case ARG_INCIDENT:
		if (!*optarg || strlen(optarg) > IAS_CTL_INCIDENT_ID_MAX)
			return usage_err("--incident: an incident id of 1 to %d bytes",
					 IAS_CTL_INCIDENT_ID_MAX);
		a->incident = optarg;
		break;
	case ARG_REASON:
		if (strlen(optarg) > IAS_CTL_REASON_MAX)
			return usage_err("--reason: longer than %d bytes", IAS_CTL_REASON_MAX);
		a->reason = optarg;
		break;
	case ARG_NOTE:
		if (strlen(optarg) > IAS_CTL_STR_MAX)
			return usage_err("--note: longer than %d bytes", IAS_CTL_STR_MAX);
		a->note = optarg;
		break;
	case ARG_QP:
		if (!parse_qp(optarg, a))
			return usage_err("--qp: not DEVICE:QPN (QPN in hex, 24-bit, non-zero): '%s'",
					 optarg);
		break;
	case ARG_DURATION:
		if (!parse_u64(optarg, UINT32_MAX, &v))
			return usage_err("--duration: not a number of seconds: '%s'", optarg);
		a->duration_s = (uint32_t)v;
		break;
	default:
		break;
	}
	a->seen |= arg;
	return EX_OK;
}

/* Options (anywhere) and positional arguments after noun and verb. */
static int parse_args(const struct command *c, int argc, char **argv, struct cmd_args *a)
{
	static const struct option lo[] = {
		{ "pid", required_argument, NULL, ARG_PID },
		{ "incident", required_argument, NULL, ARG_INCIDENT },
		{ "reason", required_argument, NULL, ARG_REASON },
		{ "override", no_argument, NULL, ARG_OVERRIDE },
		{ "duration", required_argument, NULL, ARG_DURATION },
		{ "all", no_argument, NULL, ARG_ALL },
		{ "dry-run", no_argument, NULL, ARG_DRY_RUN },
		{ "note", required_argument, NULL, ARG_NOTE },
		{ "dot", no_argument, NULL, ARG_DOT },
		{ "qp", required_argument, NULL, ARG_QP },
		{ NULL, 0, NULL, 0 },
	};
	int o, rc;

	/* getopt over argv - 1: argv[-1] is the verb (or noun), as argv[0]. */
	optind = 0;
	while ((o = getopt_long(argc + 1, argv - 1, "", lo, NULL)) != -1) {
		/* every option's value is one ARG_* bit; '?' and ':' are not */
		if (o <= 0 || (o & (o - 1)) || !((unsigned)o & c->opts)) {
			const char *bad = optind >= 2 && optind - 1 <= argc ? argv[optind - 2] : "?";

			return usage_err("%s: bad or incomplete option '%s'", a->name, bad);
		}
		if ((rc = take_option(a, (unsigned)o)))
			return rc;
	}
	a->pos = argv + optind - 1;
	a->npos = argc + 1 - optind;
	if (a->npos > 0 && c->max_pos == 0)
		return usage_err("%s: unexpected argument '%s'", a->name, a->pos[0]);
	if (a->npos < c->min_pos || (c->max_pos >= 0 && a->npos > c->max_pos))
		return usage_of(c);
	return EX_OK;
}

/* ---- talking to a daemon ------------------------------------------------ */

static uint8_t reqbuf[IAS_CTL_MAX_MSG], repbuf[IAS_CTL_MAX_MSG];

static int errno_exit(int err)
{
	return err == -EACCES || err == -EPERM ? EX_PERM : EX_UNREACH;
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

void iasctl_req(struct ias_ctl_msg *m, uint16_t op)
{
	ias_ctl_msg_init(m, reqbuf, sizeof(reqbuf), IAS_CTL_REQUEST, op, 0, 0);
}

static void say_error(const char *msg)
{
	char *clean = out_clean(msg);

	fprintf(stderr, "%s: %s%s%s\n", prog, out_red(), clean, out_reset());
	free(clean);
}

int iasctl_call(struct ias_ctl_msg *m, json_object **out)
{
	struct ias_client *c = NULL;
	struct ias_ctl_hdr h;
	struct ias_rd r;
	size_t len;
	int rc;

	*out = NULL;
	rc = ias_client_open(iasctl_opt.socket, &c);
	if (rc) {
		say_error(ias_strerror(rc));
		return errno_exit(rc);
	}
	rc = ias_client_call(c, m, repbuf, sizeof(repbuf), &len);
	ias_client_close(c);
	if (rc == -ENOSPC || rc == -EINVAL) {
		fprintf(stderr, "%s: request too large\n", prog);
		return EX_USAGE;
	}
	if (rc) {
		say_error(ias_strerror(rc));
		return rc == -EBADMSG ? EX_AGENT : errno_exit(rc);
	}
	ias_ctl_parse_hdr(repbuf, len, &h, &r);
	*out = out_reply_json(&r, 0);
	if (h.status != 0) {
		const char *msg = jstr(*out, "message");

		say_error(msg && *msg ? msg : ias_ctl_strerror(h.status));
		json_object_put(*out);
		*out = NULL;
		return status_exit(h.status);
	}
	return EX_OK;
}

int iasctl_list(struct ias_ctl_msg *m, const char *key, int ncol, const char *const *head,
		list_row_fn row)
{
	uint64_t now = out_now_ms();
	struct out_table t;
	json_object *o, *a;
	size_t i;
	int rc;

	if ((rc = iasctl_call(m, &o)))
		return rc;
	if (iasctl_opt.json) {
		out_json_list(stdout, o, key);
	} else {
		a = jarr(o, key);
		out_table_init(&t, ncol, head);
		for (i = 0; i < jlen(a); i++)
			row(&t, jat(a, i), now);
		out_table_print(stdout, &t);
	}
	json_object_put(o);
	return EX_OK;
}

/* ---- main --------------------------------------------------------------- */

static int help(FILE *f)
{
	size_t i;

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
		"Commands:\n",
		prog, IAS_CTL_DEFAULT_SOCKET, IAS_CTL_MANAGER_SOCKET);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];

		fprintf(f, "  %s%s%s%s%s\n", c->noun, c->verb ? " " : "", c->verb ? c->verb : "",
			*c->usage ? " " : "", c->usage);
	}
	fprintf(f,
		"With --manager: status, incidents list|show, policy show|set act on the\n"
		"fabric (the manager's view, built from every agent's reports).\n"
		"\n"
		"Exit status: 0 ok, 1 refused by the agent, 2 usage error, 3 agent unreachable,\n"
		"4 permission denied, 5 not found, 6 on the never-block list, 7 nothing pending.\n");
	return f == stdout ? EX_OK : EX_USAGE;
}

/* The command named at argv[0] (and argv[1]), or NULL after a usage error. */
static const struct command *find_command(int argc, char **argv)
{
	bool noun_known = false;
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].noun, argv[0]) != 0)
			continue;
		noun_known = true;
		if (!commands[i].verb || (argc > 1 && strcmp(commands[i].verb, argv[1]) == 0))
			return &commands[i];
	}
	if (noun_known)
		usage_err("%s: unknown or missing verb%s%s", argv[0], argc > 1 ? " " : "",
			  argc > 1 ? argv[1] : "");
	else
		usage_err("unknown command '%s'", argv[0]);
	return NULL;
}

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
	const struct command *cmd;
	struct cmd_args a = { 0 };
	char name[64];
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'S':
			iasctl_opt.socket = optarg;
			break;
		case 'M':
			iasctl_opt.manager = true;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				iasctl_opt.json = true;
			else if (strcmp(optarg, "human") == 0)
				iasctl_opt.json = false;
			else
				return usage_err("-o: expected human or json, not '%s'", optarg);
			break;
		case 'C':
			color = optarg;
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
	rc = out_color_choose(color, STDOUT_FILENO, iasctl_opt.json);
	if (rc < 0)
		return usage_err("--color: expected auto, always or never");
	out_color_set(rc == 1);
	if (optind >= argc)
		return help(stderr);
	cmd = find_command(argc - optind, argv + optind);
	if (!cmd)
		return EX_USAGE;
	optind += cmd->verb ? 2 : 1;
	snprintf(name, sizeof(name), "%s%s%s", cmd->noun, cmd->verb ? " " : "",
		 cmd->verb ? cmd->verb : "");
	a.name = name;
	if ((rc = parse_args(cmd, argc - optind, argv + optind, &a)))
		return rc;
	/* The manager's socket: --manager, or a command only it serves;
	 * --socket still names the socket explicitly. */
	if ((iasctl_opt.manager || cmd->fn == cmd_fabric_status) && !iasctl_opt.socket) {
		iasctl_opt.socket = getenv(IAS_CTL_MANAGER_SOCKET_ENV);
		if (!iasctl_opt.socket || !*iasctl_opt.socket)
			iasctl_opt.socket = IAS_CTL_MANAGER_SOCKET;
	}
	return cmd->fn(&a);
}
