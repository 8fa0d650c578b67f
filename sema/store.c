/* sema/store: see store.h and docs/store-schema.md. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sema/store.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* PRAGMA application_id of an IAS agent store: "IASS". */
#define IAS_STORE_APP_ID 0x49415353
#define BUSY_TIMEOUT_MS 5000
/* Rows fetched per round by the foreach walks. */
#define BATCH 32

/* ---- schema ----------------------------------------------------------- */

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
};
_Static_assert(ARRAY_SIZE(migrations) == IAS_STORE_SCHEMA_VERSION,
	       "one migration step per schema version");

/* ---- prepared statements ---------------------------------------------- */

#define BLOCK_COLS "id, origin, node, pid, uid, comm, exe, reason, incident, mechanism, " \
	"created_ms, until_ms, released_ms, offence, simulated, release_note"
#define INCIDENT_COLS "id, origin, node, opened_ms, root_pid, reason, state, closed_ms"
#define EVENT_COLS "id, incident, ts_ms, node, pid, qpn, kind, text, ts_us"

enum stmt_id {
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
	S_INCIDENT_INSERT,
	S_INCIDENT_GET,
	S_INCIDENT_SET_STATE,
	S_INCIDENT_WALK,
	S_EVENT_INSERT,
	S_EVENT_WALK,
	S_SEQ_NEXT,
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
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_BLOCK_INSERT] =
		"INSERT INTO blocks (origin, node, pid, uid, comm, exe, reason, incident, mechanism,"
		" created_ms, until_ms, released_ms, offence, simulated, release_note)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	[S_QP_INSERT] = "INSERT INTO block_qps (block_id, idx, qpn) VALUES (?1, ?2, ?3)",
	[S_QP_SELECT] = "SELECT qpn FROM block_qps WHERE block_id = ?1 ORDER BY idx LIMIT ?2",
	[S_BLOCK_GET] = "SELECT " BLOCK_COLS " FROM blocks WHERE id = ?1",
	[S_BLOCK_STATE] = "SELECT released_ms FROM blocks WHERE id = ?1",
	[S_BLOCK_RELEASE] =
		"UPDATE blocks SET released_ms = ?2, release_note = ?3"
		" WHERE id = ?1 AND released_ms = 0",
	[S_BLOCK_SET_UNTIL] =
		"UPDATE blocks SET until_ms = ?2 WHERE id = ?1 AND released_ms = 0",
	/* ?1 last id seen, ?2 pid (0 any), ?3 incident (NULL any),
	 * ?4 include released, ?5 expired-before (0 none), ?6 batch size */
	[S_BLOCK_WALK] =
		"SELECT " BLOCK_COLS " FROM blocks"
		" WHERE id > ?1 AND (?2 = 0 OR pid = ?2) AND (?3 IS NULL OR incident = ?3)"
		" AND CASE WHEN ?5 <> 0"
		"  THEN released_ms = 0 AND until_ms > 0 AND until_ms <= ?5"
		"  ELSE ?4 <> 0 OR released_ms = 0 END"
		" ORDER BY id LIMIT ?6",
	/* The same with a PID, written so that the blocks_pid index serves it
	 * (the walk above can use no index for its optional PID). */
	[S_BLOCK_WALK_PID] =
		"SELECT " BLOCK_COLS " FROM blocks"
		" WHERE pid = ?2 AND id > ?1 AND (?3 IS NULL OR incident = ?3)"
		" AND CASE WHEN ?5 <> 0"
		"  THEN released_ms = 0 AND until_ms > 0 AND until_ms <= ?5"
		"  ELSE ?4 <> 0 OR released_ms = 0 END"
		" ORDER BY id LIMIT ?6",
	[S_OFFENCE_COUNT] =
		"SELECT count(*) FROM blocks WHERE exe = ?1 AND uid = ?2 AND created_ms >= ?3",
	[S_INCIDENT_INSERT] =
		"INSERT INTO incidents (" INCIDENT_COLS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_INCIDENT_GET] = "SELECT " INCIDENT_COLS " FROM incidents WHERE id = ?1",
	[S_INCIDENT_SET_STATE] =
		"UPDATE incidents SET state = ?2, closed_ms = ?3 WHERE id = ?1",
	[S_INCIDENT_WALK] =
		"SELECT " INCIDENT_COLS " FROM incidents WHERE (opened_ms, id) > (?1, ?2)"
		" ORDER BY opened_ms, id LIMIT ?3",
	[S_EVENT_INSERT] =
		"INSERT INTO incident_events (incident, ts_ms, node, pid, qpn, kind, text, ts_us)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_EVENT_WALK] =
		"SELECT " EVENT_COLS " FROM incident_events WHERE incident = ?1 AND id > ?2"
		" ORDER BY id LIMIT ?3",
	[S_SEQ_NEXT] =
		"INSERT INTO seqs (name, value) VALUES (?1, 1)"
		" ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
	[S_AUDIT_INSERT] =
		"INSERT INTO audit (ts_ms, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
	[S_AUDIT_WALK] =
		"SELECT id, ts_ms, actor, action, detail FROM audit WHERE ts_ms >= ?1 AND id > ?2"
		" ORDER BY id LIMIT ?3",
	[S_ALLOW_INSERT] =
		"INSERT INTO allowlist (kind, value, created_ms, note) VALUES (?1, ?2, ?3, ?4)",
	[S_ALLOW_REMOVE] =
		"UPDATE allowlist SET removed_ms = ?3"
		" WHERE kind = ?1 AND value = ?2 AND removed_ms = 0",
	[S_ALLOW_WALK] =
		"SELECT id, kind, value, created_ms, note FROM allowlist"
		" WHERE removed_ms = 0 AND id > ?1 ORDER BY id LIMIT ?2",
	[S_ALERT_INSERT] =
		"INSERT INTO alerts (pid, incident, reason, created_ms) VALUES (?1, ?2, ?3, ?4)",
	[S_ALERT_POP] =
		"UPDATE alerts SET taken_ms = ?1 WHERE id ="
		" (SELECT id FROM alerts WHERE taken_ms = 0 ORDER BY id LIMIT 1)"
		" RETURNING id, pid, incident, reason, created_ms",
	[S_ALERT_COUNT] = "SELECT count(*) FROM alerts WHERE taken_ms = 0",
	[S_KV_SET] =
		"INSERT INTO kv (key, value, updated_ms) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
		" updated_ms = excluded.updated_ms",
	[S_KV_GET] = "SELECT value FROM kv WHERE key = ?1",
