/* Unit tests for sema/store, each in a fresh temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mad_defs/policy.h"
#include "sema/store.h"
#include "tests/unit/tap.h"

static char tmpdir[256];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static void cleanup(void)
{
	if (tmpdir[0])
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new, not yet existing, state directory path under tmpdir. */
static const char *newdir(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static struct ias_store *open_ok(const char *dir, const char *what)
{
	struct ias_store *st = NULL;
	char err[256] = "";
	int r = ias_store_open(dir, &st, err, sizeof(err));

	if (!ok(r == 0 && st, "open %s", what))
		printf("#   r=%d err=%s\n", r, err);
	return st;
}

/* Runs one SQL statement on the db file of dir through a separate raw
 * connection; returns the SQLite result code. */
static int raw_exec(const char *dir, const char *sql)
{
	char path[600];
	sqlite3 *db = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, IAS_STORE_DB_NAME);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return rc;
}

static int64_t raw_int(const char *dir, const char *sql)
{
	char path[600];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, IAS_STORE_DB_NAME);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* Takes a current (version 4) database back to schema 3: text mechanism,
 * no typed tables. */
#define TO_V3 \
	"DROP TABLE meta; DROP TRIGGER proc_undo_no_delete; DROP TABLE proc_undo;" \
	"DROP TABLE policy; ALTER TABLE blocks ADD COLUMN mechanism TEXT NOT NULL DEFAULT '';" \
	"ALTER TABLE blocks DROP COLUMN mech; ALTER TABLE blocks DROP COLUMN qp_orders;" \
	"ALTER TABLE blocks DROP COLUMN pid_start; PRAGMA user_version = 3;"

static void fill_block(struct ias_block_rec *b, const char *origin, int32_t pid,
		       const char *incident, int64_t created, int64_t until)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->origin, sizeof(b->origin), "%s", origin);
	snprintf(b->node, sizeof(b->node), "n07");
	b->pid = pid;
	b->uid = 1000;
	snprintf(b->comm, sizeof(b->comm), "mpi_app");
	snprintf(b->exe, sizeof(b->exe), "/usr/bin/mpi_app");
	snprintf(b->reason, sizeof(b->reason), "reported");
	snprintf(b->incident, sizeof(b->incident), "%s", incident);
	b->mech = IAS_MECH_PAUSE | IAS_MECH_FREEZE;
	b->qp_orders = 2;
	b->pid_start = 123456789;
	b->created_ms = created;
	b->until_ms = until;
	b->offence = 1;
}

/* ---- collectors for the foreach walks ---- */

struct ids { int n; int64_t id[512]; int stop_after; };

static int collect_block(const struct ias_block_rec *b, void *arg)
{
	struct ids *c = arg;

	if (c->n < 512)
		c->id[c->n] = b->id;
	c->n++;
	return c->stop_after && c->n >= c->stop_after ? 7 : 0;
}

static struct ids walk(struct ias_store *st, const struct ias_block_filter *f)
{
	struct ids c;

	memset(&c, 0, sizeof(c));
	ias_store_blocks_foreach(st, f, collect_block, &c);
	return c;
}

static int same_ids(const struct ids *c, int n, const int64_t *want)
{
	if (c->n != n)
		return 0;
	for (int i = 0; i < n; i++)
		if (c->id[i] != want[i])
			return 0;
	return 1;
}

struct release_ctx { struct ias_store *st; int released, failed; };

static int release_each(const struct ias_block_rec *b, void *arg)
{
	struct release_ctx *c = arg;

	if (ias_store_block_release(c->st, b->id, 5000, "expired") == 0)
		c->released++;
	else
		c->failed++;
	return 0;
}

static int count_incident(const struct ias_incident_rec *i, void *arg)
{
	struct ids *c = arg;

	(void)i;
	c->n++;
	return 0;
}

static char order[1024];

/* Appends "a" "b" "," to order, cut at its size. */
static void append(const char *a, const char *b)
{
	size_t len = strlen(order);

	if (snprintf(order + len, sizeof(order) - len, "%s%s,", a, b) >= (int)(sizeof(order) - len))
		printf("# order buffer full\n");
}

static int incident_order(const struct ias_incident_rec *i, void *arg)
{
	(void)arg;
	append(i->id, "");
	return 0;
}

static int event_order(const struct ias_incident_event *e, void *arg)
{
	(void)arg;
	append(e->kind, "");
	return 0;
}

static int audit_collect(int64_t ts, const char *actor, const char *action, const char *detail,
			 void *arg)
{
	int *n = arg;
	char one[64];

	snprintf(one, sizeof(one), "%lld:%s:%s:", (long long)ts, actor, action);
	{
		char len[24];

		snprintf(len, sizeof(len), "%zu", strlen(detail));
		append(one, len);
	}
	(*n)++;
	return 0;
}

static int allow_collect(const struct ias_allow_rec *a, void *arg)
{
	(void)arg;
	char kv[32];

	snprintf(kv, sizeof(kv), "%s=", a->kind);
	append(kv, a->value);
	return 0;
}

/* ---- the tests ---- */

static void test_open_errors(void)
{
	struct ias_store *st = (struct ias_store *)1;
	char err[256];
	FILE *f;
	int r;

	r = ias_store_open(NULL, &st, err, sizeof(err));
	is_int(r, -EINVAL, "NULL state_dir refused");
	ok(st == NULL, "handle cleared on failure");
	is_int(ias_store_open("", &st, err, sizeof(err)), -EINVAL, "empty state_dir refused");

	f = fopen(newdir("plainfile"), "w");
	if (f)
		fclose(f);
	r = ias_store_open(newdir("plainfile/state"), &st, err, sizeof(err));
	is_int(r, -ENOTDIR, "state_dir under a regular file cannot be created");
	ok(strstr(err, "cannot create state directory") && strstr(err, "plainfile/state"),
	   "clear message: %s", err);
	r = ias_store_open(newdir("missing/parent/state"), &st, err, sizeof(err));
	is_int(r, -ENOENT, "state_dir with a missing parent");
	ok(strstr(err, "cannot create state directory") != NULL, "message names the cause: %s", err);
	r = ias_store_open(newdir("plainfile"), &st, err, sizeof(err));
	is_int(r, -ENOTDIR, "state_dir that is a file refused");
	ok(strstr(err, "not a directory") != NULL, "message: %s", err);
	is_int(ias_store_open(newdir("x"), NULL, NULL, 0), -EINVAL, "NULL out refused, NULL err ok");
	is_str(ias_store_errmsg(NULL), "no store", "errmsg of NULL store");
	ias_store_close(NULL);
	ok(1, "close(NULL) is harmless");
}

static void test_open_fresh(void)
{
	const char *dir = newdir("fresh");
	char path[600];
	struct stat sb;
	struct ias_store *st = open_ok(dir, "creates state_dir and db");

	ok(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode), "state_dir created");
	is_int(sb.st_mode & 07777, 0750, "state_dir mode 0750");
	snprintf(path, sizeof(path), "%s/sema.db", dir);
	ok(stat(path, &sb) == 0, "sema.db created");
	is_int(sb.st_mode & 07777, 0640, "sema.db mode 0640");
	snprintf(path, sizeof(path), "%s/sema.db-wal", dir);
	if (stat(path, &sb) == 0)
		is_int(sb.st_mode & 07777, 0640, "WAL file has the db's mode");
	else
		ok(0, "WAL file exists while open");
	is_int(raw_int(dir, "PRAGMA user_version"), IAS_STORE_SCHEMA_VERSION,
	       "schema migrated to the current version");
	is_int(raw_int(dir, "PRAGMA application_id"), 0x49415353, "application_id set");
	is_int(raw_int(dir, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"),
	       1, "database is in WAL mode");
	ias_store_close(st);

	st = open_ok(dir, "re-open is idempotent");
	ias_store_close(st);
	st = open_ok(dir, "and again");
	is_int(raw_int(dir, "PRAGMA user_version"), IAS_STORE_SCHEMA_VERSION,
	       "version unchanged by re-opens");
	is_int(raw_int(dir, "SELECT count(*) FROM sqlite_schema WHERE name = 'blocks'"), 1,
	       "tables created once");
	ias_store_close(st);
}

