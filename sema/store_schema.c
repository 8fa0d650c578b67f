/* sema/store: the schema and its migrations. See docs/store-schema.md. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mad_defs/policy.h"
#include "sema/store_int.h"

/* Ordered migration steps: migrations[i] takes user_version i to i+1. A step
 * is never edited once released; changes go in a new step. */
static const char *const migrations[] = {
	/* 0 -> 1: the initial schema. */
	"CREATE TABLE blocks ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  origin TEXT NOT NULL CHECK (origin IN ('analyzer','trace','manual','manager')),"
	"  node TEXT NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  comm TEXT NOT NULL,"
	"  exe TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  incident TEXT NOT NULL DEFAULT '',"
	"  mechanism TEXT NOT NULL DEFAULT '',"
	"  created_ms INTEGER NOT NULL,"
	"  until_ms INTEGER NOT NULL DEFAULT 0 CHECK (until_ms >= 0),"
	"  released_ms INTEGER NOT NULL DEFAULT 0 CHECK (released_ms >= 0),"
	"  offence INTEGER NOT NULL DEFAULT 1,"
	"  simulated INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1)),"
	"  release_note TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX blocks_active ON blocks (released_ms, until_ms);"
	"CREATE INDEX blocks_pid ON blocks (pid);"
	"CREATE INDEX blocks_incident ON blocks (incident);"
	"CREATE INDEX blocks_offender ON blocks (exe, uid, created_ms);"
	"CREATE TRIGGER blocks_no_delete BEFORE DELETE ON blocks"
	"  BEGIN SELECT RAISE(ABORT, 'blocks are released, never deleted'); END;"
	"CREATE TRIGGER blocks_release_final BEFORE UPDATE OF released_ms ON blocks"
	"  WHEN OLD.released_ms <> 0"
	"  BEGIN SELECT RAISE(ABORT, 'a released block stays released'); END;"
	"CREATE TABLE block_qps ("
	"  block_id INTEGER NOT NULL REFERENCES blocks (id),"
	"  idx INTEGER NOT NULL CHECK (idx >= 0),"
	"  qpn INTEGER NOT NULL,"
	"  PRIMARY KEY (block_id, idx)"
	") WITHOUT ROWID;"
	"CREATE INDEX block_qps_qpn ON block_qps (qpn);"
	"CREATE TRIGGER block_qps_no_update BEFORE UPDATE ON block_qps"
	"  BEGIN SELECT RAISE(ABORT, 'block QPs are fixed'); END;"
	"CREATE TRIGGER block_qps_no_delete BEFORE DELETE ON block_qps"
	"  BEGIN SELECT RAISE(ABORT, 'block QPs are fixed'); END;"
	"CREATE TABLE incidents ("
	"  id TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),"
	"  origin TEXT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  opened_ms INTEGER NOT NULL,"
	"  root_pid INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('open', 'closed')),"
	"  closed_ms INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX incidents_opened ON incidents (opened_ms, id);"
	"CREATE TABLE incident_events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  incident TEXT NOT NULL CHECK (incident <> ''),"
	"  ts_ms INTEGER NOT NULL,"
	"  node TEXT NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  qpn INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  text TEXT NOT NULL"
	");"
	"CREATE INDEX incident_events_incident ON incident_events (incident, id);"
	"CREATE TABLE seqs ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  value INTEGER NOT NULL"
	");"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  ts_ms INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  detail TEXT NOT NULL"
	");"
	"CREATE INDEX audit_ts ON audit (ts_ms);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TABLE allowlist ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  kind TEXT NOT NULL CHECK (kind IN ('exe', 'user', 'unit', 'comm', 'pid')),"
	"  value TEXT NOT NULL CHECK (value <> ''),"
	"  created_ms INTEGER NOT NULL,"
	"  note TEXT NOT NULL DEFAULT '',"
	"  removed_ms INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE UNIQUE INDEX allowlist_present ON allowlist (kind, value) WHERE removed_ms = 0;"
	"CREATE TRIGGER allowlist_no_delete BEFORE DELETE ON allowlist"
	"  BEGIN SELECT RAISE(ABORT, 'allow-list entries are removed, never deleted'); END;"
	"CREATE TABLE alerts ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  pid INTEGER NOT NULL,"
	"  incident TEXT NOT NULL DEFAULT '',"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  created_ms INTEGER NOT NULL,"
	"  taken_ms INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX alerts_untaken ON alerts (id) WHERE taken_ms = 0;"
	"CREATE TABLE kv ("
	"  key TEXT PRIMARY KEY NOT NULL CHECK (key <> ''),"
	"  value TEXT NOT NULL,"
	"  updated_ms INTEGER NOT NULL"
	");",
	/* 2: the outbox of reports to the manager. seq is the rowid: 1, 2, ...
	 * with no gaps, since rows are never deleted. */
	"CREATE TABLE reports ("
	"  seq INTEGER PRIMARY KEY,"
	"  kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 4),"
	"  incident TEXT NOT NULL DEFAULT '',"
	"  block_id INTEGER NOT NULL DEFAULT 0,"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  qp_count INTEGER NOT NULL DEFAULT 0,"
	"  comm TEXT NOT NULL DEFAULT '',"
	"  peer_lid INTEGER NOT NULL DEFAULT 0,"
	"  peer_qpn INTEGER NOT NULL DEFAULT 0,"
	"  event_ms INTEGER NOT NULL,"
	"  delivered_ms INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX reports_undelivered ON reports (seq) WHERE delivered_ms = 0;"
	"CREATE TRIGGER reports_no_delete BEFORE DELETE ON reports"
	"  BEGIN SELECT RAISE(ABORT, 'reports are kept'); END;",
	/* 3: microsecond event times (the agent's own CLOCK_REALTIME), so
	 * that per-hop trace latency can be read from the incident records.
	 * Older rows get their millisecond time. */
	"ALTER TABLE incident_events ADD COLUMN ts_us INTEGER NOT NULL DEFAULT 0;"
	"UPDATE incident_events SET ts_us = ts_ms * 1000;",
	/* 4: typed state. What a block does (mech, qp_orders), which process
	 * it names (pid_start), the process undo rows, the policy and the
	 * store's instance id get columns and tables of their own; the text
	 * that schema 3 kept is parsed by migrate_4 (which then drops
	 * blocks.mechanism and the key-value rows it replaced). */
	"CREATE TABLE meta ("
	"  one INTEGER PRIMARY KEY CHECK (one = 1),"
	"  instance INTEGER NOT NULL CHECK (instance <> 0),"
	"  created_ms INTEGER NOT NULL"
	");"
	"ALTER TABLE blocks ADD COLUMN mech INTEGER NOT NULL DEFAULT 0"
	"  CHECK (mech BETWEEN 0 AND 15);"
	"ALTER TABLE blocks ADD COLUMN qp_orders INTEGER NOT NULL DEFAULT 0"
	"  CHECK (qp_orders >= 0);"
	"ALTER TABLE blocks ADD COLUMN pid_start INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE proc_undo ("
	"  block_id INTEGER PRIMARY KEY REFERENCES blocks (id),"
	"  pid INTEGER NOT NULL,"
	"  pid_start INTEGER NOT NULL DEFAULT 0,"
	"  did INTEGER NOT NULL CHECK (did >= 0),"
	"  cgroup TEXT NOT NULL DEFAULT '',"
	"  origin TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE TRIGGER proc_undo_no_delete BEFORE DELETE ON proc_undo"
	"  BEGIN SELECT RAISE(ABORT, 'process undo rows are kept'); END;"
	"CREATE TABLE policy ("
	"  one INTEGER PRIMARY KEY CHECK (one = 1),"
	"  version INTEGER NOT NULL,"
	"  level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 4),"
	"  mode INTEGER NOT NULL CHECK (mode BETWEEN 0 AND 3),"
	"  dry_run INTEGER NOT NULL CHECK (dry_run IN (0, 1)),"
	"  base_ms INTEGER NOT NULL CHECK (base_ms >= 0),"
	"  max_ms INTEGER NOT NULL CHECK (max_ms >= 0),"
	"  escalation INTEGER NOT NULL CHECK (escalation >= 0),"
	"  hop_limit INTEGER NOT NULL CHECK (hop_limit >= 0),"
	"  fanout_limit INTEGER NOT NULL CHECK (fanout_limit >= 0)"
	");",
};
_Static_assert(ARRAY_SIZE(migrations) == IAS_STORE_SCHEMA_VERSION,
	       "one migration step per schema version");