#define REPORT_COLS "seq, kind, incident, block_id, pid, qp_count, comm, peer_lid, peer_qpn," \
	" event_ms, delivered_ms"
	[S_REPORT_INSERT] =
		"INSERT INTO reports (kind, incident, block_id, pid, qp_count, comm, peer_lid,"
		" peer_qpn, event_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_REPORT_GET] = "SELECT " REPORT_COLS " FROM reports WHERE seq = ?1",
	[S_REPORT_LATEST] = "SELECT " REPORT_COLS " FROM reports ORDER BY seq DESC LIMIT 1",
	[S_REPORT_NEXT] =
		"SELECT " REPORT_COLS " FROM reports WHERE delivered_ms = 0 ORDER BY seq LIMIT 1",
	[S_REPORT_DELIVERED] =
		"UPDATE reports SET delivered_ms = ?2 WHERE seq = ?1 AND delivered_ms = 0",
};

struct ias_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT];
	unsigned depth;		/* open transaction levels, explicit and internal */
	uint64_t allow_gen;	/* bumped by every allow-list change */
	char errmsg[512];
};

/* ---- helpers ---------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int fail(struct ias_store *st, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	return err;
}

/* Maps a SQLite result code to a negative errno and records the message. */
static int sq_fail(struct ias_store *st, int rc, const char *what)
{
	int err;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		err = -EBUSY;
		break;
	case SQLITE_NOMEM:
		err = -ENOMEM;
		break;
	case SQLITE_FULL:
		err = -ENOSPC;
		break;
	case SQLITE_CONSTRAINT:
		err = (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			? -EEXIST : -EINVAL;
		break;
	default:
		err = -EIO;
		break;
	}
	return fail(st, err, "%s: %s", what, st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Text must fit in cap bytes including its NUL. For a record field cap is
 * sizeof(field), which also catches a field with no NUL inside it. */
static int check_text(struct ias_store *st, const char *name, const char *v, size_t cap,
		      int nonempty)
{
	if (!v)
		return fail(st, -EINVAL, "%s is missing", name);
	if (strnlen(v, cap) >= cap)
		return fail(st, -ENAMETOOLONG, "%s is longer than %zu bytes", name, cap - 1);
	if (nonempty && !v[0])
		return fail(st, -EINVAL, "%s is empty", name);
	return 0;
}

static int one_of(const char *v, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, set[i]) == 0)
			return 1;
	return 0;
}

static const char *const block_origins[] = { "analyzer", "trace", "manual", "manager" };
static const char *const incident_states[] = { "open", "closed" };
static const char *const allow_kinds[] = { "exe", "user", "unit", "comm", "pid" };

/* Copies column i into dst[cap], always NUL-terminated; if it must cut,
 * it cuts on a UTF-8 character boundary. */
static void col_text(sqlite3_stmt *s, int i, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	int n = sqlite3_column_bytes(s, i);
	size_t len = t && n > 0 ? (size_t)n : 0;

	if (len > cap - 1) {
		len = cap - 1;
		while (len > 0 && (t[len] & 0xc0) == 0x80)
			len--;
	}
	if (len)
		memcpy(dst, t, len);
	dst[len] = '\0';
}

static sqlite3_stmt *stmt(struct ias_store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

static void done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static int bind_text(struct ias_store *st, sqlite3_stmt *s, int idx, const char *v)
{
	int rc = sqlite3_bind_text(s, idx, v, -1, SQLITE_TRANSIENT);

	return rc == SQLITE_OK ? 0 : sq_fail(st, rc, "bind");
}

static int bind_i64(struct ias_store *st, sqlite3_stmt *s, int idx, int64_t v)
{
	int rc = sqlite3_bind_int64(s, idx, v);

	return rc == SQLITE_OK ? 0 : sq_fail(st, rc, "bind");
}

/* Steps a statement that returns no rows. */
static int step_done(struct ias_store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE)
		return sq_fail(st, rc, what);
	return 0;
}

static int exec(struct ias_store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sq_fail(st, rc, sql);
}

/* The transaction SQLite is in was aborted under us (I/O error, disk full). */
static int tx_lost(struct ias_store *st)
{
	return st->depth > 0 && sqlite3_get_autocommit(st->db);
}

static int tx_begin(struct ias_store *st)
{
	int r;

	if (tx_lost(st))
		return fail(st, -EIO, "the open transaction was aborted; roll it back first");
	r = exec(st, st->depth ? "SAVEPOINT ias" : "BEGIN IMMEDIATE");
	if (r == 0)
		st->depth++;
	return r;
}

/* Ends one level: keeps its work if r == 0, undoes it otherwise. Returns r,
 * or the commit's error. */
static int tx_end(struct ias_store *st, int r)
{
	char keep[sizeof(st->errmsg)];
	int c = 0;

	if (st->depth == 0)
		return r ? r : fail(st, -EINVAL, "no transaction is open");
	if (tx_lost(st)) {
		st->depth--;
		return r ? r : fail(st, -EIO, "the transaction was aborted by SQLite");
	}
	if (r == 0) {
		c = exec(st, st->depth > 1 ? "RELEASE ias" : "COMMIT");
		if (c == 0) {
			st->depth--;
			return 0;
		}
	}
	/* Undo this level; keep the message of the first failure. */
	memcpy(keep, st->errmsg, sizeof(keep));
	if (!sqlite3_get_autocommit(st->db))
		exec(st, st->depth > 1 ? "ROLLBACK TO ias; RELEASE ias" : "ROLLBACK");
	memcpy(st->errmsg, keep, sizeof(keep));
	st->depth--;
	return r ? r : c;
}

/* ---- open / close ----------------------------------------------------- */

static int pragma_int(struct ias_store *st, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(st, rc, sql);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		r = fail(st, -EIO, "%s: no result (feature not compiled in?)", sql);
	else
		r = sq_fail(st, rc, sql);
	sqlite3_finalize(s);
	return r;
}

static int set_wal(struct ias_store *st)
{
	sqlite3_stmt *s = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(st, rc, "PRAGMA journal_mode");
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW)
		r = sq_fail(st, rc, "PRAGMA journal_mode");
	else if (sqlite3_strnicmp((const char *)sqlite3_column_text(s, 0), "wal", 4) != 0)
		r = fail(st, -EIO, "cannot switch the database to WAL mode (journal_mode is %s)",
			 (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return r;
}

/* Applies pending migration steps, one transaction each. */
static int migrate(struct ias_store *st)
{
	int64_t ver, app, ntables;
	char sql[96];
	int r;

	for (;;) {
		if ((r = exec(st, "BEGIN IMMEDIATE")) != 0)
			return r;
		if ((r = pragma_int(st, "PRAGMA user_version", &ver)) != 0 ||
		    (r = pragma_int(st, "PRAGMA application_id", &app)) != 0 ||
		    (r = pragma_int(st, "SELECT count(*) FROM sqlite_schema", &ntables)) != 0)
			goto out;
		if (ver > IAS_STORE_SCHEMA_VERSION) {
			r = fail(st, -EPROTO, "database schema version %" PRId64
				 " is newer than this program supports (%d)",
				 ver, IAS_STORE_SCHEMA_VERSION);
			goto out;
		}
		if ((ver > 0 && app != IAS_STORE_APP_ID) || (ver == 0 && ntables > 0) ||
		    (ver == 0 && app != 0 && app != IAS_STORE_APP_ID)) {
			r = fail(st, -EPROTO, "database is not an IAS agent store"
				 " (application_id %#" PRIx64 ", user_version %" PRId64 ")",
				 (uint64_t)app, ver);
			goto out;
		}
		if (ver == IAS_STORE_SCHEMA_VERSION) {
			exec(st, "ROLLBACK");
			return 0;
		}
		if ((r = exec(st, migrations[ver])) != 0)
			goto out;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d",
			 (int)ver + 1, IAS_STORE_APP_ID);
		if ((r = exec(st, sql)) != 0 || (r = exec(st, "COMMIT")) != 0)
			goto out;
	}
out:
	if (!sqlite3_get_autocommit(st->db)) {
		char keep[sizeof(st->errmsg)];

		memcpy(keep, st->errmsg, sizeof(keep));
		exec(st, "ROLLBACK");
		memcpy(st->errmsg, keep, sizeof(keep));
	}
	return r;
}

