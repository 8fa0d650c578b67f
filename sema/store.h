/* sema/store: the agent's durable state, kept in SQLite.
 *
 * One file, <state_dir>/sema.db, in WAL mode with synchronous=FULL: when a
 * write call returns 0 outside an explicit transaction (or ias_store_commit
 * returns 0), the change is on disk. Schema and policies: docs/store-schema.md.
 *
 * Conventions
 * - Every int-returning call gives 0 on success or a negative errno:
 *   -EINVAL bad argument, -ENAMETOOLONG a text value does not fit its field
 *   (nothing is written), -ENOENT no such record, -EEXIST duplicate,
 *   -EALREADY already released, -ERANGE output buffer too small,
 *   -EBUSY the database stayed locked past the busy timeout, -ENOMEM,
 *   -ENOSPC disk full, -EUCLEAN the file is damaged or not a database,
 *   -EIO any other SQLite failure.
 *   After a failure ias_store_errmsg() says what went wrong.
 * - Text fields of the records below are NUL-terminated. Input longer than
 *   the field (or a field with no NUL inside it) is refused with
 *   -ENAMETOOLONG; text read back is always NUL-terminated and bounded by the
 *   field, even if the file was edited by something else.
 * - Nothing is ever deleted through this API: blocks are released, alerts
 *   are marked taken, allow-list entries are marked removed, the audit log is
 *   append-only (enforced by triggers).
 * - foreach calls visit records in batches and hold no statement open while a
 *   callback runs, so a callback may call any other ias_store_* function
 *   (e.g. release the block it is shown). A callback returning non-zero stops
 *   the walk; foreach then returns that value.
 * - Transactions: ias_store_begin/commit/rollback nest (inner levels are
 *   savepoints). Calls made inside an explicit transaction join it; each call
 *   still undoes its own partial work if it fails, without ending the outer
 *   transaction.
 * - A struct ias_store is used by one thread at a time.
 */
#ifndef IAS_SEMA_STORE_H
#define IAS_SEMA_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Schema version this code writes; a database with a higher
 * PRAGMA user_version is refused by ias_store_open (-EPROTO). */
#define IAS_STORE_SCHEMA_VERSION 4
#define IAS_STORE_DB_NAME "sema.db"

/* Bounds of text passed as plain strings (bytes, NUL excluded). */
#define IAS_STORE_ACTOR_MAX   63
#define IAS_STORE_ACTION_MAX  63
#define IAS_STORE_DETAIL_MAX  4095
#define IAS_STORE_KEY_MAX     127
#define IAS_STORE_VALUE_MAX   65535
#define IAS_STORE_SEQNAME_MAX 63

struct ias_store;

/* Opens (creating if needed) <state_dir>/sema.db; state_dir is created with
 * mode 0750 if missing (its parent must exist), the database file with mode
 * 0640. Applies pending schema migrations. On failure *out is NULL and err
 * (if not NULL) holds a message. -EPROTO: the database is newer than this
 * code or is not an IAS store. -EBADMSG: a migration met old text it cannot
 * parse (the message names the row; the file is left at its version).
 * -EUCLEAN: an existing file is damaged (empty, truncated, not SQLite, or
 * failing PRAGMA quick_check); it is left untouched, see "Recovering a
 * damaged store" in docs/store-schema.md. A missing file is created. */
int  ias_store_open(const char *state_dir, struct ias_store **out, char *err, size_t errlen);
/* Rolls back an open explicit transaction, then closes. NULL is fine. */
void ias_store_close(struct ias_store *st);
/* Message for the last failed call on st ("" if none yet). */
const char *ias_store_errmsg(struct ias_store *st);

#define IAS_MAX_QPS_PER_BLOCK 256
struct ias_block_rec {
	int64_t  id;               /* assigned by the store */
	char     origin[16];       /* "analyzer", "trace", "manual", "manager" */
	char     node[64];
	int32_t  pid;
	uint32_t uid;
	char     comm[32];
	char     exe[256];         /* for escalation: same exe = same offender */
	char     reason[256];
	char     incident[32];     /* e.g. "I-00000001a3f40012"; "" if none */
	uint32_t mech;             /* IAS_MECH_* bits; 0: nothing enforced */
	uint32_t qp_orders;        /* QPs told to pause or cut through libias */
	uint64_t pid_start;        /* the process's start time (clock ticks after boot,
	                              /proc/PID/stat field 22); with pid it names the
	                              process: 0 = unknown (a block from schema <= 3) */
	uint32_t nqps;
	uint32_t qpns[IAS_MAX_QPS_PER_BLOCK];
	int64_t  created_ms, until_ms /* 0 = no end */, released_ms /* 0 = active */;
	uint32_t offence;          /* 1 for a first offence */
	int      simulated;        /* dry-run: recorded, not enforced */
	char     release_note[256];
};
/* What a block does, typed (schema 4; schema 3 kept it as text such as
 * "pause(2),freeze", which the migration parses). A dry-run block keeps the
 * bits of what it would have done; its simulated flag says nothing was. */