_Static_assert(IAS_LEVEL_ZONE == 4 && IAS_MODE_KILL == 3,
	       "the policy table's CHECKs follow mad_defs/policy.h");
_Static_assert(IAS_MECH_ALL == 15, "the blocks.mech CHECK follows enum ias_mech");

/* ---- 3 -> 4: the text of schema 3, parsed ------------------------------ */

/* "pause(2),freeze", "cut(1)", "kill", "none", "" (nothing recorded), each
 * optionally prefixed "dry-run:" (the block's simulated flag says so too). */
static int parse_mech(const char *text, uint32_t *mech, uint32_t *orders)
{
	const char *p = text;

	*mech = 0;
	*orders = 0;
	if (strncmp(p, "dry-run:", 8) == 0)
		p += 8;
	if (!*p || strcmp(p, "none") == 0)
		return 0;
	for (;;) {
		size_t n = strcspn(p, ",");
		char word[24], *end;
		unsigned long long v;
		uint32_t bit;

		if (n == 0 || n >= sizeof(word))
			return -EBADMSG;
		memcpy(word, p, n);
		word[n] = '\0';
		if (strcmp(word, "freeze") == 0) {
			bit = IAS_MECH_FREEZE;
		} else if (strcmp(word, "kill") == 0) {
			bit = IAS_MECH_KILL;
		} else if (strncmp(word, "pause(", 6) == 0 || strncmp(word, "cut(", 4) == 0) {
			const char *num = strchr(word, '(') + 1;

			if (*num < '0' || *num > '9')
				return -EBADMSG;
			v = strtoull(num, &end, 10);
			if (strcmp(end, ")") != 0 || v == 0 || v > UINT32_MAX - *orders)
				return -EBADMSG;
			bit = word[0] == 'p' ? IAS_MECH_PAUSE : IAS_MECH_CUT;
			*orders += (uint32_t)v;
		} else {
			return -EBADMSG;
		}
		if (*mech & bit)
			return -EBADMSG;
		*mech |= bit;
		p += n;
		if (!*p)
			return 0;
		p++;
	}
}