static int make_state_dir(struct ias_store *st, const char *dir)
{
	struct stat sb;
	int fd;

	if (mkdir(dir, 0750) == 0) {
		/* Exactly 0750 whatever the umask. */
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchmod(fd, 0750) < 0) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			return fail(st, -e, "cannot set the mode of state directory %s: %s",
				    dir, strerror(e));
		}
		close(fd);
		return 0;
	}
	if (errno != EEXIST)
		return fail(st, -errno, "cannot create state directory %s: %s", dir, strerror(errno));
	if (stat(dir, &sb) < 0)
		return fail(st, -errno, "cannot use state directory %s: %s", dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return fail(st, -ENOTDIR, "state directory %s exists and is not a directory", dir);
	return 0;
}

/* Creates the database file with mode 0640 if it does not exist yet; SQLite
 * gives its -wal and -shm files the same mode. */
static int make_db_file(struct ias_store *st, const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);

	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		return fail(st, -errno, "cannot create %s: %s", path, strerror(errno));
	}
	if (fchmod(fd, 0640) < 0) {
		int e = errno;

		close(fd);
		return fail(st, -e, "cannot set the mode of %s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

int ias_store_open(const char *state_dir, struct ias_store **out, char *err, size_t errlen)
{
	struct ias_store *st = NULL;
	char path[PATH_MAX];
	int64_t fk = 0;
	int rc, r = 0, on = 1;

	if (err && errlen)
		err[0] = '\0';
	if (!out) {
		if (err && errlen)
			snprintf(err, errlen, "no place for the store handle");
		return -EINVAL;
	}
	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!state_dir || !state_dir[0]) {
		r = fail(st, -EINVAL, "no state directory given");
		goto out;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir, IAS_STORE_DB_NAME)
	    >= sizeof(path)) {
		r = fail(st, -ENAMETOOLONG, "state directory path is too long");
		goto out;
	}
	if ((r = make_state_dir(st, state_dir)) != 0 || (r = make_db_file(st, path)) != 0)
		goto out;

	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		r = sq_fail(st, rc, path);
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, &on);

	if ((r = set_wal(st)) != 0 ||
	    (r = exec(st, "PRAGMA synchronous = FULL")) != 0 ||
	    (r = exec(st, "PRAGMA foreign_keys = ON")) != 0 ||
	    (r = pragma_int(st, "PRAGMA foreign_keys", &fk)) != 0)
		goto out;
	if (fk != 1) {
		r = fail(st, -EIO, "SQLite refused to enable foreign keys");
		goto out;
	}
	if ((r = migrate(st)) != 0)
		goto out;
	for (int i = 0; i < S_COUNT; i++) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&st->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			r = sq_fail(st, rc, "prepare");
			goto out;
		}
	}
	st->errmsg[0] = '\0';
	*out = st;
	st = NULL;
out:
	if (st) {
		if (err && errlen)
			snprintf(err, errlen, "%s", st->errmsg);
		ias_store_close(st);
	}
	return r;
}

