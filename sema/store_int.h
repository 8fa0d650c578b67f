/* sema/store: what the store's files share (not installed, not for callers).
 *
 * store.c            open, close, errors, transactions, the batched walk
 * store_schema.c     the schema and its migrations
 * store_blocks.c     blocks, their QPs, process undo rows, mechanism text
 * store_incidents.c  incidents, their events, sequences
 * store_misc.c       audit, allow list, alerts, key/value, reports, policy
 *
 * Each file lists its own SQL (a struct store_sql table, terminated by a
 * NULL sql); ias_store_open prepares every statement once.
 */
#ifndef IAS_SEMA_STORE_INT_H
#define IAS_SEMA_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "sema/store.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* PRAGMA application_id of an IAS agent store: "IASS". */
#define IAS_STORE_APP_ID 0x49415353
/* Rows fetched per round by the foreach walks. */
#define STORE_BATCH 32

enum stmt_id {
	/* store_blocks.c */
	S_BLOCK_INSERT,
	S_QP_INSERT,
	S_QP_SELECT,
	S_BLOCK_GET,
	S_BLOCK_STATE,
	S_BLOCK_RELEASE,
	S_BLOCK_SET_UNTIL,
	S_BLOCK_WALK,
	S_BLOCK_WALK_PID,
	S_OFFENCE_COUNT,
	S_UNDO_SET,
	S_UNDO_GET,
	/* store_incidents.c */
	S_INCIDENT_INSERT,
	S_INCIDENT_GET,
	S_INCIDENT_SET_STATE,
	S_INCIDENT_WALK,
	S_EVENT_INSERT,
	S_EVENT_WALK,
	S_SEQ_NEXT,
	/* store_misc.c */
	S_AUDIT_INSERT,
	S_AUDIT_WALK,
	S_ALLOW_INSERT,
	S_ALLOW_REMOVE,
	S_ALLOW_WALK,
	S_ALERT_INSERT,
	S_ALERT_POP,
	S_ALERT_COUNT,
	S_KV_SET,
	S_KV_GET,
	S_REPORT_INSERT,
	S_REPORT_GET,
	S_REPORT_LATEST,
	S_REPORT_NEXT,
	S_REPORT_DELIVERED,
	S_POLICY_SET,
	S_POLICY_GET,
	S_COUNT
};

struct store_sql {
	enum stmt_id id;
	const char *sql;
};
extern const struct store_sql store_blocks_sql[];
extern const struct store_sql store_incidents_sql[];
extern const struct store_sql store_misc_sql[];

struct ias_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT];
	unsigned depth;		/* open transaction levels, explicit and internal */
	int aborted;		/* SQLite ended the transaction: the errno why */
	uint64_t allow_gen;	/* bumped by every allow-list change */
	uint64_t instance;	/* meta.instance */
	int created;		/* ias_store_open made the file */
	char errmsg[512];
};

/* Records the message and returns err. */
__attribute__((format(printf, 3, 4)))
int store_fail(struct ias_store *st, int err, const char *fmt, ...);
/* Maps a SQLite result code to a negative errno and records the message. */
int store_sq_fail(struct ias_store *st, int rc, const char *what);
int64_t store_now_ms(void);
/* Text must fit in cap bytes including its NUL. For a record field cap is
 * sizeof(field), which also catches a field with no NUL inside it. */
int store_check_text(struct ias_store *st, const char *name, const char *v, size_t cap,
		     int nonempty);
int store_one_of(const char *v, const char *const *set, size_t n);
/* Copies column i into dst[cap], always NUL-terminated, cut on a UTF-8
 * character boundary if it must be cut. */
void store_col_text(sqlite3_stmt *s, int i, char *dst, size_t cap);

/* The prepared statement id, reset and unbound. */
sqlite3_stmt *store_stmt(struct ias_store *st, enum stmt_id id);
/* Resets and unbinds s (NULL is fine). */
void store_done(sqlite3_stmt *s);
int store_bind_text(struct ias_store *st, sqlite3_stmt *s, int idx, const char *v);
int store_bind_i64(struct ias_store *st, sqlite3_stmt *s, int idx, int64_t v);
/* Steps a statement that returns no rows. */
int store_step_done(struct ias_store *st, sqlite3_stmt *s, const char *what);
/* Steps a statement that returns at most one row: 1 row (read it with the
 * column calls, then run the statement to its end with store_step_done if it
 * writes), 0 none, or a negative errno. */
int store_step_row(struct ias_store *st, sqlite3_stmt *s, const char *what);
int store_exec(struct ias_store *st, const char *sql);
/* A one-value query such as "PRAGMA user_version". */
int store_query_int(struct ias_store *st, const char *sql, int64_t *out);

/* Internal transaction levels, as ias_store_begin/commit/rollback; ends one
 * level, keeping its work if r == 0, undoing it otherwise. Returns r or the
 * commit's error. */
int store_tx_begin(struct ias_store *st);
int store_tx_end(struct ias_store *st, int r);

/* The one batched walk behind every foreach. The statement's parameters are
 * bound by bind() (last: the last row of the previous batch, NULL on the
 * first); its highest-numbered parameter is the batch size, which the walk
 * binds. Rows are read with read(), completed by fill() (may be NULL: may
 * run other statements), and only then, with no statement open, handed to
 * visit() one by one; a non-zero visit() ends the walk with that value. */
struct store_walk {
	enum stmt_id which;
	size_t row_size;
	const char *what;	/* names the walk in error messages */
	int  (*bind)(struct ias_store *st, sqlite3_stmt *s, const void *last, void *ctx);
	void (*read)(sqlite3_stmt *s, void *row);
	int  (*fill)(struct ias_store *st, void *row);
	int  (*visit)(const void *row, void *ctx);
};
int store_walk(struct ias_store *st, const struct store_walk *w, void *ctx);

/* store_schema.c: brings the open database to IAS_STORE_SCHEMA_VERSION. */
int store_migrate(struct ias_store *st);

#endif