/* Prepares the reader and the writer of one migration pass. */
static int prepare2(struct ias_store *st, const char *what, const char *sql_a,
		    sqlite3_stmt **a, const char *sql_b, sqlite3_stmt **b)
{
	int rc = sqlite3_prepare_v2(st->db, sql_a, -1, a, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db, sql_b, -1, b, NULL);
	return rc == SQLITE_OK ? 0 : store_sq_fail(st, rc, what);
}

static int migrate_mech(struct ias_store *st)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	int r = prepare2(st, "schema 3 to 4: blocks",
			 "SELECT id, mechanism FROM blocks ORDER BY id", &sel,
			 "UPDATE blocks SET mech = ?2, qp_orders = ?3 WHERE id = ?1", &upd);

	if (r != 0)
		goto out;
	while (r == 0 && (r = store_step_row(st, sel, "schema 3 to 4: read blocks")) == 1) {
		int64_t id = sqlite3_column_int64(sel, 0);
		const char *text = (const char *)sqlite3_column_text(sel, 1);
		uint32_t mech, orders;

		if (parse_mech(text ? text : "", &mech, &orders) != 0) {
			r = store_fail(st, -EBADMSG, "schema 3 to 4: block %" PRId64
				       ": mechanism \"%.64s\" is not understood", id, text ? text : "");
			break;
		}
		sqlite3_reset(upd);
		if ((r = store_bind_i64(st, upd, 1, id)) || (r = store_bind_i64(st, upd, 2, mech)) ||
		    (r = store_bind_i64(st, upd, 3, orders)))
			break;
		r = store_step_done(st, upd, "schema 3 to 4: update block");
	}
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	return r;
}

/* A cgroup path as enforce_proc wrote it: "-" (none) or absolute, with no
 * ".." component. */
static int parse_cgroup(const char *v, char *out, size_t cap)
{
	const char *p;

	if (strcmp(v, "-") == 0) {
		out[0] = '\0';
		return 0;
	}
	if (v[0] != '/' || strlen(v) >= cap)
		return -EBADMSG;
	for (p = v; (p = strstr(p, "/..")); p += 3)
		if (p[3] == '/' || p[3] == '\0')
			return -EBADMSG;
	snprintf(out, cap, "%s", v);
	return 0;
}