void ias_store_close(struct ias_store *st)
{
	if (!st)
		return;
	if (st->db && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

const char *ias_store_errmsg(struct ias_store *st)
{
	return st ? st->errmsg : "no store";
}

/* ---- explicit transactions -------------------------------------------- */

int ias_store_begin(struct ias_store *st)
{
	if (!st)
		return -EINVAL;
	return tx_begin(st);
}

int ias_store_commit(struct ias_store *st)
{
	if (!st)
		return -EINVAL;
	if (st->depth == 0)
		return fail(st, -EINVAL, "commit without a transaction");
	return tx_end(st, 0);
}

int ias_store_rollback(struct ias_store *st)
{
	if (!st)
		return -EINVAL;
	if (st->depth == 0)
		return fail(st, -EINVAL, "rollback without a transaction");
	if (tx_lost(st)) {
		st->depth--;
		return 0;
	}
	/* -ECANCELED only selects the undo path of tx_end. */
	tx_end(st, -ECANCELED);
	return 0;
}

/* ---- blocks ----------------------------------------------------------- */

static int check_block(struct ias_store *st, const struct ias_block_rec *b)
{
	int r;

	if ((r = check_text(st, "origin", b->origin, sizeof(b->origin), 1)) ||
	    (r = check_text(st, "node", b->node, sizeof(b->node), 0)) ||
	    (r = check_text(st, "comm", b->comm, sizeof(b->comm), 0)) ||
	    (r = check_text(st, "exe", b->exe, sizeof(b->exe), 0)) ||
	    (r = check_text(st, "reason", b->reason, sizeof(b->reason), 0)) ||
	    (r = check_text(st, "incident", b->incident, sizeof(b->incident), 0)) ||
	    (r = check_text(st, "mechanism", b->mechanism, sizeof(b->mechanism), 0)) ||
	    (r = check_text(st, "release_note", b->release_note, sizeof(b->release_note), 0)))
		return r;
	if (!one_of(b->origin, block_origins, ARRAY_SIZE(block_origins)))
		return fail(st, -EINVAL, "unknown block origin \"%s\"", b->origin);
	if (b->nqps > IAS_MAX_QPS_PER_BLOCK)
		return fail(st, -EINVAL, "%" PRIu32 " QPs, more than %d per block",
			    b->nqps, IAS_MAX_QPS_PER_BLOCK);
	if (b->created_ms < 0 || b->until_ms < 0 || b->released_ms < 0)
		return fail(st, -EINVAL, "negative time in block record");
	return 0;
}

int ias_store_block_add(struct ias_store *st, struct ias_block_rec *rec)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	int r;

	if (!st || !rec)
		return -EINVAL;
	if ((r = check_block(st, rec)) != 0)
		return r;
	if ((r = tx_begin(st)) != 0)
		return r;
	s = stmt(st, S_BLOCK_INSERT);
	if ((r = bind_text(st, s, 1, rec->origin)) || (r = bind_text(st, s, 2, rec->node)) ||
	    (r = bind_i64(st, s, 3, rec->pid)) || (r = bind_i64(st, s, 4, rec->uid)) ||
	    (r = bind_text(st, s, 5, rec->comm)) || (r = bind_text(st, s, 6, rec->exe)) ||
	    (r = bind_text(st, s, 7, rec->reason)) || (r = bind_text(st, s, 8, rec->incident)) ||
	    (r = bind_text(st, s, 9, rec->mechanism)) ||
	    (r = bind_i64(st, s, 10, rec->created_ms)) || (r = bind_i64(st, s, 11, rec->until_ms)) ||
	    (r = bind_i64(st, s, 12, rec->released_ms)) || (r = bind_i64(st, s, 13, rec->offence)) ||
	    (r = bind_i64(st, s, 14, rec->simulated ? 1 : 0)) ||
	    (r = bind_text(st, s, 15, rec->release_note)) ||
	    (r = step_done(st, s, "insert block")) != 0)
		goto out;
	id = sqlite3_last_insert_rowid(st->db);
	done(s);
	for (uint32_t i = 0; i < rec->nqps; i++) {
		s = stmt(st, S_QP_INSERT);
		if ((r = bind_i64(st, s, 1, id)) || (r = bind_i64(st, s, 2, i)) ||
		    (r = bind_i64(st, s, 3, rec->qpns[i])) ||
		    (r = step_done(st, s, "insert block QP")) != 0)
			goto out;
	}
out:
	done(s);
	r = tx_end(st, r);
	if (r == 0)
		rec->id = id;
	return r;
}

static void read_block(sqlite3_stmt *s, struct ias_block_rec *b)
{
	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(s, 0);
	col_text(s, 1, b->origin, sizeof(b->origin));
	col_text(s, 2, b->node, sizeof(b->node));
	b->pid = (int32_t)sqlite3_column_int64(s, 3);
	b->uid = (uint32_t)sqlite3_column_int64(s, 4);
	col_text(s, 5, b->comm, sizeof(b->comm));
	col_text(s, 6, b->exe, sizeof(b->exe));
	col_text(s, 7, b->reason, sizeof(b->reason));
	col_text(s, 8, b->incident, sizeof(b->incident));
	col_text(s, 9, b->mechanism, sizeof(b->mechanism));
	b->created_ms = sqlite3_column_int64(s, 10);
	b->until_ms = sqlite3_column_int64(s, 11);
	b->released_ms = sqlite3_column_int64(s, 12);
	b->offence = (uint32_t)sqlite3_column_int64(s, 13);
	b->simulated = sqlite3_column_int64(s, 14) != 0;
	col_text(s, 15, b->release_note, sizeof(b->release_note));
}

static int read_qps(struct ias_store *st, struct ias_block_rec *b)
{
	sqlite3_stmt *s = stmt(st, S_QP_SELECT);
	int rc, r;

	b->nqps = 0;
	if ((r = bind_i64(st, s, 1, b->id)) || (r = bind_i64(st, s, 2, IAS_MAX_QPS_PER_BLOCK)))
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && b->nqps < IAS_MAX_QPS_PER_BLOCK)
		b->qpns[b->nqps++] = (uint32_t)sqlite3_column_int64(s, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sq_fail(st, rc, "read block QPs");
out:
	done(s);
	return r;
}

int ias_store_block_get(struct ias_store *st, int64_t id, struct ias_block_rec *out)
{
	sqlite3_stmt *s;
	int rc, r;

	if (!st || !out)
		return -EINVAL;
	s = stmt(st, S_BLOCK_GET);
	if ((r = bind_i64(st, s, 1, id)) != 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		r = fail(st, -ENOENT, "no block %" PRId64, id);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = sq_fail(st, rc, "read block");
		goto out;
	}
	read_block(s, out);
	done(s);
	r = read_qps(st, out);
out:
	done(s);
	return r;
}

/* After an UPDATE ... AND released_ms = 0 touched no row: why? */
static int block_why_not(struct ias_store *st, int64_t id)
{
	sqlite3_stmt *s = stmt(st, S_BLOCK_STATE);
	int rc, r;

	if ((r = bind_i64(st, s, 1, id)) != 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		r = fail(st, -ENOENT, "no block %" PRId64, id);
	else if (rc == SQLITE_ROW)
		r = fail(st, -EALREADY, "block %" PRId64 " was already released", id);
	else
		r = sq_fail(st, rc, "read block");
out:
	done(s);
	return r;
}

int ias_store_block_release(struct ias_store *st, int64_t id, int64_t released_ms,
			    const char *note)
{
	struct ias_block_rec *b = NULL;
	sqlite3_stmt *s;
	int r;

	if (!st)
		return -EINVAL;
	if (!note)
		note = "";
	if ((r = check_text(st, "release note", note, sizeof(b->release_note), 0)) != 0)
		return r;
	if (released_ms <= 0)
		return fail(st, -EINVAL, "release time must be positive");
	s = stmt(st, S_BLOCK_RELEASE);
	if ((r = bind_i64(st, s, 1, id)) || (r = bind_i64(st, s, 2, released_ms)) ||
	    (r = bind_text(st, s, 3, note)) || (r = step_done(st, s, "release block")) != 0)
		goto out;
	if (sqlite3_changes(st->db) == 0)
		r = block_why_not(st, id);
out:
	done(s);
	return r;
}

int ias_store_block_set_until(struct ias_store *st, int64_t id, int64_t until_ms)
{
	sqlite3_stmt *s;
	int r;

	if (!st)
		return -EINVAL;
	if (until_ms < 0)
		return fail(st, -EINVAL, "negative end time");
	s = stmt(st, S_BLOCK_SET_UNTIL);
	if ((r = bind_i64(st, s, 1, id)) || (r = bind_i64(st, s, 2, until_ms)) ||
	    (r = step_done(st, s, "set block end")) != 0)
		goto out;
	if (sqlite3_changes(st->db) == 0)
		r = block_why_not(st, id);
out:
	done(s);
	return r;
}

/* Read up to BATCH rows of the bound statement s into rows (size bytes
 * each) with read(), then reset s. Returns how many, or a negative errno
 * with what naming the walk in the message. Every walk goes through here,
 * so no statement stays open while a walk's callbacks run. */
static int fetch_batch(struct ias_store *st, sqlite3_stmt *s, void *rows, size_t size,
		       void (*read)(sqlite3_stmt *, void *), const char *what)
{
	int n = 0, rc = SQLITE_DONE;

	while (n < BATCH && (rc = sqlite3_step(s)) == SQLITE_ROW)
		read(s, (char *)rows + (size_t)n++ * size);
	if (n < BATCH && rc != SQLITE_DONE)
		n = sq_fail(st, rc, what);
	done(s);
	return n;
}

static void block_row(sqlite3_stmt *s, void *row)
{
	read_block(s, row);
}

int ias_store_blocks_foreach(struct ias_store *st, const struct ias_block_filter *filter,
			     ias_block_cb cb, void *arg)
{
	static const struct ias_block_filter all = { .include_released = 1 };
	struct ias_block_rec *buf = NULL;
	enum stmt_id which = S_BLOCK_WALK;
	int64_t last = 0;
	sqlite3_stmt *s;
	int n, r = 0;

	if (!st || !cb)
		return -EINVAL;
	if (!filter)
		filter = &all;
	if (filter->incident &&
	    (r = check_text(st, "incident", filter->incident, sizeof(buf->incident), 0)) != 0)
		return r;
	buf = calloc(BATCH, sizeof(*buf));
	if (!buf)
		return fail(st, -ENOMEM, "out of memory");
	which = filter->pid ? S_BLOCK_WALK_PID : S_BLOCK_WALK;
	for (;;) {
		s = stmt(st, which);
		if ((r = bind_i64(st, s, 1, last)) || (r = bind_i64(st, s, 2, filter->pid)) ||
		    (filter->incident && (r = bind_text(st, s, 3, filter->incident))) ||
		    (r = bind_i64(st, s, 4, filter->include_released ? 1 : 0)) ||
		    (r = bind_i64(st, s, 5, filter->expired_before_ms)) ||
		    (r = bind_i64(st, s, 6, BATCH)))
			goto out;
		n = fetch_batch(st, s, buf, sizeof(*buf), block_row, "list blocks");
		if (n < 0) {
			r = n;
			goto out;
		}
		for (int i = 0; i < n; i++)
			if ((r = read_qps(st, &buf[i])) != 0)
				goto out;
		/* No statement is open from here: callbacks may use the store. */
		for (int i = 0; i < n; i++)
			if ((r = cb(&buf[i], arg)) != 0)
				goto out;
		if (n < BATCH)
			break;
		last = buf[n - 1].id;
	}
out:
	done(st->stmt[which]);
	free(buf);
	return r;
}

int ias_store_offence_count(struct ias_store *st, const char *exe, uint32_t uid,
			    int64_t since_ms, uint32_t *count)
{
	sqlite3_stmt *s;
	int rc, r;

	if (!st || !count)
		return -EINVAL;
	*count = 0;
	if ((r = check_text(st, "exe", exe, sizeof(((struct ias_block_rec *)0)->exe), 0)) != 0)
		return r;
	s = stmt(st, S_OFFENCE_COUNT);
	if ((r = bind_text(st, s, 1, exe)) || (r = bind_i64(st, s, 2, uid)) ||
	    (r = bind_i64(st, s, 3, since_ms)))
		goto out;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		r = sq_fail(st, rc, "count offences");
		goto out;
	}
	*count = (uint32_t)sqlite3_column_int64(s, 0);
out:
	done(s);
	return r;
}

/* ---- incidents -------------------------------------------------------- */

int ias_store_incident_add(struct ias_store *st, const struct ias_incident_rec *rec)
{
	const char *state;
	sqlite3_stmt *s;
	int r;

	if (!st || !rec)
		return -EINVAL;
	if ((r = check_text(st, "incident id", rec->id, sizeof(rec->id), 1)) ||
	    (r = check_text(st, "origin", rec->origin, sizeof(rec->origin), 0)) ||
	    (r = check_text(st, "node", rec->node, sizeof(rec->node), 0)) ||
	    (r = check_text(st, "reason", rec->reason, sizeof(rec->reason), 0)) ||
	    (r = check_text(st, "state", rec->state, sizeof(rec->state), 0)))
		return r;
	state = rec->state[0] ? rec->state : "open";
	if (!one_of(state, incident_states, ARRAY_SIZE(incident_states)))
		return fail(st, -EINVAL, "unknown incident state \"%s\"", state);
	s = stmt(st, S_INCIDENT_INSERT);
	if ((r = bind_text(st, s, 1, rec->id)) || (r = bind_text(st, s, 2, rec->origin)) ||
	    (r = bind_text(st, s, 3, rec->node)) || (r = bind_i64(st, s, 4, rec->opened_ms)) ||
	    (r = bind_i64(st, s, 5, rec->root_pid)) || (r = bind_text(st, s, 6, rec->reason)) ||
	    (r = bind_text(st, s, 7, state)) || (r = bind_i64(st, s, 8, rec->closed_ms)))
		goto out;
	r = step_done(st, s, "insert incident");
	if (r == -EEXIST)
		r = fail(st, -EEXIST, "incident %s already exists", rec->id);
out:
	done(s);
	return r;
}

static void read_incident(sqlite3_stmt *s, struct ias_incident_rec *o)
{
	memset(o, 0, sizeof(*o));
	col_text(s, 0, o->id, sizeof(o->id));
	col_text(s, 1, o->origin, sizeof(o->origin));
	col_text(s, 2, o->node, sizeof(o->node));
	o->opened_ms = sqlite3_column_int64(s, 3);
	o->root_pid = (int32_t)sqlite3_column_int64(s, 4);
	col_text(s, 5, o->reason, sizeof(o->reason));
	col_text(s, 6, o->state, sizeof(o->state));
	o->closed_ms = sqlite3_column_int64(s, 7);
}

int ias_store_incident_get(struct ias_store *st, const char *id, struct ias_incident_rec *out)
{
	sqlite3_stmt *s;
	int rc, r;

	if (!st || !out)
		return -EINVAL;
	if ((r = check_text(st, "incident id", id, sizeof(out->id), 1)) != 0)
		return r;
	s = stmt(st, S_INCIDENT_GET);
	if ((r = bind_text(st, s, 1, id)) != 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_incident(s, out);
	else if (rc == SQLITE_DONE)
		r = fail(st, -ENOENT, "no incident %s", id);
	else
		r = sq_fail(st, rc, "read incident");
out:
	done(s);
	return r;
}

int ias_store_incident_set_state(struct ias_store *st, const char *id, const char *state,
				 int64_t when_ms)
{
	struct ias_incident_rec *i = NULL;
	sqlite3_stmt *s;
	int r;

	if (!st)
		return -EINVAL;
	if ((r = check_text(st, "incident id", id, sizeof(i->id), 1)) ||
	    (r = check_text(st, "state", state, sizeof(i->state), 1)))
		return r;
	if (!one_of(state, incident_states, ARRAY_SIZE(incident_states)))
		return fail(st, -EINVAL, "unknown incident state \"%s\"", state);
	s = stmt(st, S_INCIDENT_SET_STATE);
	if ((r = bind_text(st, s, 1, id)) || (r = bind_text(st, s, 2, state)) ||
	    (r = bind_i64(st, s, 3, strcmp(state, "closed") == 0 ? when_ms : 0)) ||
	    (r = step_done(st, s, "set incident state")) != 0)
		goto out;
	if (sqlite3_changes(st->db) == 0)
		r = fail(st, -ENOENT, "no incident %s", id);
out:
	done(s);
	return r;
}

static void incident_row(sqlite3_stmt *s, void *row)
{
	read_incident(s, row);
}

int ias_store_incidents_foreach(struct ias_store *st,
				int (*cb)(const struct ias_incident_rec *, void *), void *arg)
{
	struct ias_incident_rec *buf = NULL;
	int64_t last_ms = INT64_MIN;
	char last_id[sizeof(buf->id)] = "";
	sqlite3_stmt *s;
	int n, r = 0;

	if (!st || !cb)
		return -EINVAL;
	buf = calloc(BATCH, sizeof(*buf));
	if (!buf)
		return fail(st, -ENOMEM, "out of memory");
	for (;;) {
		s = stmt(st, S_INCIDENT_WALK);
		if ((r = bind_i64(st, s, 1, last_ms)) || (r = bind_text(st, s, 2, last_id)) ||
		    (r = bind_i64(st, s, 3, BATCH)))
			goto out;
		n = fetch_batch(st, s, buf, sizeof(*buf), incident_row, "list incidents");
		if (n < 0) {
			r = n;
			goto out;
		}
		for (int i = 0; i < n; i++)
			if ((r = cb(&buf[i], arg)) != 0)
				goto out;
		if (n < BATCH)
			break;
		last_ms = buf[n - 1].opened_ms;
		memcpy(last_id, buf[n - 1].id, sizeof(last_id));
	}
out:
	done(st->stmt[S_INCIDENT_WALK]);
	free(buf);
	return r;
}

int ias_store_incident_event_add(struct ias_store *st, const struct ias_incident_event *ev)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !ev)
		return -EINVAL;
	if ((r = check_text(st, "incident", ev->incident, sizeof(ev->incident), 1)) ||
	    (r = check_text(st, "node", ev->node, sizeof(ev->node), 0)) ||
	    (r = check_text(st, "kind", ev->kind, sizeof(ev->kind), 0)) ||
	    (r = check_text(st, "text", ev->text, sizeof(ev->text), 0)))
		return r;
	s = stmt(st, S_EVENT_INSERT);
	if ((r = bind_text(st, s, 1, ev->incident)) || (r = bind_i64(st, s, 2, ev->ts_ms)) ||
	    (r = bind_text(st, s, 3, ev->node)) || (r = bind_i64(st, s, 4, ev->pid)) ||
	    (r = bind_i64(st, s, 5, ev->qpn)) || (r = bind_text(st, s, 6, ev->kind)) ||
	    (r = bind_text(st, s, 7, ev->text)) ||
	    (r = bind_i64(st, s, 8, ev->ts_us ? ev->ts_us : ev->ts_ms * 1000)))
		goto out;
	r = step_done(st, s, "insert incident event");
out:
	done(s);
	return r;
}