static void test_migrations(void)
{
	const char *dir;
	struct ias_store *st = NULL;
	char err[256];
	int r;

	/* An empty SQLite database made by someone else: migrated from 0. */
	dir = newdir("empty");
	mkdir(dir, 0750);
	is_int(raw_exec(dir, "PRAGMA user_version = 0"), SQLITE_OK, "craft an empty db");
	st = open_ok(dir, "empty db");
	is_int(raw_int(dir, "PRAGMA user_version"), IAS_STORE_SCHEMA_VERSION,
	       "empty db migrated to current");
	ias_store_close(st);

	/* A database from the future. */
	dir = newdir("future");
	st = open_ok(dir, "fresh db for the future test");
	ias_store_close(st);
	is_int(raw_exec(dir, "PRAGMA user_version = 99"), SQLITE_OK, "bump user_version to 99");
	st = (struct ias_store *)1;
	r = ias_store_open(dir, &st, err, sizeof(err));
	is_int(r, -EPROTO, "db newer than the code refused");
	ok(st == NULL, "no handle for a future db");
	ok(strstr(err, "newer") && strstr(err, "99"), "message: %s", err);
	is_int(raw_int(dir, "PRAGMA user_version"), 99, "future db left untouched");

	/* Somebody else's database. */
	dir = newdir("foreign");
	mkdir(dir, 0750);
	is_int(raw_exec(dir, "CREATE TABLE foo (x)"), SQLITE_OK, "craft a foreign db");
	r = ias_store_open(dir, &st, err, sizeof(err));
	is_int(r, -EPROTO, "foreign db refused");
	ok(strstr(err, "not an IAS agent store") != NULL, "message: %s", err);
	is_int(raw_int(dir, "SELECT count(*) FROM sqlite_schema"), 1, "foreign db left untouched");

	/* Not a database at all. */
	dir = newdir("garbage");
	mkdir(dir, 0750);
	{
		char path[600];
		FILE *f;

		snprintf(path, sizeof(path), "%s/sema.db", dir);
		f = fopen(path, "w");
		if (f) {
			for (int i = 0; i < 200; i++)
				fputs("this is not sqlite ", f);
			fclose(f);
		}
	}
	r = ias_store_open(dir, &st, err, sizeof(err));
	is_int(r, -EUCLEAN, "garbage file refused with -EUCLEAN");
	ok(err[0] != '\0', "message: %s", err);
}

static void test_blocks(struct ias_store *st)
{
	struct ias_block_rec b, g;
	int r;

	fill_block(&b, "analyzer", 4242, "I-17", 1000, 0);
	b.uid = 1234;
	b.nqps = IAS_MAX_QPS_PER_BLOCK;
	for (uint32_t i = 0; i < b.nqps; i++)
		b.qpns[i] = 0xffffff - i * 3;
	b.offence = 3;
	b.simulated = 1;
	r = ias_store_block_add(st, &b);
	is_int(r, 0, "block_add with the maximum number of QPs");
	ok(b.id > 0, "id assigned (%lld)", (long long)b.id);
	memset(&g, 0xa5, sizeof(g));
	is_int(ias_store_block_get(st, b.id, &g), 0, "block_get");
	is_int(g.id, b.id, "same id");
	is_int(g.nqps, IAS_MAX_QPS_PER_BLOCK, "all QPs kept");
	ok(memcmp(g.qpns, b.qpns, sizeof(b.qpns)) == 0, "QPs in order");
	is_str(g.origin, "analyzer", "origin");
	is_str(g.node, "n07", "node");
	is_int(g.pid, 4242, "pid");
	is_int(g.uid, 1234, "uid");
	is_str(g.comm, "mpi_app", "comm");
	is_str(g.exe, "/usr/bin/mpi_app", "exe");
	is_str(g.reason, "reported", "reason");
	is_str(g.incident, "I-17", "incident");
	is_int(g.mech, IAS_MECH_PAUSE | IAS_MECH_FREEZE, "mechanism bits");
	is_int(g.qp_orders, 2, "QP orders");
	is_int(g.pid_start, 123456789, "process start time");
	is_int(g.created_ms, 1000, "created_ms");
	is_int(g.until_ms, 0, "until_ms");
	is_int(g.released_ms, 0, "active");
	is_int(g.offence, 3, "offence");
	is_int(g.simulated, 1, "simulated");
	is_str(g.release_note, "", "no release note");

	b.nqps = IAS_MAX_QPS_PER_BLOCK + 1;
	is_int(ias_store_block_add(st, &b), -EINVAL, "more than 256 QPs refused, not truncated");
	fill_block(&b, "bogus", 1, "", 1, 0);
	is_int(ias_store_block_add(st, &b), -EINVAL, "unknown origin refused");
	ok(strstr(ias_store_errmsg(st), "origin") != NULL, "errmsg: %s", ias_store_errmsg(st));
	fill_block(&b, "manual", 1, "", 1, 0);
	memset(b.origin, 'm', sizeof(b.origin));
	is_int(ias_store_block_add(st, &b), -ENAMETOOLONG, "origin without NUL refused");
	fill_block(&b, "manual", 1, "", 1, 0);
	memset(b.exe, 'x', sizeof(b.exe));
	is_int(ias_store_block_add(st, &b), -ENAMETOOLONG, "exe filling its field refused");
	fill_block(&b, "manual", 1, "", 1, 0);
	b.until_ms = -5;
	is_int(ias_store_block_add(st, &b), -EINVAL, "negative until refused");
	fill_block(&b, "manual", 1, "", 1, 0);
	memset(b.reason, 'r', sizeof(b.reason) - 1);
	is_int(ias_store_block_add(st, &b), 0, "reason of exactly 255 bytes fits");
	is_int(ias_store_block_get(st, b.id, &g), 0, "get it");
	is_int(strlen(g.reason), 255, "255-byte reason back whole");

	is_int(ias_store_block_get(st, 999999, &g), -ENOENT, "get of a missing block");
	fill_block(&b, "trace", 77, "", 2000, 0);
	is_int(ias_store_block_add(st, &b), 0, "block with no QPs");
	is_int(ias_store_block_get(st, b.id, &g), 0, "get it");
	is_int(g.nqps, 0, "no QPs");

	is_int(ias_store_block_set_until(st, b.id, 9000), 0, "set_until");
	ias_store_block_get(st, b.id, &g);
	is_int(g.until_ms, 9000, "until updated");
	is_int(ias_store_block_set_until(st, b.id, -1), -EINVAL, "negative until refused");
	is_int(ias_store_block_set_until(st, 999999, 1), -ENOENT, "set_until of a missing block");

	is_int(ias_store_block_release(st, b.id, 0, NULL), -EINVAL, "release time 0 refused");
	{
		char longnote[300];

		memset(longnote, 'n', sizeof(longnote) - 1);
		longnote[sizeof(longnote) - 1] = '\0';
		is_int(ias_store_block_release(st, b.id, 3000, longnote), -ENAMETOOLONG,
		       "over-long release note refused");
		ias_store_block_get(st, b.id, &g);
		is_int(g.released_ms, 0, "refused release changed nothing");
	}
	is_int(ias_store_block_release(st, b.id, 3000, "operator said so"), 0, "release");
	is_int(ias_store_block_release(st, b.id, 3001, "again"), -EALREADY, "second release");
	is_int(ias_store_block_release(st, 999999, 3001, NULL), -ENOENT, "release of a missing block");
	is_int(ias_store_block_set_until(st, b.id, 1), -EALREADY, "set_until of a released block");
	is_int(ias_store_block_get(st, b.id, &g), 0, "released block still readable");
	is_int(g.released_ms, 3000, "released_ms kept");
	is_str(g.release_note, "operator said so", "release note kept");
	is_int(g.until_ms, 9000, "until kept after release");
	is_str(g.comm, "mpi_app", "history intact");
}