enum ias_mech {
	IAS_MECH_PAUSE  = 1u << 0,	/* per-QP pause orders through libias */
	IAS_MECH_CUT    = 1u << 1,	/* per-QP cut orders through libias */
	IAS_MECH_FREEZE = 1u << 2,	/* the process frozen from outside */
	IAS_MECH_KILL   = 1u << 3,	/* the process killed */
};
#define IAS_MECH_ALL (IAS_MECH_PAUSE | IAS_MECH_CUT | IAS_MECH_FREEZE | IAS_MECH_KILL)
/* "pause(2),freeze", "kill", "none" (mech 0): for logs and listings. Always
 * NUL-terminates buf (len > 0) and returns it; 32 bytes are always enough. */
const char *ias_mech_str(uint32_t mech, uint32_t qp_orders, char *buf, size_t len);

/* Sets rec->id; committed on return. nqps > IAS_MAX_QPS_PER_BLOCK or mech
 * bits outside IAS_MECH_ALL: -EINVAL.
 * released_ms/release_note are stored as given (normally 0/""). */
int ias_store_block_add(struct ias_store *st, struct ias_block_rec *rec);
int ias_store_block_get(struct ias_store *st, int64_t id, struct ias_block_rec *out); /* -ENOENT */
/* released_ms must be > 0; note may be NULL. -ENOENT, -EALREADY if released. */
int ias_store_block_release(struct ias_store *st, int64_t id, int64_t released_ms, const char *note);
/* until_ms >= 0 (0 = no end). -ENOENT, -EALREADY if the block is released. */
int ias_store_block_set_until(struct ias_store *st, int64_t id, int64_t until_ms);
struct ias_block_filter {
	int32_t pid;                /* 0: any */
	int include_released;       /* 0: active blocks only */
	const char *incident;       /* NULL: any */
	int64_t expired_before_ms;  /* 0: no filter; else active blocks with 0<until<=this
	                               (include_released is then ignored) */
};
typedef int (*ias_block_cb)(const struct ias_block_rec *rec, void *arg); /* non-zero stops */
/* filter NULL: every block, released or not. Ordered by id. */
int ias_store_blocks_foreach(struct ias_store *st, const struct ias_block_filter *filter,
			     ias_block_cb cb, void *arg);
/* Blocks of the same exe+uid created at or after since_ms, released or
 * not, simulated or not. */
int ias_store_offence_count(struct ias_store *st, const char *exe, uint32_t uid,
			    int64_t since_ms, uint32_t *count);

struct ias_incident_rec {
	char id[32]; char origin[16]; char node[64]; int64_t opened_ms; int32_t root_pid;
	char reason[256]; char state[16] /* "open","closed"; "" = "open" on add */; int64_t closed_ms;
};
int ias_store_incident_add(struct ias_store *st, const struct ias_incident_rec *rec); /* -EEXIST if id exists */
int ias_store_incident_get(struct ias_store *st, const char *id, struct ias_incident_rec *out); /* -ENOENT */
/* state "open" (closed_ms becomes 0) or "closed" (closed_ms = when_ms). -ENOENT, -EINVAL. */
int ias_store_incident_set_state(struct ias_store *st, const char *id, const char *state, int64_t when_ms);
/* Ordered by opened_ms, then id. */
int ias_store_incidents_foreach(struct ias_store *st,
				int (*cb)(const struct ias_incident_rec *, void *), void *arg);
struct ias_incident_event {
	int64_t id; char incident[32]; int64_t ts_ms; char node[64]; int32_t pid;
	uint32_t qpn; char kind[16]; char text[256];
	int64_t ts_us;	/* microseconds since the epoch; 0 on add: ts_ms * 1000 */
};
/* The incident need not exist locally (it may have been opened on another
 * node). ev->id is ignored; the store assigns one. */
int ias_store_incident_event_add(struct ias_store *st, const struct ias_incident_event *ev);
/* Events of one incident in the order they were added. */
int ias_store_incident_events_foreach(struct ias_store *st, const char *incident,
				      int (*cb)(const struct ias_incident_event *, void *), void *arg);
/* Durable counter: 1 on the first call for a name, then 2, 3, ...; 0 on error. */
uint64_t ias_store_next_seq(struct ias_store *st, const char *name);

/* Append-only audit log: no update/delete API, and triggers RAISE(ABORT) on
 * UPDATE/DELETE. actor/action must be non-empty; detail may be NULL. */
int ias_store_audit(struct ias_store *st, int64_t ts_ms, const char *actor, const char *action,
		    const char *detail);
/* Entries with ts >= since_ms, in the order they were written. */
int ias_store_audit_foreach(struct ias_store *st, int64_t since_ms,
			    int (*cb)(int64_t ts, const char *actor, const char *action,
				      const char *detail, void *), void *arg);