static void read_event(sqlite3_stmt *s, struct ias_incident_event *e)
{
	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(s, 0);
	col_text(s, 1, e->incident, sizeof(e->incident));
	e->ts_ms = sqlite3_column_int64(s, 2);
	col_text(s, 3, e->node, sizeof(e->node));
	e->pid = (int32_t)sqlite3_column_int64(s, 4);
	e->qpn = (uint32_t)sqlite3_column_int64(s, 5);
	col_text(s, 6, e->kind, sizeof(e->kind));
	col_text(s, 7, e->text, sizeof(e->text));
	e->ts_us = sqlite3_column_int64(s, 8);
}

static void event_row(sqlite3_stmt *s, void *row)
{
	read_event(s, row);
}

int ias_store_incident_events_foreach(struct ias_store *st, const char *incident,
				      int (*cb)(const struct ias_incident_event *, void *),
				      void *arg)
{
	struct ias_incident_event *buf = NULL;
	int64_t last = 0;
	sqlite3_stmt *s;
	int n, r = 0;

	if (!st || !cb)
		return -EINVAL;
	if ((r = check_text(st, "incident", incident, sizeof(buf->incident), 1)) != 0)
		return r;
	buf = calloc(BATCH, sizeof(*buf));
	if (!buf)
		return fail(st, -ENOMEM, "out of memory");
	for (;;) {
		s = stmt(st, S_EVENT_WALK);
		if ((r = bind_text(st, s, 1, incident)) || (r = bind_i64(st, s, 2, last)) ||
		    (r = bind_i64(st, s, 3, BATCH)))
			goto out;
		n = fetch_batch(st, s, buf, sizeof(*buf), event_row, "list incident events");
		if (n < 0) {
			r = n;
			goto out;
		}
		for (int i = 0; i < n; i++)
			if ((r = cb(&buf[i], arg)) != 0)
				goto out;
		if (n < BATCH)
			break;
		last = buf[n - 1].id;
	}
out:
	done(st->stmt[S_EVENT_WALK]);
	free(buf);
	return r;
}