static void test_filters(void)
{
	struct ias_store *st = open_ok(newdir("filters"), "db for filter tests");
	struct ias_block_rec b;
	struct ias_block_filter f;
	struct ids c;
	int64_t A, B, C, D;

	fill_block(&b, "analyzer", 100, "I-1", 10, 1000);
	ias_store_block_add(st, &b);
	A = b.id;
	fill_block(&b, "trace", 100, "I-2", 11, 0);
	ias_store_block_add(st, &b);
	B = b.id;
	fill_block(&b, "manual", 200, "I-1", 12, 500);
	ias_store_block_add(st, &b);
	C = b.id;
	ias_store_block_release(st, C, 600, "done");
	fill_block(&b, "manager", 300, "", 13, 2000);
	b.simulated = 1;
	ias_store_block_add(st, &b);
	D = b.id;

	c = walk(st, NULL);
	is_int(c.n, 4, "NULL filter: every block");
	ok(same_ids(&c, 4, (int64_t[]){ A, B, C, D }), "ordered by id");
	memset(&f, 0, sizeof(f));
	c = walk(st, &f);
	ok(same_ids(&c, 3, (int64_t[]){ A, B, D }), "empty filter: active only");
	f.pid = 100;
	c = walk(st, &f);
	ok(same_ids(&c, 2, (int64_t[]){ A, B }), "pid 100");
	f.pid = 200;
	c = walk(st, &f);
	is_int(c.n, 0, "pid 200 active: none");
	f.include_released = 1;
	c = walk(st, &f);
	ok(same_ids(&c, 1, (int64_t[]){ C }), "pid 200 with released");
	memset(&f, 0, sizeof(f));
	f.incident = "I-1";
	c = walk(st, &f);
	ok(same_ids(&c, 1, (int64_t[]){ A }), "incident I-1 active");
	f.include_released = 1;
	c = walk(st, &f);
	ok(same_ids(&c, 2, (int64_t[]){ A, C }), "incident I-1 with released");
	f.pid = 100;
	c = walk(st, &f);
	ok(same_ids(&c, 1, (int64_t[]){ A }), "incident I-1 and pid 100");
	memset(&f, 0, sizeof(f));
	f.incident = "";
	c = walk(st, &f);
	ok(same_ids(&c, 1, (int64_t[]){ D }), "incident \"\": blocks without one");
	memset(&f, 0, sizeof(f));
	f.expired_before_ms = 999;
	c = walk(st, &f);
	is_int(c.n, 0, "nothing expired before 999");
	f.expired_before_ms = 1000;
	c = walk(st, &f);
	ok(same_ids(&c, 1, (int64_t[]){ A }), "expired at 1000: until <= bound");
	f.expired_before_ms = 2000;
	c = walk(st, &f);
	ok(same_ids(&c, 2, (int64_t[]){ A, D }), "expired by 2000 (no-end block B never)");
	f.include_released = 1;
	f.expired_before_ms = 600;
	c = walk(st, &f);
	is_int(c.n, 0, "expired filter ignores released blocks even with include_released");
	f.expired_before_ms = 2000;
	f.pid = 300;
	c = walk(st, &f);
	ok(same_ids(&c, 1, (int64_t[]){ D }), "expired and pid");
	f.pid = 0;
	f.incident = "I-1";
	c = walk(st, &f);
	ok(same_ids(&c, 1, (int64_t[]){ A }), "expired and incident");

	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	is_int(ias_store_blocks_foreach(st, NULL, collect_block, &c), 7,
	       "callback's non-zero value stops and is returned");
	is_int(c.n, 2, "stopped after two");
	is_int(ias_store_blocks_foreach(st, NULL, NULL, NULL), -EINVAL, "NULL callback refused");

	/* Many blocks: the walk crosses batch boundaries without loss. */
	for (int i = 0; i < 75; i++) {
		fill_block(&b, "analyzer", 5000 + i, "I-many", 20 + i, 0);
		ias_store_block_add(st, &b);
	}
	memset(&f, 0, sizeof(f));
	f.incident = "I-many";
	c = walk(st, &f);
	is_int(c.n, 75, "75 blocks seen across batches");
	{
		int sorted = 1;

		for (int i = 1; i < c.n; i++)
			sorted &= c.id[i] > c.id[i - 1];
		ok(sorted, "strictly increasing ids");
	}

	/* A callback may write to the store: release every expired block. */
	{
		struct release_ctx rc = { st, 0, 0 };

		memset(&f, 0, sizeof(f));
		f.expired_before_ms = 2000;
		is_int(ias_store_blocks_foreach(st, &f, release_each, &rc), 0,
		       "walk that releases from its callback");
		is_int(rc.released, 2, "both expired blocks released");
		is_int(rc.failed, 0, "no failure");
		c = walk(st, &f);
		is_int(c.n, 0, "nothing expired any more");
	}
	ias_store_close(st);
}

static void test_offences(struct ias_store *st)
{
	struct ias_block_rec b;
	uint32_t n = 99;

	is_int(ias_store_offence_count(st, "/opt/evil", 42, 0, &n), 0, "count with no blocks");
	is_int(n, 0, "zero offences");
	for (int i = 0; i < 3; i++) {
		fill_block(&b, "analyzer", 600 + i, "", 100000 + i * 1000, 0);
		snprintf(b.exe, sizeof(b.exe), "/opt/evil");
		b.uid = 42;
		ias_store_block_add(st, &b);
		if (i == 0)
			ias_store_block_release(st, b.id, 100500, "released still counts");
	}
	fill_block(&b, "analyzer", 700, "", 100000, 0);
	snprintf(b.exe, sizeof(b.exe), "/opt/evil");
	b.uid = 43;
	ias_store_block_add(st, &b);
	is_int(ias_store_offence_count(st, "/opt/evil", 42, 0, &n), 0, "count");
	is_int(n, 3, "three offences of exe+uid, released included");
	ias_store_offence_count(st, "/opt/evil", 42, 101000, &n);
	is_int(n, 2, "since bounds the count (inclusive)");
	ias_store_offence_count(st, "/opt/evil", 42, 102001, &n);
	is_int(n, 0, "since after all");
	ias_store_offence_count(st, "/opt/evil", 43, 0, &n);
	is_int(n, 1, "other uid counted apart");
	is_int(ias_store_offence_count(st, NULL, 0, 0, &n), -EINVAL, "NULL exe refused");
}

static void test_incidents(struct ias_store *st)
{
	struct ias_incident_rec in, g;
	struct ias_incident_event ev;
	struct ids c;

	memset(&in, 0, sizeof(in));
	snprintf(in.id, sizeof(in.id), "I-0000000000000002");
	snprintf(in.origin, sizeof(in.origin), "analyzer");
	snprintf(in.node, sizeof(in.node), "n07");
	in.opened_ms = 500;
	in.root_pid = 4242;
	snprintf(in.reason, sizeof(in.reason), "detector");
	is_int(ias_store_incident_add(st, &in), 0, "incident_add (state \"\" means open)");
	is_int(ias_store_incident_add(st, &in), -EEXIST, "duplicate id refused");
	ok(strstr(ias_store_errmsg(st), "already exists") != NULL, "errmsg: %s",
	   ias_store_errmsg(st));
	is_int(ias_store_incident_get(st, in.id, &g), 0, "incident_get");
	is_str(g.state, "open", "state open");
	is_str(g.reason, "detector", "reason");
	is_int(g.root_pid, 4242, "root pid");
	is_int(g.opened_ms, 500, "opened_ms");
	is_int(ias_store_incident_get(st, "I-none", &g), -ENOENT, "missing incident");
	is_int(ias_store_incident_set_state(st, in.id, "closed", 900), 0, "close");
	ias_store_incident_get(st, in.id, &g);
	is_str(g.state, "closed", "closed");
	is_int(g.closed_ms, 900, "closed_ms");
	is_int(ias_store_incident_set_state(st, in.id, "open", 950), 0, "re-open");
	ias_store_incident_get(st, in.id, &g);
	is_int(g.closed_ms, 0, "closed_ms cleared on re-open");
	is_int(ias_store_incident_set_state(st, in.id, "weird", 1), -EINVAL, "unknown state");
	is_int(ias_store_incident_set_state(st, "I-none", "closed", 1), -ENOENT,
	       "set_state of a missing incident");
	snprintf(in.state, sizeof(in.state), "pending");
	snprintf(in.id, sizeof(in.id), "I-x");
	is_int(ias_store_incident_add(st, &in), -EINVAL, "unknown state on add");
	memset(in.state, 0, sizeof(in.state));
	in.id[0] = '\0';
	is_int(ias_store_incident_add(st, &in), -EINVAL, "empty id refused");
	snprintf(in.id, sizeof(in.id), "I-0000000000000001");
	in.opened_ms = 400;
	is_int(ias_store_incident_add(st, &in), 0, "second incident, opened earlier");
	snprintf(in.id, sizeof(in.id), "I-0000000000000000");
	in.opened_ms = 500;
	snprintf(in.state, sizeof(in.state), "closed");
	in.closed_ms = 501;
	is_int(ias_store_incident_add(st, &in), 0, "third incident, added closed");
	order[0] = '\0';
	is_int(ias_store_incidents_foreach(st, incident_order, NULL), 0, "incidents_foreach");
	is_str(order, "I-0000000000000001,I-0000000000000000,I-0000000000000002,",
	       "ordered by opened_ms, then id");
	memset(&c, 0, sizeof(c));
	ias_store_incidents_foreach(st, count_incident, &c);
	is_int(c.n, 3, "three incidents");

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.incident, sizeof(ev.incident), "I-0000000000000002");
	snprintf(ev.node, sizeof(ev.node), "n11");
	ev.qpn = 0x1a;
	const char *kinds[] = { "block", "trace-out", "trace-in" };
	for (int i = 0; i < 3; i++) {
		snprintf(ev.kind, sizeof(ev.kind), "%s", kinds[i]);
		ev.ts_ms = 1000 - i; /* clocks disagree: insertion order wins */
		is_int(ias_store_incident_event_add(st, &ev), 0, "event_add");
	}
	snprintf(ev.incident, sizeof(ev.incident), "I-remote");
	snprintf(ev.kind, sizeof(ev.kind), "other");
	is_int(ias_store_incident_event_add(st, &ev), 0,
	       "event for an incident this node has no row for");
	order[0] = '\0';
	is_int(ias_store_incident_events_foreach(st, "I-0000000000000002", event_order, NULL), 0,
	       "events_foreach");
	is_str(order, "block,trace-out,trace-in,", "events of that incident, in insertion order");
	order[0] = '\0';
	ias_store_incident_events_foreach(st, "I-nothing", event_order, NULL);
	is_str(order, "", "no events for an unknown incident");
	ev.incident[0] = '\0';
	is_int(ias_store_incident_event_add(st, &ev), -EINVAL, "event without incident refused");
}

static void test_seq(struct ias_store *st)
{
	is_int(ias_store_next_seq(st, "incident"), 1, "first value is 1");
	is_int(ias_store_next_seq(st, "incident"), 2, "then 2");
	is_int(ias_store_next_seq(st, "incident"), 3, "then 3");
	is_int(ias_store_next_seq(st, "other"), 1, "independent names");
	is_int(ias_store_next_seq(st, ""), 0, "empty name: 0");
	is_int(ias_store_next_seq(st, NULL), 0, "NULL name: 0");
}

