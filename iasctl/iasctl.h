/* iasctl's private interface between its files:
 *   main.c       options, the command table, argument parsing, dispatch, and
 *                the one call to a daemon (iasctl_call);
 *   agent.c      what only the agent serves: report, blocks, qps, allowlist;
 *   manager.c    what the manager serves: status and policy (the agent
 *                serves them too; one function each, the reply decides what
 *                is shown) and fabric status;
 *   incidents.c  incidents list and show: the tree and the DOT graph;
 *   output.[ch]  tables, JSON, colour, time formats.
 * Every reply is decoded once into a JSON tree (output.h) and both output
 * formats are rendered from it. Exit codes are stable; see iasctl(8). */
#ifndef IAS_IASCTL_IASCTL_H
#define IAS_IASCTL_IASCTL_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "ctl/proto.h"
#include "iasctl/output.h"

enum {
	EX_OK = 0,
	EX_AGENT = 1,      /* refused by the daemon for another reason */
	EX_USAGE = 2,
	EX_UNREACH = 3,    /* cannot reach the daemon */
	EX_PERM = 4,
	EX_NOENT = 5,
	EX_NEVERBLOCK = 6,
	EX_AGAIN = 7,
};

/* The options before the noun, set once by main. */
struct iasctl_opts {
	const char *socket; /* NULL: the library's default ($IAS_SOCKET, ...) */
	bool manager;       /* talking to the manager */
	bool json;          /* -o json */
};
extern struct iasctl_opts iasctl_opt;

/* A command's options, each accepted only where its command says. */
enum {
	ARG_PID = 1u << 0,      /* --pid P */
	ARG_INCIDENT = 1u << 1, /* --incident ID */
	ARG_REASON = 1u << 2,   /* --reason TEXT */
	ARG_OVERRIDE = 1u << 3, /* --override */
	ARG_DURATION = 1u << 4, /* --duration SECONDS */
	ARG_ALL = 1u << 5,      /* --all */
	ARG_DRY_RUN = 1u << 6,  /* --dry-run */
	ARG_NOTE = 1u << 7,     /* --note TEXT */
	ARG_DOT = 1u << 8,      /* --dot */
	ARG_QP = 1u << 9,       /* --qp DEV:QPN */
};

struct cmd_args {
	const char *name;   /* "blocks release", for messages */
	unsigned seen;      /* ARG_* given */
	uint32_t pid;
	uint32_t duration_s;
	const char *incident, *reason, *note;
	char qp_dev[IAS_CTL_DEVICE_MAX + 1]; /* --qp DEV:QPN */
	uint32_t qpn;
	int npos;           /* positional arguments, in order */
	char **pos;
};

struct command {
	const char *noun, *verb; /* verb NULL: the noun alone */
	const char *usage;       /* what follows noun and verb, for help */
	unsigned opts;           /* ARG_* accepted */
	int min_pos, max_pos;    /* max_pos -1: no limit */
	int (*fn)(const struct cmd_args *a);
};

/* Print "iasctl: MESSAGE" and the hint to stderr; returns EX_USAGE. */
__attribute__((format(printf, 1, 2)))
int usage_err(const char *fmt, ...);
/* Strict unsigned decimal: digits only, in range. */
bool parse_u64(const char *s, uint64_t max, uint64_t *out);
/* A block id: decimal, not 0. */
bool parse_block_id(const char *s, uint64_t *id);

/* A request for op in the one request buffer. */
void iasctl_req(struct ias_ctl_msg *m, uint16_t op);
/* Send it; on success *out is the reply as JSON (the caller puts it). On
 * failure print why to stderr and return the exit code. */
int iasctl_call(struct ias_ctl_msg *m, json_object **out);
/* A listing: send m; with -o json print the array under key (or []);
 * otherwise print a table of head with one row per item, each made by row. */
typedef void (*list_row_fn)(struct out_table *t, json_object *item, uint64_t now);
int iasctl_list(struct ias_ctl_msg *m, const char *key, int ncol, const char *const *head,
		list_row_fn row);

/* The commands (the table in main.c lists them). */
int cmd_report(const struct cmd_args *a);
int cmd_blocks_list(const struct cmd_args *a);
int cmd_blocks_inspect(const struct cmd_args *a);
int cmd_blocks_release(const struct cmd_args *a);
int cmd_qps_list(const struct cmd_args *a);
int cmd_allow_list(const struct cmd_args *a);
int cmd_allow_add(const struct cmd_args *a);
int cmd_allow_remove(const struct cmd_args *a);
int cmd_status(const struct cmd_args *a);
int cmd_policy_show(const struct cmd_args *a);
int cmd_policy_set(const struct cmd_args *a);
int cmd_fabric_status(const struct cmd_args *a);
int cmd_incidents_list(const struct cmd_args *a);
int cmd_incidents_show(const struct cmd_args *a);

#endif