uint64_t ias_store_next_seq(struct ias_store *st, const char *name)
{
	sqlite3_stmt *s;
	uint64_t v = 0;
	int rc;

	if (!st || check_text(st, "sequence name", name, IAS_STORE_SEQNAME_MAX + 1, 1) != 0)
		return 0;
	s = stmt(st, S_SEQ_NEXT);
	if (bind_text(st, s, 1, name) != 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sq_fail(st, rc, "next sequence value");
		goto out;
	}
	v = (uint64_t)sqlite3_column_int64(s, 0);
	/* Run the statement to completion so the update is committed. */
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		sq_fail(st, rc, "next sequence value");
		v = 0;
	}
out:
	done(s);
	return v;
}

/* ---- audit ------------------------------------------------------------ */

int ias_store_audit(struct ias_store *st, int64_t ts_ms, const char *actor, const char *action,
		    const char *detail)
{
	sqlite3_stmt *s;
	int r;

	if (!st)
		return -EINVAL;
	if (!detail)
		detail = "";
	if ((r = check_text(st, "actor", actor, IAS_STORE_ACTOR_MAX + 1, 1)) ||
	    (r = check_text(st, "action", action, IAS_STORE_ACTION_MAX + 1, 1)) ||
	    (r = check_text(st, "detail", detail, IAS_STORE_DETAIL_MAX + 1, 0)))
		return r;
	s = stmt(st, S_AUDIT_INSERT);
	if ((r = bind_i64(st, s, 1, ts_ms)) || (r = bind_text(st, s, 2, actor)) ||
	    (r = bind_text(st, s, 3, action)) || (r = bind_text(st, s, 4, detail)))
		goto out;
	r = step_done(st, s, "append audit entry");
out:
	done(s);
	return r;
}