static void test_audit(struct ias_store *st, const char *dir)
{
	char big[IAS_STORE_DETAIL_MAX + 2];
	int n = 0;

	is_int(ias_store_audit(st, 100, "iasctl", "release", "block 1"), 0, "audit");
	is_int(ias_store_audit(st, 200, "sema", "block", NULL), 0, "audit with NULL detail");
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(ias_store_audit(st, 300, "sema", "x", big), -ENAMETOOLONG,
	       "detail over the bound refused");
	big[IAS_STORE_DETAIL_MAX] = '\0';
	is_int(ias_store_audit(st, 300, "sema", "trace", big), 0, "detail at the bound accepted");
	is_int(ias_store_audit(st, 300, "", "x", NULL), -EINVAL, "empty actor refused");
	is_int(ias_store_audit(st, 300, "a", NULL, NULL), -EINVAL, "NULL action refused");
	order[0] = '\0';
	is_int(ias_store_audit_foreach(st, 0, audit_collect, &n), 0, "audit_foreach");
	is_int(n, 3, "three entries");
	is_str(order, "100:iasctl:release:7,200:sema:block:0,300:sema:trace:4095,",
	       "entries in order, detail whole");
	n = 0;
	order[0] = '\0';
	ias_store_audit_foreach(st, 200, audit_collect, &n);
	is_int(n, 2, "since bounds the walk");

	ok(raw_exec(dir, "UPDATE audit SET actor = 'x'") == SQLITE_CONSTRAINT,
	   "UPDATE of the audit log refused by trigger");
	ok(raw_exec(dir, "DELETE FROM audit") == SQLITE_CONSTRAINT,
	   "DELETE from the audit log refused by trigger");
	is_int(raw_int(dir, "SELECT count(*) FROM audit"), 3, "audit log intact");
	ok(raw_exec(dir, "DELETE FROM blocks") == SQLITE_CONSTRAINT,
	   "DELETE of blocks refused by trigger");
	ok(raw_exec(dir, "UPDATE blocks SET released_ms = 0") == SQLITE_CONSTRAINT,
	   "un-releasing a block refused by trigger");
}

static void test_allow(struct ias_store *st, const char *dir)
{
	struct ias_allow_rec a;

	memset(&a, 0, sizeof(a));
	snprintf(a.kind, sizeof(a.kind), "exe");
	snprintf(a.value, sizeof(a.value), "/usr/sbin/opensm");
	a.created_ms = 10;
	snprintf(a.note, sizeof(a.note), "subnet manager");
	is_int(ias_store_allow_add(st, &a), 0, "allow_add");
	ok(a.id > 0, "id assigned");
	is_int(ias_store_allow_add(st, &a), -EEXIST, "same kind+value refused");
	snprintf(a.kind, sizeof(a.kind), "unit");
	snprintf(a.value, sizeof(a.value), "sshd.service");
	is_int(ias_store_allow_add(st, &a), 0, "second entry");
	snprintf(a.kind, sizeof(a.kind), "comm");
	snprintf(a.value, sizeof(a.value), "/usr/sbin/opensm");
	is_int(ias_store_allow_add(st, &a), 0, "same value, other kind");
	snprintf(a.kind, sizeof(a.kind), "host");
	is_int(ias_store_allow_add(st, &a), -EINVAL, "unknown kind refused");
	snprintf(a.kind, sizeof(a.kind), "pid");
	a.value[0] = '\0';
	is_int(ias_store_allow_add(st, &a), -EINVAL, "empty value refused");
	order[0] = '\0';
	is_int(ias_store_allow_foreach(st, allow_collect, NULL), 0, "allow_foreach");
	is_str(order, "exe=/usr/sbin/opensm,unit=sshd.service,comm=/usr/sbin/opensm,",
	       "entries ordered by id");
	is_int(ias_store_allow_remove(st, "unit", "sshd.service"), 0, "allow_remove");
	is_int(ias_store_allow_remove(st, "unit", "sshd.service"), -ENOENT, "remove again");
	is_int(ias_store_allow_remove(st, "user", "nobody"), -ENOENT, "remove unknown");
	order[0] = '\0';
	ias_store_allow_foreach(st, allow_collect, NULL);
	is_str(order, "exe=/usr/sbin/opensm,comm=/usr/sbin/opensm,", "removed entry not listed");
	is_int(raw_int(dir, "SELECT count(*) FROM allowlist WHERE removed_ms > 0"), 1,
	       "removed entry kept as history");
	snprintf(a.kind, sizeof(a.kind), "unit");
	snprintf(a.value, sizeof(a.value), "sshd.service");
	is_int(ias_store_allow_add(st, &a), 0, "re-add after removal");
}

static void test_alerts(struct ias_store *st)
{
	struct ias_alert_rec a, g;
	uint32_t n = 99;

	is_int(ias_store_alert_count(st, &n), 0, "alert_count");
	is_int(n, 0, "none waiting");
	is_int(ias_store_alert_pop(st, &g), -ENOENT, "pop from empty");
	for (int i = 0; i < 3; i++) {
		memset(&a, 0, sizeof(a));
		a.pid = 100 + i;
		snprintf(a.incident, sizeof(a.incident), "I-%d", i);
		snprintf(a.reason, sizeof(a.reason), "r%d", i);
		a.created_ms = 50 + i;
		is_int(ias_store_alert_push(st, &a), 0, "alert_push");
	}
	ias_store_alert_count(st, &n);
	is_int(n, 3, "three waiting");
	is_int(ias_store_alert_pop(st, &g), 0, "pop");
	is_int(g.pid, 100, "oldest first");
	is_str(g.incident, "I-0", "incident");
	is_str(g.reason, "r0", "reason");
	is_int(g.created_ms, 50, "created_ms");
	ias_store_alert_count(st, &n);
	is_int(n, 2, "two waiting");

	is_int(ias_store_begin(st), 0, "begin");
	is_int(ias_store_alert_pop(st, &g), 0, "pop inside a transaction");
	is_int(g.pid, 101, "next one");
	is_int(ias_store_rollback(st), 0, "rollback");
	ias_store_alert_count(st, &n);
	is_int(n, 2, "rolled-back pop is undone");
}

static void test_kv(struct ias_store *st)
{
	char buf[64], small[4], key[IAS_STORE_KEY_MAX + 2];

	is_int(ias_store_kv_set(st, "policy", "lca"), 0, "kv_set");
	is_int(ias_store_kv_get(st, "policy", buf, sizeof(buf)), 0, "kv_get");
	is_str(buf, "lca", "value");
	is_int(ias_store_kv_set(st, "policy", "strict"), 0, "overwrite");
	ias_store_kv_get(st, "policy", buf, sizeof(buf));
	is_str(buf, "strict", "new value");
	is_int(ias_store_kv_get(st, "policy", small, sizeof(small)), -ERANGE,
	       "small buffer: -ERANGE, not truncated");
	is_str(small, "", "buffer left empty");
	is_int(ias_store_kv_get(st, "nope", buf, sizeof(buf)), -ENOENT, "missing key");
	is_int(ias_store_kv_set(st, "empty", ""), 0, "empty value allowed");
	is_int(ias_store_kv_get(st, "empty", buf, sizeof(buf)), 0, "get empty value");
	is_str(buf, "", "empty value back");
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	is_int(ias_store_kv_set(st, key, "v"), -ENAMETOOLONG, "over-long key refused");
	is_int(ias_store_kv_set(st, "", "v"), -EINVAL, "empty key refused");
}