/* "eproc:<block id>" = "pid=<n> did=<bits> cg=<path> from=<path>". */
static int parse_eproc(const char *key, const char *text, struct ias_proc_undo *u)
{
	char cg[sizeof(u->cgroup)], from[sizeof(u->origin)], *end;
	long long id;
	int pid, used = 0;
	unsigned did;

	memset(u, 0, sizeof(*u));
	if (key[6] < '1' || key[6] > '9')
		return -EBADMSG;
	id = strtoll(key + 6, &end, 10);
	if (*end || id <= 0)
		return -EBADMSG;
	if (sscanf(text, "pid=%d did=%u cg=%511s from=%511s%n", &pid, &did, cg, from, &used) != 4 ||
	    text[used] != '\0' || pid <= 1 || did > 31)
		return -EBADMSG;
	if (parse_cgroup(cg, u->cgroup, sizeof(u->cgroup)) ||
	    parse_cgroup(from, u->origin, sizeof(u->origin)))
		return -EBADMSG;
	u->block_id = id;
	u->pid = pid;
	u->did = did;
	return 0;
}

static int migrate_eproc(struct ias_store *st)
{
	sqlite3_stmt *sel = NULL, *ins = NULL;
	struct ias_proc_undo u;
	int r = prepare2(st, "schema 3 to 4: process undo rows",
			 "SELECT key, value FROM kv WHERE key GLOB 'eproc:*' ORDER BY key", &sel,
			 "INSERT INTO proc_undo (block_id, pid, did, cgroup, origin)"
			 " VALUES (?1, ?2, ?3, ?4, ?5)", &ins);

	if (r != 0)
		goto out;
	while (r == 0 && (r = store_step_row(st, sel, "schema 3 to 4: read key-value")) == 1) {
		const char *key = (const char *)sqlite3_column_text(sel, 0);
		const char *text = (const char *)sqlite3_column_text(sel, 1);

		if (parse_eproc(key, text ? text : "", &u) != 0) {
			r = store_fail(st, -EBADMSG, "schema 3 to 4: key-value row \"%.40s\":"
				       " \"%.100s\" is not a process undo record", key,
				       text ? text : "");
			break;
		}
		sqlite3_reset(ins);
		if ((r = store_bind_i64(st, ins, 1, u.block_id)) ||
		    (r = store_bind_i64(st, ins, 2, u.pid)) || (r = store_bind_i64(st, ins, 3, u.did)) ||
		    (r = store_bind_text(st, ins, 4, u.cgroup)) ||
		    (r = store_bind_text(st, ins, 5, u.origin)))
			break;
		if (sqlite3_step(ins) != SQLITE_DONE) {
			r = store_fail(st, -EBADMSG, "schema 3 to 4: key-value row \"%.40s\""
				       " names no block (%s)", key, sqlite3_errmsg(st->db));
			break;
		}
	}
	if (r == 0)
		r = store_exec(st, "DELETE FROM kv WHERE key GLOB 'eproc:*'");
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	return r;
}

/* "version=1 level=2 mode=0 dry_run=0 base_ms=.. max_ms=.. escalation=..
 * hops=.. fanout=..": every key once, nothing else. */
static int parse_policy(const char *text, int64_t v[9])
{
	static const char *const keys[9] = {
		"version", "level", "mode", "dry_run", "base_ms", "max_ms", "escalation",
		"hops", "fanout",
	};
	static const uint64_t max[9] = {
		UINT32_MAX, IAS_LEVEL_ZONE, IAS_MODE_KILL, 1, INT64_MAX, INT64_MAX, INT64_MAX,
		INT64_MAX, INT64_MAX,
	};
	unsigned seen = 0;
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, " "), k;
		char tok[64], *eq, *end;
		unsigned long long x;

		if (n == 0 || n >= sizeof(tok))
			return -EBADMSG;
		memcpy(tok, p, n);
		tok[n] = '\0';
		p += n;
		p += *p == ' ';
		if (!(eq = strchr(tok, '=')))
			return -EBADMSG;
		*eq++ = '\0';
		for (k = 0; k < 9 && strcmp(tok, keys[k]) != 0; k++)
			;
		if (k == 9 || (seen & (1u << k)) || *eq < '0' || *eq > '9')
			return -EBADMSG;
		errno = 0;
		x = strtoull(eq, &end, 10);
		if (*end || errno || x > max[k])
			return -EBADMSG;
		v[k] = (int64_t)x;
		seen |= 1u << k;
	}
	return seen == 0x1ff ? 0 : -EBADMSG;
}