struct audit_row {
	int64_t id, ts;
	char actor[IAS_STORE_ACTOR_MAX + 1];
	char action[IAS_STORE_ACTION_MAX + 1];
	char detail[IAS_STORE_DETAIL_MAX + 1];
};

static void audit_row_read(sqlite3_stmt *s, void *row)
{
	struct audit_row *a = row;

	a->id = sqlite3_column_int64(s, 0);
	a->ts = sqlite3_column_int64(s, 1);
	col_text(s, 2, a->actor, sizeof(a->actor));
	col_text(s, 3, a->action, sizeof(a->action));
	col_text(s, 4, a->detail, sizeof(a->detail));
}

int ias_store_audit_foreach(struct ias_store *st, int64_t since_ms,
			    int (*cb)(int64_t ts, const char *actor, const char *action,
				      const char *detail, void *), void *arg)
{
	struct audit_row *buf = NULL;
	int64_t last = 0;
	sqlite3_stmt *s;
	int n, r = 0;

	if (!st || !cb)
		return -EINVAL;
	buf = calloc(BATCH, sizeof(*buf));
	if (!buf)
		return fail(st, -ENOMEM, "out of memory");
	for (;;) {
		s = stmt(st, S_AUDIT_WALK);
		if ((r = bind_i64(st, s, 1, since_ms)) || (r = bind_i64(st, s, 2, last)) ||
		    (r = bind_i64(st, s, 3, BATCH)))
			goto out;
		n = fetch_batch(st, s, buf, sizeof(*buf), audit_row_read, "list audit log");
		if (n < 0) {
			r = n;
			goto out;
		}
		for (int i = 0; i < n; i++)
			if ((r = cb(buf[i].ts, buf[i].actor, buf[i].action, buf[i].detail, arg)) != 0)
				goto out;
		if (n < BATCH)
			break;
		last = buf[n - 1].id;
	}
out:
	done(st->stmt[S_AUDIT_WALK]);
	free(buf);
	return r;
}

/* ---- allow-list ------------------------------------------------------- */

int ias_store_allow_add(struct ias_store *st, struct ias_allow_rec *rec)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !rec)
		return -EINVAL;
	if ((r = check_text(st, "kind", rec->kind, sizeof(rec->kind), 1)) ||
	    (r = check_text(st, "value", rec->value, sizeof(rec->value), 1)) ||
	    (r = check_text(st, "note", rec->note, sizeof(rec->note), 0)))
		return r;
	if (!one_of(rec->kind, allow_kinds, ARRAY_SIZE(allow_kinds)))
		return fail(st, -EINVAL, "unknown allow-list kind \"%s\"", rec->kind);
	s = stmt(st, S_ALLOW_INSERT);
	if ((r = bind_text(st, s, 1, rec->kind)) || (r = bind_text(st, s, 2, rec->value)) ||
	    (r = bind_i64(st, s, 3, rec->created_ms)) || (r = bind_text(st, s, 4, rec->note)))
		goto out;
	r = step_done(st, s, "add allow-list entry");
	if (r == 0) {
		rec->id = sqlite3_last_insert_rowid(st->db);
		st->allow_gen++;
	}
	else if (r == -EEXIST)
		r = fail(st, -EEXIST, "%s %s is already on the allow-list", rec->kind, rec->value);
out:
	done(s);
	return r;
}

int ias_store_allow_remove(struct ias_store *st, const char *kind, const char *value)
{
	struct ias_allow_rec *a = NULL;
	sqlite3_stmt *s;
	int r;

	if (!st)
		return -EINVAL;
	if ((r = check_text(st, "kind", kind, sizeof(a->kind), 1)) ||
	    (r = check_text(st, "value", value, sizeof(a->value), 1)))
		return r;
	s = stmt(st, S_ALLOW_REMOVE);
	if ((r = bind_text(st, s, 1, kind)) || (r = bind_text(st, s, 2, value)) ||
	    (r = bind_i64(st, s, 3, now_ms())) ||
	    (r = step_done(st, s, "remove allow-list entry")) != 0)
		goto out;
	if (sqlite3_changes(st->db) == 0)
		r = fail(st, -ENOENT, "%s %s is not on the allow-list", kind, value);
	else
		st->allow_gen++;
out:
	done(s);
	return r;
}

static void allow_row(sqlite3_stmt *s, void *row)
{
	struct ias_allow_rec *a = row;

	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(s, 0);
	col_text(s, 1, a->kind, sizeof(a->kind));
	col_text(s, 2, a->value, sizeof(a->value));
	a->created_ms = sqlite3_column_int64(s, 3);
	col_text(s, 4, a->note, sizeof(a->note));
}

int ias_store_allow_foreach(struct ias_store *st,
			    int (*cb)(const struct ias_allow_rec *, void *), void *arg)
{
	struct ias_allow_rec *buf = NULL;
	int64_t last = 0;
	sqlite3_stmt *s;
	int n, r = 0;

	if (!st || !cb)
		return -EINVAL;
	buf = calloc(BATCH, sizeof(*buf));
	if (!buf)
		return fail(st, -ENOMEM, "out of memory");
	for (;;) {
		s = stmt(st, S_ALLOW_WALK);
		if ((r = bind_i64(st, s, 1, last)) || (r = bind_i64(st, s, 2, BATCH)))
			goto out;
		n = fetch_batch(st, s, buf, sizeof(*buf), allow_row, "list allow-list");
		if (n < 0) {
			r = n;
			goto out;
		}
		for (int i = 0; i < n; i++)
			if ((r = cb(&buf[i], arg)) != 0)
				goto out;
		if (n < BATCH)
			break;
		last = buf[n - 1].id;
	}
out:
	done(st->stmt[S_ALLOW_WALK]);
	free(buf);
	return r;
}

/* ---- alerts ----------------------------------------------------------- */

int ias_store_alert_push(struct ias_store *st, struct ias_alert_rec *rec)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !rec)
		return -EINVAL;
	if ((r = check_text(st, "incident", rec->incident, sizeof(rec->incident), 0)) ||
	    (r = check_text(st, "reason", rec->reason, sizeof(rec->reason), 0)))
		return r;
	s = stmt(st, S_ALERT_INSERT);
	if ((r = bind_i64(st, s, 1, rec->pid)) || (r = bind_text(st, s, 2, rec->incident)) ||
	    (r = bind_text(st, s, 3, rec->reason)) || (r = bind_i64(st, s, 4, rec->created_ms)))
		goto out;
	r = step_done(st, s, "push alert");
	if (r == 0)
		rec->id = sqlite3_last_insert_rowid(st->db);
out:
	done(s);
	return r;
}