static void test_transactions(struct ias_store *st, const char *dir)
{
	struct ias_block_rec b, g;
	struct ias_incident_rec in, gi;
	int64_t audits = raw_int(dir, "SELECT count(*) FROM audit");
	int64_t x, y;

	is_int(ias_store_commit(st), -EINVAL, "commit without begin");
	is_int(ias_store_rollback(st), -EINVAL, "rollback without begin");

	memset(&in, 0, sizeof(in));
	snprintf(in.id, sizeof(in.id), "I-tx");
	snprintf(in.origin, sizeof(in.origin), "analyzer");
	is_int(ias_store_begin(st), 0, "begin");
	fill_block(&b, "analyzer", 31337, "I-tx", 1, 0);
	b.nqps = 2;
	b.qpns[0] = 7;
	b.qpns[1] = 8;
	is_int(ias_store_block_add(st, &b), 0, "block inside the transaction");
	x = b.id;
	is_int(ias_store_incident_add(st, &in), 0, "incident inside the transaction");
	is_int(ias_store_audit(st, 1, "sema", "block", "tx"), 0, "audit inside the transaction");
	is_int(ias_store_block_get(st, x, &g), 0, "visible inside the transaction");
	is_int(ias_store_rollback(st), 0, "rollback");
	is_int(ias_store_block_get(st, x, &g), -ENOENT, "rolled-back block is gone");
	is_int(ias_store_incident_get(st, "I-tx", &gi), -ENOENT, "rolled-back incident is gone");
	is_int(raw_int(dir, "SELECT count(*) FROM audit"), audits, "rolled-back audit is gone");
	is_int(raw_int(dir, "SELECT count(*) FROM block_qps WHERE qpn IN (7, 8)"), 0,
	       "rolled-back QPs are gone");

	/* Nesting: the inner rollback undoes only its level. */
	is_int(ias_store_begin(st), 0, "outer begin");
	is_int(ias_store_begin(st), 0, "inner begin");
	fill_block(&b, "analyzer", 31338, "", 1, 0);
	ias_store_block_add(st, &b);
	x = b.id;
	is_int(ias_store_rollback(st), 0, "inner rollback");
	fill_block(&b, "analyzer", 31339, "", 1, 0);
	ias_store_block_add(st, &b);
	y = b.id;
	/* A failing call inside the transaction does not end it. */
	is_int(ias_store_incident_add(st, &(struct ias_incident_rec){ .id = "I-0000000000000002" }),
	       -EEXIST, "failing call inside the transaction");
	is_int(ias_store_commit(st), 0, "outer commit");
	{
		struct ias_block_filter f = { .pid = 31338, .include_released = 1 };
		struct ids c = walk(st, &f);

		is_int(c.n, 0, "inner rolled-back block absent");
		f.pid = 31339;
		c = walk(st, &f);
		ok(c.n == 1 && c.id[0] == y, "outer block committed");
		(void)x;
	}
	is_int(ias_store_commit(st), -EINVAL, "no transaction left open");

	is_int(ias_store_begin(st), 0, "begin");
	ias_store_incident_add(st, &in);
	is_int(ias_store_commit(st), 0, "commit");
	is_int(ias_store_incident_get(st, "I-tx", &gi), 0, "committed incident present");

	/* A transaction left open at close is rolled back. */
	is_int(ias_store_begin(st), 0, "begin, then close without commit");
	ias_store_kv_set(st, "uncommitted", "1");
}

static void test_persist(const char *dir)
{
	struct ias_store *st = open_ok(dir, "re-open after close");
	struct ias_block_rec g;
	struct ias_incident_rec gi;
	struct ias_block_filter f = { .include_released = 1, .incident = "I-17" };
	struct ids c;
	uint32_t n = 0;
	char buf[32];
	int na = 0;

	if (!st)
		return;
	c = walk(st, &f);
	is_int(c.n, 1, "block of I-17 persisted");
	is_int(ias_store_block_get(st, c.id[0], &g), 0, "get it");
	is_int(g.nqps, IAS_MAX_QPS_PER_BLOCK, "its 256 QPs persisted");
	is_int(g.qpns[255], 0xffffff - 255 * 3, "last QP");
	is_int(g.simulated, 1, "simulated flag persisted");
	c = walk(st, NULL);
	is_int(c.n, 8, "all eight blocks persisted");
	is_int(ias_store_incident_get(st, "I-0000000000000002", &gi), 0, "incident persisted");
	is_str(gi.state, "open", "its state");
	order[0] = '\0';
	ias_store_incident_events_foreach(st, "I-0000000000000002", event_order, NULL);
	is_str(order, "block,trace-out,trace-in,", "events persisted");
	is_int(ias_store_next_seq(st, "incident"), 4, "sequence continues after re-open");
	ias_store_audit_foreach(st, 0, audit_collect, &na);
	is_int(na, 3, "audit persisted");
	order[0] = '\0';
	ias_store_allow_foreach(st, allow_collect, NULL);
	is_str(order, "exe=/usr/sbin/opensm,comm=/usr/sbin/opensm,unit=sshd.service,",
	       "allow-list persisted");
	ias_store_alert_count(st, &n);
	is_int(n, 2, "untaken alerts persisted");
	is_int(ias_store_kv_get(st, "policy", buf, sizeof(buf)), 0, "kv persisted");
	is_str(buf, "strict", "kv value");
	is_int(ias_store_kv_get(st, "uncommitted", buf, sizeof(buf)), -ENOENT,
	       "transaction open at close was rolled back");
	ias_store_close(st);
}

/* Text longer than a field, written behind the store's back, comes back cut
 * to the field, NUL-terminated, and nothing past the record is touched. */
static void test_long_text_read(void)
{
	const char *dir = newdir("long");
	struct ias_store *st = open_ok(dir, "db for long-text reads");
	struct { struct ias_block_rec rec; char canary[64]; } w;
	struct ias_block_rec b;
	char sql[1024], comm[200];
	int all = 1;

	if (!st)
		return;
	fill_block(&b, "manual", 1, "", 1, 0);
	ias_store_block_add(st, &b);
	/* 30 ASCII bytes, then 'é' (2 bytes) straddling the 31-byte limit. */
	memset(comm, 'c', 30);
	strcpy(comm + 30, "\xc3\xa9tail-that-goes-on-and-on");
	snprintf(sql, sizeof(sql),
		 "UPDATE blocks SET comm = '%s', incident = replace(hex(zeroblob(300)), '00', 'i'),"
		 " reason = replace(hex(zeroblob(1000)), '00', 'r') WHERE id = %lld", comm, (long long)b.id);
	is_int(raw_exec(dir, sql), SQLITE_OK, "write over-long text behind the store's back");
	memset(&w, 0x5a, sizeof(w));
	is_int(ias_store_block_get(st, b.id, &w.rec), 0, "get succeeds");
	is_int(strlen(w.rec.comm), 30, "comm cut before a split UTF-8 character");
	is_int(strlen(w.rec.incident), sizeof(w.rec.incident) - 1, "incident cut to its field");
	is_int(strlen(w.rec.reason), sizeof(w.rec.reason) - 1, "reason cut to its field");
	for (size_t i = 0; i < sizeof(w.canary); i++)
		all &= w.canary[i] == 0x5a;
	ok(all, "nothing written past the record");
	ias_store_close(st);
}

static void test_two_handles(void)
{
	const char *dir = newdir("two");
	struct ias_store *a = open_ok(dir, "first handle");
	struct ias_store *b = open_ok(dir, "second handle on the same db");
	char buf[16];

	if (!a || !b)
		goto out;
	is_int(ias_store_kv_set(a, "k", "v1"), 0, "write through the first");
	is_int(ias_store_kv_get(b, "k", buf, sizeof(buf)), 0, "read through the second");
	is_str(buf, "v1", "second handle sees the committed write");
	is_int(ias_store_next_seq(a, "s"), 1, "seq via first");
	is_int(ias_store_next_seq(b, "s"), 2, "seq via second continues");
out:
	ias_store_close(a);
	ias_store_close(b);
}

static void test_reports(struct ias_store *st, const char *dir)
{
	struct ias_report_rec r, got;
	int i;

	is_int(ias_store_report_get(st, 0, &got), -ENOENT, "no latest report in an empty outbox");
	is_int(ias_store_report_next(st, &got), -ENOENT, "nothing undelivered in an empty outbox");
	for (i = 1; i <= 3; i++) {
		memset(&r, 0, sizeof(r));
		r.kind = (uint8_t)(i == 3 ? 3 : 1);
		snprintf(r.incident, sizeof(r.incident), "I-abcdef-%d", i);
		r.block_id = i;
		r.pid = 100 + i;
		r.qp_count = (uint32_t)i;
		snprintf(r.comm, sizeof(r.comm), "app%d", i);
		r.peer_lid = 7;
		r.peer_qpn = 0x200 + (uint32_t)i;
		r.event_ms = 1000 * i;
		is_int(ias_store_report_add(st, &r), 0, "add a report");
		is_int(r.seq, i, "report seqs run 1, 2, 3");
	}
	r.kind = 9;
	is_int(ias_store_report_add(st, &r), -EINVAL, "an unknown report kind is refused");
	is_int(ias_store_report_get(st, 0, &got), 0, "latest report");
	is_int(got.seq, 3, "latest is seq 3");
	is_int(ias_store_report_get(st, 2, &got), 0, "report by seq");
	ok(got.kind == 1 && got.pid == 102 && got.qp_count == 2 && got.peer_qpn == 0x202 &&
	   strcmp(got.comm, "app2") == 0 && strcmp(got.incident, "I-abcdef-2") == 0,
	   "every field comes back");
	is_int(ias_store_report_get(st, 4, &got), -ENOENT, "a seq not yet used: ENOENT");
	is_int(ias_store_report_next(st, &got), 0, "oldest undelivered");
	is_int(got.seq, 1, "is seq 1");
	is_int(ias_store_report_delivered(st, 1, 5000), 0, "mark 1 delivered");
	is_int(ias_store_report_next(st, &got), 0, "next undelivered");
	is_int(got.seq, 2, "is seq 2");
	is_int(ias_store_report_get(st, 1, &got), 0, "a delivered report is kept");
	is_int(got.delivered_ms, 5000, "with its delivery time");
	ok(raw_exec(dir, "DELETE FROM reports") != SQLITE_OK, "reports cannot be deleted");
}

struct ev_times {
	int n;
	int64_t ms[4], us[4];
};

static int ev_times_cb(const struct ias_incident_event *e, void *arg)
{
	struct ev_times *t = arg;

	if (t->n < 4) {
		t->ms[t->n] = e->ts_ms;
		t->us[t->n] = e->ts_us;
	}
	t->n++;
	return 0;
}