struct ias_allow_rec {
	int64_t id; char kind[16] /* "exe","user","unit","comm","pid" */; char value[256];
	int64_t created_ms; char note[256];
};
/* Sets id; -EEXIST for the same kind+value while that entry is present. */
int ias_store_allow_add(struct ias_store *st, struct ias_allow_rec *rec);
/* Marks the entry removed (kept as history). -ENOENT if not present. */
int ias_store_allow_remove(struct ias_store *st, const char *kind, const char *value);
/* Present entries, ordered by id. */
int ias_store_allow_foreach(struct ias_store *st,
			    int (*cb)(const struct ias_allow_rec *, void *), void *arg);
/* A counter this handle bumps on every allow-list change (add or remove,
 * even one later rolled back): a cache of allow-list decisions is current
 * while it is unchanged. */
uint64_t ias_store_allow_gen(const struct ias_store *st);

/* Alerts awaiting an analyzer's GetAttackPID: survive restarts. */
struct ias_alert_rec { int64_t id; int32_t pid; char incident[32]; char reason[256]; int64_t created_ms; };
int ias_store_alert_push(struct ias_store *st, struct ias_alert_rec *rec); /* sets id */
/* Oldest untaken alert; marks it taken (kept as history). -ENOENT if none. */
int ias_store_alert_pop(struct ias_store *st, struct ias_alert_rec *out);
int ias_store_alert_count(struct ias_store *st, uint32_t *n); /* untaken alerts */

/* What a process-level block did, enough to undo it after a restart
 * (schema 4; schema 3 kept it as key-value text "eproc:<block id>"). */
struct ias_proc_undo {
	int64_t  block_id;
	int32_t  pid;
	uint64_t pid_start;        /* see ias_block_rec; 0 unknown */
	uint32_t did;              /* EPROC_* bits of sema/enforce_proc.h */
	char     cgroup[512];      /* block cgroup, relative to the cgroup root; "" none */
	char     origin[512];      /* the process's cgroup before, relative to the root */
};
/* Insert or replace the row of u->block_id (the block must exist: -ENOENT).
 * cgroup/origin longer than their fields: -ENAMETOOLONG. */
int ias_store_proc_undo_set(struct ias_store *st, const struct ias_proc_undo *u);
int ias_store_proc_undo_get(struct ias_store *st, int64_t block_id, struct ias_proc_undo *out); /* -ENOENT */

/* The agent's policy, typed (schema 4; schema 3 kept it as key-value text
 * under "policy"). get: -ENOENT when none is stored. set replaces the one
 * stored policy; level/block_mode outside their enums or a value above
 * INT64_MAX: -EINVAL (the policy's own ranges are policy_check's business). */
struct ias_policy;
int ias_store_policy_get(struct ias_store *st, struct ias_policy *out);
int ias_store_policy_set(struct ias_store *st, const struct ias_policy *p);

/* A random non-zero id made when the database was created. Block cgroup
 * names carry it, so they stay unique when the database is replaced. */
uint64_t ias_store_instance(const struct ias_store *st);
/* 1 when ias_store_open created the database file (none existed), else 0. */
int ias_store_created(const struct ias_store *st);

/* Key/value for small agent state. */
int ias_store_kv_set(struct ias_store *st, const char *key, const char *value);
/* -ENOENT; -ERANGE if outlen cannot hold the value and its NUL (out = ""). */
int ias_store_kv_get(struct ias_store *st, const char *key, char *out, size_t outlen);

/* Explicit transactions, e.g. a block + incident + audit committed together.
 * Nest freely; only the outermost commit makes the work durable. commit or
 * rollback without a begin: -EINVAL.
 * Fail closed: when commit fails (-ENOSPC disk full, -EIO, ...), the whole
 * transaction, every level, is rolled back inside commit; the return value
 * and ias_store_errmsg() say why, and a later rollback returns -EINVAL
 * without side effects (the message is kept). The same holds when SQLite
 * aborted the transaction earlier: every later level fails with that error. */
int ias_store_begin(struct ias_store *st);
int ias_store_commit(struct ias_store *st);
int ias_store_rollback(struct ias_store *st);
/* 1 while a transaction (explicit or internal) is open. */
int ias_store_in_transaction(const struct ias_store *st);

/* Reports to the manager: a durable outbox. seq runs 1, 2, 3, ... without
 * gaps; nothing is deleted. kind: 1 block, 2 release, 3 unreachable, 4 hop
 * (the SecMgt Report kinds). */
struct ias_report_rec {
	int64_t seq;
	uint8_t kind;
	char incident[32];
	int64_t block_id;
	int32_t pid;
	uint32_t qp_count;
	char comm[16];
	uint16_t peer_lid;
	uint32_t peer_qpn;
	int64_t event_ms;
	int64_t delivered_ms;	/* 0: not yet acknowledged by the manager */
};
int ias_store_report_add(struct ias_store *st, struct ias_report_rec *rec); /* sets seq */
/* seq 0: the latest report. -ENOENT when there is none. */
int ias_store_report_get(struct ias_store *st, int64_t seq, struct ias_report_rec *out);
/* The oldest report not yet delivered; -ENOENT when all are. */
int ias_store_report_next(struct ias_store *st, struct ias_report_rec *out);
int ias_store_report_delivered(struct ias_store *st, int64_t seq, int64_t when_ms);

#endif