static int migrate_policy(struct ias_store *st)
{
	sqlite3_stmt *sel = NULL, *ins = NULL;
	int64_t v[9];
	int r = prepare2(st, "schema 3 to 4: policy",
			 "SELECT value FROM kv WHERE key = 'policy'", &sel,
			 "INSERT INTO policy (one, version, level, mode, dry_run, base_ms, max_ms,"
			 " escalation, hop_limit, fanout_limit)"
			 " VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &ins);

	if (r != 0)
		goto out;
	r = store_step_row(st, sel, "schema 3 to 4: read policy");
	if (r <= 0)
		goto out;
	if (parse_policy((const char *)sqlite3_column_text(sel, 0), v) != 0) {
		r = store_fail(st, -EBADMSG, "schema 3 to 4: key-value row \"policy\":"
			       " \"%.200s\" is not a policy", sqlite3_column_text(sel, 0));
		goto out;
	}
	for (int i = 0; i < 9 && r >= 0; i++)
		r = store_bind_i64(st, ins, i + 1, v[i]);
	if (r >= 0)
		r = store_step_done(st, ins, "schema 3 to 4: insert policy");
	if (r == 0)
		r = store_exec(st, "DELETE FROM kv WHERE key = 'policy'");
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	return r < 0 ? r : 0;
}

static int make_instance(struct ias_store *st)
{
	char sql[128];
	uint64_t id = 0;

	while (id == 0)
		if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
			return store_fail(st, -errno, "cannot make the store's instance id: %s",
					  strerror(errno));
	snprintf(sql, sizeof(sql), "INSERT INTO meta (one, instance, created_ms)"
		 " VALUES (1, %" PRId64 ", %" PRId64 ")", (int64_t)id, store_now_ms());
	return store_exec(st, sql);
}

static int migrate_4(struct ias_store *st)
{
	int r;

	if ((r = migrate_mech(st)) || (r = migrate_eproc(st)) || (r = migrate_policy(st)) ||
	    (r = make_instance(st)))
		return r;
	/* The mechanism text is gone for good: ias_mech_str() shows it. */
	return store_exec(st, "ALTER TABLE blocks DROP COLUMN mechanism");
}

/* Code run after the SQL of a step, in its transaction; NULL for none. */
static int (*const migration_code[])(struct ias_store *) = {
	[3] = migrate_4,
};
_Static_assert(ARRAY_SIZE(migration_code) == IAS_STORE_SCHEMA_VERSION,
	       "one entry per schema version");

/* Applies pending migration steps, one transaction each. */
int store_migrate(struct ias_store *st)
{
	int64_t ver, app, ntables;
	char sql[96];
	int r;

	for (;;) {
		if ((r = store_exec(st, "BEGIN IMMEDIATE")) != 0)
			return r;
		if ((r = store_query_int(st, "PRAGMA user_version", &ver)) != 0 ||
		    (r = store_query_int(st, "PRAGMA application_id", &app)) != 0 ||
		    (r = store_query_int(st, "SELECT count(*) FROM sqlite_schema", &ntables)) != 0)
			goto out;
		if (ver > IAS_STORE_SCHEMA_VERSION) {
			r = store_fail(st, -EPROTO, "database schema version %" PRId64
				       " is newer than this program supports (%d)",
				       ver, IAS_STORE_SCHEMA_VERSION);
			goto out;
		}
		if ((ver > 0 && app != IAS_STORE_APP_ID) || (ver == 0 && ntables > 0) ||
		    (ver == 0 && app != 0 && app != IAS_STORE_APP_ID)) {
			r = store_fail(st, -EPROTO, "database is not an IAS agent store"
				       " (application_id %#" PRIx64 ", user_version %" PRId64 ")",
				       (uint64_t)app, ver);
			goto out;
		}
		if (ver == IAS_STORE_SCHEMA_VERSION) {
			store_exec(st, "ROLLBACK");
			return 0;
		}
		if ((r = store_exec(st, migrations[ver])) != 0 ||
		    (migration_code[ver] && (r = migration_code[ver](st)) != 0))
			goto out;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d",
			 (int)ver + 1, IAS_STORE_APP_ID);
		if ((r = store_exec(st, sql)) != 0 || (r = store_exec(st, "COMMIT")) != 0)
			goto out;
	}
out:
	if (!sqlite3_get_autocommit(st->db)) {
		char keep[sizeof(st->errmsg)];

		memcpy(keep, st->errmsg, sizeof(keep));
		store_exec(st, "ROLLBACK");
		memcpy(st->errmsg, keep, sizeof(keep));
	}
	return r;
}