static void test_event_us(struct ias_store *st)
{
	struct ias_incident_event ev;
	struct ias_allow_rec a;
	struct ev_times t = { 0 };
	uint64_t gen;

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.incident, sizeof(ev.incident), "I-us");
	snprintf(ev.kind, sizeof(ev.kind), "trace-in");
	ev.ts_ms = 1700000000123;
	ev.ts_us = 1700000000123456;
	is_int(ias_store_incident_event_add(st, &ev), 0, "event with a us time");
	ev.ts_us = 0;
	is_int(ias_store_incident_event_add(st, &ev), 0, "event without one");
	is_int(ias_store_incident_events_foreach(st, "I-us", ev_times_cb, &t), 0, "read them");
	is_int(t.n, 2, "two events");
	ok(t.us[0] == 1700000000123456 && t.ms[0] == 1700000000123, "the us time is kept");
	ok(t.us[1] == 1700000000123000, "no us time: the ms time in us");

	gen = ias_store_allow_gen(st);
	memset(&a, 0, sizeof(a));
	snprintf(a.kind, sizeof(a.kind), "comm");
	snprintf(a.value, sizeof(a.value), "gen-test");
	is_int(ias_store_allow_add(st, &a), 0, "allow add");
	ok(ias_store_allow_gen(st) != gen, "an allow-list add changes the generation");
	gen = ias_store_allow_gen(st);
	is_int(ias_store_allow_remove(st, "comm", "gen-test"), 0, "allow remove");
	ok(ias_store_allow_gen(st) != gen, "a removal changes it too");
	gen = ias_store_allow_gen(st);
	is_int(ias_store_allow_remove(st, "comm", "gen-test"), -ENOENT, "remove again: -ENOENT");
	ok(ias_store_allow_gen(st) == gen, "a failed removal does not");
}

static void test_upgrade_v2(void)
{
	const char *dir = newdir("v2");
	struct ias_store *st = open_ok(dir, "db for the v2 upgrade");
	struct ev_times t = { 0 };

	if (!st)
		return;
	ias_store_close(st);
	/* Make it a version-2 database with one event: no ts_us yet. */
	is_int(raw_exec(dir, TO_V3), SQLITE_OK, "down to version 3");
	is_int(raw_exec(dir, "ALTER TABLE incident_events DROP COLUMN ts_us;"
			"INSERT INTO incident_events (incident, ts_ms, node, pid, qpn, kind, text)"
			" VALUES ('I-old', 1234, 'n1', 1, 2, 'block', 'old');"
			"PRAGMA user_version = 2"), SQLITE_OK, "craft a version-2 db");
	st = open_ok(dir, "open a version-2 db");
	if (!st)
		return;
	is_int(raw_int(dir, "PRAGMA user_version"), IAS_STORE_SCHEMA_VERSION,
	       "version 2 is migrated to the current version");
	is_int(ias_store_incident_events_foreach(st, "I-old", ev_times_cb, &t), 0,
	       "old events readable");
	ok(t.n == 1 && t.us[0] == 1234000, "an old event gets its ms time in us");
	ias_store_close(st);
}

static void test_upgrade_v1(void)
{
	const char *dir = newdir("v1");
	struct ias_store *st = open_ok(dir, "db for the v1 upgrade");
	struct ias_report_rec r;

	if (!st)
		return;
	ias_store_close(st);
	/* Make it a version-1 database: no outbox yet. */
	is_int(raw_exec(dir, TO_V3), SQLITE_OK, "down to version 3");
	is_int(raw_exec(dir, "DROP TRIGGER reports_no_delete; DROP TABLE reports;"
			"ALTER TABLE incident_events DROP COLUMN ts_us;"
			"PRAGMA user_version = 1"), SQLITE_OK, "craft a version-1 db");
	st = open_ok(dir, "open a version-1 db");
	if (!st)
		return;
	is_int(raw_int(dir, "PRAGMA user_version"), IAS_STORE_SCHEMA_VERSION,
	       "version 1 is migrated to the current version");
	memset(&r, 0, sizeof(r));
	r.kind = 1;
	r.event_ms = 1;
	is_int(ias_store_report_add(st, &r), 0, "the migrated db has an outbox");
	is_int(r.seq, 1, "starting at seq 1");
	ias_store_close(st);
}

/* A fresh store taken back to schema 3 (see TO_V3) plus the given rows. */
static const char *make_v3(const char *name, const char *rows)
{
	const char *dir = newdir(name);
	struct ias_store *st = open_ok(dir, name);

	ias_store_close(st);
	ok(raw_exec(dir, TO_V3) == SQLITE_OK, "%s: down to version 3", name);
	if (rows)
		ok(raw_exec(dir, rows) == SQLITE_OK, "%s: schema-3 rows", name);
	return dir;
}

#define V3_BLOCK(id, mech) \
	"INSERT INTO blocks (id, origin, node, pid, uid, comm, exe, reason, created_ms," \
	" mechanism) VALUES (" #id ", 'analyzer', 'n1', 100" #id ", 0, 'c', '/e', 'r', 1, '" \
	mech "');"

static void test_upgrade_v3(void)
{
	const char *dir = make_v3("v3",
		V3_BLOCK(1, "pause(2),freeze") V3_BLOCK(2, "dry-run:cut(1)") V3_BLOCK(3, "kill")
		V3_BLOCK(4, "none") V3_BLOCK(5, "") V3_BLOCK(6, "freeze")
		"INSERT INTO kv VALUES ('eproc:6', 'pid=1006 did=3 cg=/ias/ias-block-6"
		" from=/user.slice/x.scope', 1);"
		"INSERT INTO kv VALUES ('eproc:3', 'pid=1003 did=16 cg=- from=-', 1);"
		"INSERT INTO kv VALUES ('policy', 'version=7 level=2 mode=2 dry_run=1 base_ms=60000"
		" max_ms=3600000 escalation=4 hops=8 fanout=64', 1);"
		"INSERT INTO kv VALUES ('manager_lid', '12', 1);");
	static const struct { uint32_t mech, orders; const char *text; } want[] = {
		{ IAS_MECH_PAUSE | IAS_MECH_FREEZE, 2, "pause(2),freeze" },
		{ IAS_MECH_CUT, 1, "cut(1)" }, { IAS_MECH_KILL, 0, "kill" },
		{ 0, 0, "none" }, { 0, 0, "none" }, { IAS_MECH_FREEZE, 0, "freeze" },
	};
	struct ias_store *st = open_ok(dir, "a schema-3 db with text rows");
	struct ias_block_rec b;
	struct ias_proc_undo u;
	struct ias_policy p;
	char buf[32], v[16];

	if (!st)
		return;
	is_int(raw_int(dir, "PRAGMA user_version"), 4, "migrated to version 4");
	for (int i = 0; i < 6; i++) {
		ok(ias_store_block_get(st, i + 1, &b) == 0, "block %d readable", i + 1);
		ok(b.mech == want[i].mech && b.qp_orders == want[i].orders,
		   "block %d: mech %#x orders %u", i + 1, b.mech, b.qp_orders);
		ok(strcmp(ias_mech_str(b.mech, b.qp_orders, buf, sizeof(buf)), want[i].text) == 0,
		   "block %d shown as before: %s", i + 1, buf);
		ok(b.pid_start == 0, "block %d: start time unknown", i + 1);
	}
	is_int(raw_int(dir, "SELECT count(*) FROM pragma_table_info('blocks')"
		       " WHERE name = 'mechanism'"), 0, "the text column is gone");
	is_int(ias_store_proc_undo_get(st, 6, &u), 0, "eproc:6 became an undo row");
	ok(u.block_id == 6 && u.pid == 1006 && u.did == 3 && u.pid_start == 0,
	   "pid, did, block id");
	is_str(u.cgroup, "/ias/ias-block-6", "block cgroup");
	is_str(u.origin, "/user.slice/x.scope", "origin cgroup");
	is_int(ias_store_proc_undo_get(st, 3, &u), 0, "eproc:3 became an undo row");
	ok(u.did == 16 && !u.cgroup[0] && !u.origin[0], "\"-\" paths are empty");
	is_int(ias_store_proc_undo_get(st, 1, &u), -ENOENT, "no undo row where none was");
	is_int(raw_int(dir, "SELECT count(*) FROM kv WHERE key GLOB 'eproc:*' OR key = 'policy'"),
	       0, "the replaced key-value rows are deleted");
	is_int(ias_store_kv_get(st, "manager_lid", v, sizeof(v)), 0, "other keys are kept");
	is_int(ias_store_policy_get(st, &p), 0, "the policy is typed");
	ok(p.version == 7 && p.level == 2 && p.block_mode == 2 && p.dry_run == 1 &&
	   p.base_duration_ms == 60000 && p.max_duration_ms == 3600000 && p.escalation == 4 &&
	   p.hop_limit == 8 && p.fanout_limit == 64, "every policy field");
	ok(ias_store_instance(st) != 0, "an upgraded store gets an instance id");
	is_int(ias_store_created(st), 0, "an upgraded store was not created");
	ias_store_close(st);
}