int ias_store_alert_pop(struct ias_store *st, struct ias_alert_rec *out)
{
	struct ias_alert_rec a;
	sqlite3_stmt *s;
	int rc, r;

	if (!st || !out)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	s = stmt(st, S_ALERT_POP);
	if ((r = bind_i64(st, s, 1, now_ms())) != 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		r = fail(st, -ENOENT, "no alert is waiting");
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = sq_fail(st, rc, "pop alert");
		goto out;
	}
	a.id = sqlite3_column_int64(s, 0);
	a.pid = (int32_t)sqlite3_column_int64(s, 1);
	col_text(s, 2, a.incident, sizeof(a.incident));
	col_text(s, 3, a.reason, sizeof(a.reason));
	a.created_ms = sqlite3_column_int64(s, 4);
	/* The update is done (and, outside a transaction, committed) when the
	 * statement completes. */
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		r = sq_fail(st, rc, "pop alert");
		goto out;
	}
	*out = a;
out:
	done(s);
	return r;
}

int ias_store_alert_count(struct ias_store *st, uint32_t *n)
{
	sqlite3_stmt *s;
	int rc, r = 0;

	if (!st || !n)
		return -EINVAL;
	*n = 0;
	s = stmt(st, S_ALERT_COUNT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = (uint32_t)sqlite3_column_int64(s, 0);
	else
		r = sq_fail(st, rc, "count alerts");
	done(s);
	return r;
}

/* ---- key/value -------------------------------------------------------- */

int ias_store_kv_set(struct ias_store *st, const char *key, const char *value)
{
	sqlite3_stmt *s;
	int r;

	if (!st)
		return -EINVAL;
	if ((r = check_text(st, "key", key, IAS_STORE_KEY_MAX + 1, 1)) ||
	    (r = check_text(st, "value", value, IAS_STORE_VALUE_MAX + 1, 0)))
		return r;
	s = stmt(st, S_KV_SET);
	if ((r = bind_text(st, s, 1, key)) || (r = bind_text(st, s, 2, value)) ||
	    (r = bind_i64(st, s, 3, now_ms())))
		goto out;
	r = step_done(st, s, "set key");
out:
	done(s);
	return r;
}

int ias_store_kv_get(struct ias_store *st, const char *key, char *out, size_t outlen)
{
	const unsigned char *v;
	sqlite3_stmt *s;
	int rc, r, n;

	if (!st || !out || outlen == 0)
		return -EINVAL;
	out[0] = '\0';
	if ((r = check_text(st, "key", key, IAS_STORE_KEY_MAX + 1, 1)) != 0)
		return r;
	s = stmt(st, S_KV_GET);
	if ((r = bind_text(st, s, 1, key)) != 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		r = fail(st, -ENOENT, "no key %s", key);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = sq_fail(st, rc, "read key");
		goto out;
	}
	v = sqlite3_column_text(s, 0);
	n = sqlite3_column_bytes(s, 0);
	if (!v || n < 0)
		n = 0;
	if ((size_t)n >= outlen) {
		r = fail(st, -ERANGE, "value of %s needs %d bytes, buffer has %zu",
			 key, n + 1, outlen);
		goto out;
	}
	if (n)
		memcpy(out, v, (size_t)n);
	out[n] = '\0';
out:
	done(s);
	return r;
}

/* ---- reports to the manager -------------------------------------------- */

int ias_store_report_add(struct ias_store *st, struct ias_report_rec *rec)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !rec || rec->kind < 1 || rec->kind > 4)
		return -EINVAL;
	if ((r = check_text(st, "incident", rec->incident, sizeof(rec->incident), 0)) ||
	    (r = check_text(st, "comm", rec->comm, sizeof(rec->comm), 0)))
		return r;
	s = stmt(st, S_REPORT_INSERT);
	if ((r = bind_i64(st, s, 1, rec->kind)) || (r = bind_text(st, s, 2, rec->incident)) ||
	    (r = bind_i64(st, s, 3, rec->block_id)) || (r = bind_i64(st, s, 4, rec->pid)) ||
	    (r = bind_i64(st, s, 5, rec->qp_count)) || (r = bind_text(st, s, 6, rec->comm)) ||
	    (r = bind_i64(st, s, 7, rec->peer_lid)) || (r = bind_i64(st, s, 8, rec->peer_qpn)) ||
	    (r = bind_i64(st, s, 9, rec->event_ms)))
		goto out;
	r = step_done(st, s, "add report");
	if (r == 0) {
		rec->seq = sqlite3_last_insert_rowid(st->db);
		rec->delivered_ms = 0;
	}
out:
	done(s);
	return r;
}

static int report_row(struct ias_store *st, sqlite3_stmt *s, struct ias_report_rec *out,
		      const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE)
		return fail(st, -ENOENT, "%s: no such report", what);
	if (rc != SQLITE_ROW)
		return sq_fail(st, rc, what);
	memset(out, 0, sizeof(*out));
	out->seq = sqlite3_column_int64(s, 0);
	out->kind = (uint8_t)sqlite3_column_int64(s, 1);
	col_text(s, 2, out->incident, sizeof(out->incident));
	out->block_id = sqlite3_column_int64(s, 3);
	out->pid = (int32_t)sqlite3_column_int64(s, 4);
	out->qp_count = (uint32_t)sqlite3_column_int64(s, 5);
	col_text(s, 6, out->comm, sizeof(out->comm));
	out->peer_lid = (uint16_t)sqlite3_column_int64(s, 7);
	out->peer_qpn = (uint32_t)sqlite3_column_int64(s, 8);
	out->event_ms = sqlite3_column_int64(s, 9);
	out->delivered_ms = sqlite3_column_int64(s, 10);
	return 0;
}

int ias_store_report_get(struct ias_store *st, int64_t seq, struct ias_report_rec *out)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !out || seq < 0)
		return -EINVAL;
	if (seq == 0) {
		s = stmt(st, S_REPORT_LATEST);
		r = report_row(st, s, out, "latest report");
	} else {
		s = stmt(st, S_REPORT_GET);
		r = bind_i64(st, s, 1, seq);
		if (r == 0)
			r = report_row(st, s, out, "get report");
	}
	done(s);
	return r;
}

int ias_store_report_next(struct ias_store *st, struct ias_report_rec *out)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !out)
		return -EINVAL;
	s = stmt(st, S_REPORT_NEXT);
	r = report_row(st, s, out, "next undelivered report");
	done(s);
	return r;
}

int ias_store_report_delivered(struct ias_store *st, int64_t seq, int64_t when_ms)
{
	sqlite3_stmt *s;
	int r;

	if (!st || seq <= 0)
		return -EINVAL;
	s = stmt(st, S_REPORT_DELIVERED);
	if ((r = bind_i64(st, s, 1, seq)) || (r = bind_i64(st, s, 2, when_ms)))
		goto out;
	r = step_done(st, s, "report delivered");
out:
	done(s);
	return r;
}

int ias_store_in_transaction(const struct ias_store *st)
{
	return st && st->depth > 0;
}

uint64_t ias_store_allow_gen(const struct ias_store *st)
{
	return st ? st->allow_gen : 0;
}