static void upgrade_refused(const char *name, const char *rows, const char *needle)
{
	const char *dir = make_v3(name, rows);
	struct ias_store *st = (struct ias_store *)1;
	char err[256] = "";
	int r = ias_store_open(dir, &st, err, sizeof(err));

	ok(r == -EBADMSG, "%s: refused (%d)", name, r);
	ok(st == NULL, "%s: no handle", name);
	ok(strstr(err, needle) != NULL, "%s: the message names the row: %s", name, err);
	ok(raw_int(dir, "PRAGMA user_version") == 3, "%s: left at version 3", name);
}

static void test_upgrade_v3_refused(void)
{
	upgrade_refused("v3-mech", V3_BLOCK(1, "freeze") V3_BLOCK(2, "pause(x)"), "block 2");
	upgrade_refused("v3-mech2", V3_BLOCK(1, "freeze,freeze"), "block 1");
	upgrade_refused("v3-mech3", V3_BLOCK(1, "pause(2),teleport"), "block 1");
	upgrade_refused("v3-eproc", V3_BLOCK(5, "freeze")
			"INSERT INTO kv VALUES ('eproc:5', 'pid=1 did=3 cg=- from=-', 1);",
			"eproc:5");
	upgrade_refused("v3-eproc2", V3_BLOCK(5, "freeze")
			"INSERT INTO kv VALUES ('eproc:5', 'pid=9 did=3 cg=/a/../b from=-', 1);",
			"eproc:5");
	upgrade_refused("v3-eproc3", V3_BLOCK(5, "freeze")
			"INSERT INTO kv VALUES ('eproc:9', 'pid=9 did=3 cg=- from=-', 1);",
			"eproc:9");
	upgrade_refused("v3-eproc4", "INSERT INTO kv VALUES ('eproc:x', 'pid=9 did=3 cg=- from=-', 1);",
			"eproc:x");
	upgrade_refused("v3-policy", "INSERT INTO kv VALUES ('policy', 'version=1 level=9 mode=0"
			" dry_run=0 base_ms=0 max_ms=0 escalation=2 hops=8 fanout=64', 1);",
			"\"policy\"");
	upgrade_refused("v3-policy2", "INSERT INTO kv VALUES ('policy', 'version=1 level=1', 1);",
			"\"policy\"");
}

static void test_typed(void)
{
	const char *dir = newdir("typed");
	struct ias_store *st = open_ok(dir, "db for typed state");
	struct ias_store *other;
	struct ias_block_rec b;
	struct ias_proc_undo u, g;
	struct ias_policy p, q;
	char buf[32], small[5];
	uint64_t inst;

	if (!st)
		return;
	is_int(ias_store_created(st), 1, "a new file is created");
	inst = ias_store_instance(st);
	ok(inst != 0, "a non-zero instance id");
	is_str(ias_mech_str(0, 0, buf, sizeof(buf)), "none", "mech 0 is none");
	is_str(ias_mech_str(IAS_MECH_ALL, 3, buf, sizeof(buf)), "pause(3),cut(3),freeze,kill",
	       "every bit");
	is_str(ias_mech_str(IAS_MECH_PAUSE | IAS_MECH_FREEZE, 12, small, sizeof(small)), "",
	       "too small a buffer gives what fits whole");

	fill_block(&b, "manual", 4321, "", 1, 0);
	b.mech = 1u << 7;
	is_int(ias_store_block_add(st, &b), -EINVAL, "unknown mech bits refused");
	b.mech = IAS_MECH_FREEZE;
	is_int(ias_store_block_add(st, &b), 0, "block for undo rows");

	memset(&u, 0, sizeof(u));
	u.block_id = b.id;
	u.pid = 4321;
	u.pid_start = 987654321;
	u.did = 3;
	snprintf(u.cgroup, sizeof(u.cgroup), "/ias/ias-block-%lld", (long long)b.id);
	snprintf(u.origin, sizeof(u.origin), "/user.slice");
	is_int(ias_store_proc_undo_get(st, b.id, &g), -ENOENT, "no undo row yet");
	is_int(ias_store_proc_undo_set(st, &u), 0, "set undo row");
	is_int(ias_store_proc_undo_get(st, b.id, &g), 0, "get undo row");
	ok(g.block_id == b.id && g.pid == 4321 && g.pid_start == 987654321 && g.did == 3 &&
	   !strcmp(g.cgroup, u.cgroup) && !strcmp(g.origin, "/user.slice"), "same values");
	u.did = 0;
	is_int(ias_store_proc_undo_set(st, &u), 0, "replace undo row");
	ias_store_proc_undo_get(st, b.id, &g);
	is_int(g.did, 0, "replaced");
	u.block_id = b.id + 100;
	is_int(ias_store_proc_undo_set(st, &u), -ENOENT, "undo row of a missing block refused");
	ok(strstr(ias_store_errmsg(st), "no block") != NULL, "message: %s", ias_store_errmsg(st));
	u.block_id = b.id;
	memset(u.cgroup, 'x', sizeof(u.cgroup));
	is_int(ias_store_proc_undo_set(st, &u), -ENAMETOOLONG, "unterminated cgroup refused");

	is_int(ias_store_policy_get(st, &p), -ENOENT, "no policy yet");
	memset(&p, 0, sizeof(p));
	p.version = 3;
	p.level = IAS_LEVEL_LCA;
	p.block_mode = IAS_MODE_CUT;
	p.dry_run = 1;
	p.base_duration_ms = 1000;
	p.max_duration_ms = (uint64_t)INT64_MAX;
	p.escalation = 2;
	p.hop_limit = 16;
	p.fanout_limit = 4096;
	is_int(ias_store_policy_set(st, &p), 0, "set policy");
	is_int(ias_store_policy_get(st, &q), 0, "get policy");
	ok(memcmp(&p, &q, sizeof(p)) == 0, "the same policy back");
	p.hop_limit = 5;
	is_int(ias_store_policy_set(st, &p), 0, "replace policy");
	ias_store_policy_get(st, &q);
	is_int(q.hop_limit, 5, "replaced");
	is_int(raw_int(dir, "SELECT count(*) FROM policy"), 1, "one policy row");
	p.level = 9;
	is_int(ias_store_policy_set(st, &p), -EINVAL, "unknown level refused");
	p.level = 0;
	p.fanout_limit = UINT64_MAX;
	is_int(ias_store_policy_set(st, &p), -EINVAL, "value above INT64_MAX refused");
	ias_store_close(st);

	st = open_ok(dir, "re-open");
	if (st) {
		is_int(ias_store_created(st), 0, "an existing file is not created");
		ok(ias_store_instance(st) == inst, "the instance id is kept");
		ias_store_close(st);
	}
	other = open_ok(newdir("typed2"), "another store");
	if (other) {
		ok(ias_store_instance(other) != inst, "another store, another instance id");
		ias_store_close(other);
	}
}

/* ---- a VFS that fails writes to the WAL on demand (a full disk) ---- */

static sqlite3_vfs *real_vfs;
static sqlite3_vfs shim_vfs;
static int wal_full;		/* fail every write to a -wal file */
static int wal_sync_fails;	/* fail every fsync of a -wal file */
static int wal_writes_failed;

struct shim_file {
	sqlite3_file base;
	sqlite3_file *real;
	int is_wal;
};

#define REAL(f) (((struct shim_file *)(f))->real)

static int shim_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int shim_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}

static int shim_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	if (wal_full && ((struct shim_file *)f)->is_wal) {
		wal_writes_failed++;
		return SQLITE_FULL;
	}
	return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}

static int shim_truncate(sqlite3_file *f, sqlite3_int64 n)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), n);
}

static int shim_sync(sqlite3_file *f, int fl)
{
	if (wal_sync_fails && ((struct shim_file *)f)->is_wal)
		return SQLITE_IOERR_FSYNC;
	return REAL(f)->pMethods->xSync(REAL(f), fl);
}

static int shim_size(sqlite3_file *f, sqlite3_int64 *n)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), n);
}

static int shim_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int shim_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int shim_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int shim_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int shim_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int shim_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int shim_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}

static int shim_shm_lock(sqlite3_file *f, int off, int n, int fl)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, fl);
}

static void shim_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int shim_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static const sqlite3_io_methods shim_io = {
	2, shim_close, shim_read, shim_write, shim_truncate, shim_sync, shim_size, shim_lock,
	shim_unlock, shim_reserved, shim_fcntl, shim_sector, shim_devchar, shim_shm_map,
	shim_shm_lock, shim_shm_barrier, shim_shm_unmap, NULL, NULL,
};

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct shim_file *sf = (struct shim_file *)f;
	int rc;

	(void)vfs;
	sf->real = (sqlite3_file *)(sf + 1);
	sf->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = real_vfs->xOpen(real_vfs, name, sf->real, flags, out);
	sf->base.pMethods = rc == SQLITE_OK && sf->real->pMethods ? &shim_io : NULL;
	return rc;
}

/* Every connection of this program goes through the shim from here on. */
static void shim_install(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	shim_vfs = *real_vfs;
	shim_vfs.zName = "ias-test-shim";
	shim_vfs.szOsFile = (int)sizeof(struct shim_file) + real_vfs->szOsFile;
	shim_vfs.xOpen = shim_open;
	shim_vfs.pNext = NULL;
	sqlite3_vfs_register(&shim_vfs, 1);
}

/* A commit that fails for real (the WAL cannot be written: disk full)
 * fails closed: nothing of the transaction survives, the error says why, a
 * later rollback changes nothing, and the store works again afterwards. */
static void test_commit_fails(void)
{
	const char *dir = newdir("full");
	struct ias_store *st = open_ok(dir, "db for the failed commit");
	struct ias_block_rec b, g;
	char msg[512];
	int64_t audits, id;
	int r;

	if (!st)
		return;
	audits = raw_int(dir, "SELECT count(*) FROM audit");
	is_int(ias_store_begin(st), 0, "begin");
	fill_block(&b, "analyzer", 7777, "I-full", 1, 0);
	is_int(ias_store_block_add(st, &b), 0, "block inside the transaction");
	id = b.id;
	is_int(ias_store_audit(st, 1, "sema", "block", "full"), 0, "audit inside it");
	is_int(ias_store_begin(st), 0, "inner begin");
	ias_store_kv_set(st, "inner", "1");
	wal_full = 1;
	is_int(ias_store_commit(st), 0, "inner commit (a savepoint: no write yet)");
	r = ias_store_commit(st);
	wal_full = 0;
	ok(wal_writes_failed > 0, "the WAL write failed (%d times)", wal_writes_failed);
	is_int(r, -ENOSPC, "commit reports the full disk");
	snprintf(msg, sizeof(msg), "%s", ias_store_errmsg(st));
	ok(strstr(msg, "commit failed") && strstr(msg, "rolled back") && strstr(msg, "full"),
	   "the message says why: %s", msg);
	is_int(ias_store_in_transaction(st), 0, "no transaction is left open");
	is_int(ias_store_rollback(st), -EINVAL, "a later rollback: -EINVAL");
	is_str(ias_store_errmsg(st), msg, "... and it changes nothing, not even the message");
	is_int(ias_store_block_get(st, id, &g), -ENOENT, "the block did not survive");
	is_int(raw_int(dir, "SELECT count(*) FROM blocks WHERE pid = 7777"), 0,
	       "no block row on disk");
	is_int(raw_int(dir, "SELECT count(*) FROM audit"), audits, "no audit row on disk");
	is_int(raw_int(dir, "SELECT count(*) FROM kv WHERE key = 'inner'"), 0,
	       "the inner level's row is gone too");

	fill_block(&b, "analyzer", 7778, "", 1, 0);
	is_int(ias_store_block_add(st, &b), 0, "the store works again");
	is_int(ias_store_begin(st), 0, "a new transaction");
	is_int(ias_store_audit(st, 2, "sema", "again", ""), 0, "writes in it");
	is_int(ias_store_commit(st), 0, "and commits");
	ias_store_close(st);
	is_int(raw_int(dir, "SELECT count(*) FROM blocks WHERE pid = 7778"), 1,
	       "the later block is on disk");

	/* A store that fails outside an explicit transaction. */
	st = open_ok(dir, "re-open");
	if (!st)
		return;
	wal_full = 1;
	r = ias_store_kv_set(st, "k", "v");
	wal_full = 0;
	is_int(r, -ENOSPC, "an autocommitted write reports the full disk");
	is_int(ias_store_in_transaction(st), 0, "and leaves no transaction");
	is_int(ias_store_kv_set(st, "k", "v2"), 0, "then works again");

	/* The WAL written but not synced: an I/O error, the same guarantees. */
	is_int(ias_store_begin(st), 0, "begin");
	fill_block(&b, "analyzer", 7779, "", 1, 0);
	is_int(ias_store_block_add(st, &b), 0, "block inside the transaction");
	wal_sync_fails = 1;
	r = ias_store_commit(st);
	wal_sync_fails = 0;
	is_int(r, -EIO, "a failed fsync: -EIO");
	ok(strstr(ias_store_errmsg(st), "commit failed") != NULL, "message: %s",
	   ias_store_errmsg(st));
	is_int(ias_store_rollback(st), -EINVAL, "a later rollback: -EINVAL");
	is_int(ias_store_block_get(st, b.id, &g), -ENOENT, "the block did not survive");
	ias_store_close(st);
	is_int(raw_int(dir, "SELECT count(*) FROM blocks WHERE pid = 7779"), 0,
	       "not on disk after a re-open either");
}

/* Opening dir must fail with -EUCLEAN and a message naming the damage. */
static void refused_damaged(const char *dir, const char *what, const char *needle)
{
	struct ias_store *st = (struct ias_store *)1;
	char err[512] = "";
	int r = ias_store_open(dir, &st, err, sizeof(err));

	ok(r == -EUCLEAN, "%s: refused with -EUCLEAN (%d)", what, r);
	ok(st == NULL, "%s: no handle", what);
	ok(strstr(err, needle) && strstr(err, "is damaged") &&
	   strstr(err, "Recovering a damaged store"), "%s: message: %s", what, err);
}

/* A store with enough audit rows to fill several pages; returns its path. */
static const char *damaged_base(const char *name, char *path, size_t len)
{
	const char *dir = newdir(name);
	struct ias_store *st = open_ok(dir, name);
	char detail[1000];

	memset(detail, 'd', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	for (int i = 0; st && i < 64; i++)
		ias_store_audit(st, i, "test", "fill", detail);
	ias_store_close(st);	/* checkpoints the WAL into the file */
	snprintf(path, len, "%s/%s", dir, IAS_STORE_DB_NAME);
	return dir;
}

static void test_damaged(void)
{
	char path[600], page[65536];
	const char *dir;
	struct stat sb;
	int64_t root, psize;
	FILE *f;
	int fd;

	dir = damaged_base("dmg-empty", path, sizeof(path));
	ok(truncate(path, 0) == 0, "make the file zero bytes");
	refused_damaged(dir, "zero-byte file", "empty (0 bytes)");
	ok(stat(path, &sb) == 0 && sb.st_size == 0, "zero-byte file left as it was");

	dir = damaged_base("dmg-short", path, sizeof(path));
	ok(truncate(path, 200) == 0, "cut the file to 200 bytes");
	refused_damaged(dir, "200-byte file", "truncated");

	dir = damaged_base("dmg-half", path, sizeof(path));
	ok(stat(path, &sb) == 0 && sb.st_size > 8 * 4096, "a file of several pages (%lld bytes)",
	   (long long)sb.st_size);
	ok(truncate(path, sb.st_size / 2) == 0, "cut the file in half");
	refused_damaged(dir, "half a file", "malformed");

	dir = damaged_base("dmg-text", path, sizeof(path));
	f = fopen(path, "w");
	if (f) {
		for (int i = 0; i < 300; i++)
			fputs("not a database ", f);
		fclose(f);
	}
	refused_damaged(dir, "a text file", "not an SQLite database");

	/* One page of the audit table overwritten: found at open. */
	dir = damaged_base("dmg-audit", path, sizeof(path));
	root = raw_int(dir, "SELECT rootpage FROM sqlite_schema WHERE name = 'audit'");
	psize = raw_int(dir, "PRAGMA page_size");
	ok(root > 1 && psize >= 512, "audit root page %lld, page size %lld", (long long)root,
	   (long long)psize);
	memset(page, 0x5b, sizeof(page));
	fd = open(path, O_WRONLY);
	ok(fd >= 0 && psize <= (int64_t)sizeof(page) &&
	   pwrite(fd, page, (size_t)psize, (root - 1) * psize) == (ssize_t)psize,
	   "overwrite the audit table's root page");
	if (fd >= 0)
		close(fd);
	refused_damaged(dir, "a corrupt audit page", "quick_check");

	/* A missing file is created, as always. */
	dir = newdir("dmg-none");
	{
		struct ias_store *st = open_ok(dir, "no file at all");

		is_int(ias_store_created(st), 1, "created, and says so");
		ias_store_close(st);
	}
}

int main(void)
{
	const char *base = getenv("TMPDIR");
	struct ias_store *st;
	const char *dir;

	snprintf(tmpdir, sizeof(tmpdir), "%s/ias-store-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		tap_skip_all("cannot create a temporary directory");
	umask(022);

	test_open_errors();
	test_open_fresh();
	test_migrations();

	dir = newdir("main");
	st = open_ok(dir, "main db");
	if (st) {
		test_blocks(st);
		test_offences(st);
		test_incidents(st);
		test_seq(st);
		test_audit(st, dir);
		test_allow(st, dir);
		test_alerts(st);
		test_kv(st);
		test_reports(st, dir);
		test_transactions(st, dir);
		test_event_us(st);
		ias_store_close(st);
		test_persist(dir);
	}
	test_filters();
	test_long_text_read();
	test_two_handles();
	test_upgrade_v1();
	test_upgrade_v2();
	test_upgrade_v3();
	test_upgrade_v3_refused();
	test_typed();
	test_damaged();
	shim_install();
	test_commit_fails();

	cleanup();
	return tap_done();
}
