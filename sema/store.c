/* sema/store: open, close, errors, transactions and the batched walk. See
 * store.h, store_int.h and docs/store-schema.md. */
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

#include "common/fstrust.h"
#include "sema/store_int.h"

#define BUSY_TIMEOUT_MS 5000

static void tx_check_aborted(struct ias_store *st, int err);

/* ---- helpers ---------------------------------------------------------- */

int store_fail(struct ias_store *st, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	return err;
}

int store_sq_fail(struct ias_store *st, int rc, const char *what)
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
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		err = -EUCLEAN;
		break;
	case SQLITE_CONSTRAINT:
		err = (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			? -EEXIST : -EINVAL;
		break;
	default:
		err = -EIO;
		break;
	}
	store_fail(st, err, "%s: %s", what, st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	tx_check_aborted(st, err);
	return err;
}

int64_t store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int store_check_text(struct ias_store *st, const char *name, const char *v, size_t cap,
		     int nonempty)
{
	if (!v)
		return store_fail(st, -EINVAL, "%s is missing", name);
	if (strnlen(v, cap) >= cap)
		return store_fail(st, -ENAMETOOLONG, "%s is longer than %zu bytes", name, cap - 1);
	if (nonempty && !v[0])
		return store_fail(st, -EINVAL, "%s is empty", name);
	return 0;
}

int store_one_of(const char *v, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, set[i]) == 0)
			return 1;
	return 0;
}

void store_col_text(sqlite3_stmt *s, int i, char *dst, size_t cap)
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

sqlite3_stmt *store_stmt(struct ias_store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

void store_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int store_bind_text(struct ias_store *st, sqlite3_stmt *s, int idx, const char *v)
{
	int rc = sqlite3_bind_text(s, idx, v, -1, SQLITE_TRANSIENT);

	return rc == SQLITE_OK ? 0 : store_sq_fail(st, rc, "bind");
}

int store_bind_i64(struct ias_store *st, sqlite3_stmt *s, int idx, int64_t v)
{
	int rc = sqlite3_bind_int64(s, idx, v);

	return rc == SQLITE_OK ? 0 : store_sq_fail(st, rc, "bind");
}

int store_step_done(struct ias_store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE)
		return store_sq_fail(st, rc, what);
	return 0;
}

int store_step_row(struct ias_store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_sq_fail(st, rc, what);
}

int store_exec(struct ias_store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_sq_fail(st, rc, sql);
}

int store_query_int(struct ias_store *st, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_sq_fail(st, rc, sql);
	r = store_step_row(st, s, sql);
	if (r == 1) {
		*out = sqlite3_column_int64(s, 0);
		r = 0;
	} else if (r == 0) {
		r = store_fail(st, -EIO, "%s: no result (feature not compiled in?)", sql);
	}
	sqlite3_finalize(s);
	return r;
}

/* ---- the batched walk ------------------------------------------------- */

/* Reads up to STORE_BATCH rows of the bound statement s, then resets it:
 * how many, or a negative errno. */
static int fetch_batch(struct ias_store *st, sqlite3_stmt *s, const struct store_walk *w,
		       char *rows)
{
	int n = 0, rc = SQLITE_DONE;

	while (n < STORE_BATCH && (rc = sqlite3_step(s)) == SQLITE_ROW)
		w->read(s, rows + (size_t)n++ * w->row_size);
	if (n < STORE_BATCH && rc != SQLITE_DONE)
		n = store_sq_fail(st, rc, w->what);
	store_done(s);
	return n;
}

int store_walk(struct ias_store *st, const struct store_walk *w, void *ctx)
{
	char *buf = calloc(STORE_BATCH, w->row_size);
	const void *last = NULL;
	sqlite3_stmt *s;
	int n, r = 0;

	if (!buf)
		return store_fail(st, -ENOMEM, "%s: out of memory", w->what);
	for (;;) {
		s = store_stmt(st, w->which);
		if ((r = w->bind(st, s, last, ctx)) != 0 ||
		    (r = store_bind_i64(st, s, sqlite3_bind_parameter_count(s), STORE_BATCH)) != 0)
			break;
		if ((n = fetch_batch(st, s, w, buf)) < 0) {
			r = n;
			break;
		}
		for (int i = 0; w->fill && i < n && r == 0; i++)
			r = w->fill(st, buf + (size_t)i * w->row_size);
		/* No statement is open from here: visits may use the store. */
		for (int i = 0; i < n && r == 0; i++)
			r = w->visit(buf + (size_t)i * w->row_size, ctx);
		if (r != 0 || n < STORE_BATCH)
			break;
		last = buf + (size_t)(n - 1) * w->row_size;
		/* The next bind reads last before the batch is overwritten. */
	}
	store_done(st->stmt[w->which]);
	free(buf);
	return r;
}

/* ---- transactions ----------------------------------------------------- */

/* SQLite ended the transaction under us (I/O error, disk full) while the
 * caller still has levels open. From here until the outermost level ends,
 * nothing may be committed, and nothing may be written outside a
 * transaction either: a doomed transaction is opened in its place, so that
 * writes the caller makes meanwhile are rolled back with it. */
static void tx_check_aborted(struct ias_store *st, int err)
{
	if (!st->db || st->depth == 0 || st->aborted || !sqlite3_get_autocommit(st->db))
		return;
	st->aborted = err < 0 ? err : -EIO;
	sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
}

/* Rolls back every level; keeps the message of the failure that led here. */
static void tx_abandon(struct ias_store *st)
{
	char keep[sizeof(st->errmsg)];

	memcpy(keep, st->errmsg, sizeof(keep));
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	memcpy(st->errmsg, keep, sizeof(keep));
	st->depth = 0;
	st->aborted = 0;
}

int store_tx_begin(struct ias_store *st)
{
	int r;

	tx_check_aborted(st, -EIO);
	if (st->aborted)
		return store_fail(st, st->aborted, "the open transaction was aborted by an earlier"
				  " failure; roll it back first");
	r = store_exec(st, st->depth ? "SAVEPOINT ias" : "BEGIN IMMEDIATE");
	if (r == 0)
		st->depth++;
	return r;
}

/* Undoes the innermost level. */
static void tx_undo_level(struct ias_store *st)
{
	char keep[sizeof(st->errmsg)];

	if (st->depth == 1) {
		tx_abandon(st);
		return;
	}
	memcpy(keep, st->errmsg, sizeof(keep));
	store_exec(st, "ROLLBACK TO ias; RELEASE ias");
	memcpy(st->errmsg, keep, sizeof(keep));
	st->depth--;
}

int store_tx_end(struct ias_store *st, int r)
{
	int c;

	if (st->depth == 0)
		return r ? r : store_fail(st, -EINVAL, "no transaction is open");
	tx_check_aborted(st, -EIO);
	if (st->aborted) {
		/* Nothing of this transaction will be committed: say so at
		 * every level, end it all at the outermost. */
		c = st->aborted;
		if (st->depth > 1)
			st->depth--;
		else
			tx_abandon(st);
		return r ? r : c;
	}
	if (r == 0) {
		c = store_exec(st, st->depth > 1 ? "RELEASE ias" : "COMMIT");
		if (c == 0) {
			st->depth--;
			return 0;
		}
		r = c;
	}
	tx_undo_level(st);
	return r;
}

int ias_store_begin(struct ias_store *st)
{
	if (!st)
		return -EINVAL;
	return store_tx_begin(st);
}

int ias_store_commit(struct ias_store *st)
{
	char why[sizeof(st->errmsg)];
	int r;

	if (!st)
		return -EINVAL;
	if (st->depth == 0)
		return store_fail(st, -EINVAL, "commit without a transaction");
	tx_check_aborted(st, -EIO);
	if (st->aborted) {
		r = st->aborted;
	} else {
		r = store_exec(st, st->depth > 1 ? "RELEASE ias" : "COMMIT");
		if (r == 0) {
			st->depth--;
			return 0;
		}
	}
	/* Fail closed: the whole transaction, every level, is rolled back. */
	memcpy(why, st->errmsg, sizeof(why));
	tx_abandon(st);
	return store_fail(st, r, "commit failed, the transaction was rolled back: %s", why);
}

int ias_store_rollback(struct ias_store *st)
{
	if (!st)
		return -EINVAL;
	/* No side effects, not even on the message: after a failed commit it
	 * still says why the commit failed. */
	if (st->depth == 0)
		return -EINVAL;
	tx_check_aborted(st, -EIO);
	if (st->aborted && st->depth > 1)
		st->depth--;
	else
		tx_undo_level(st);
	return 0;
}

int ias_store_in_transaction(const struct ias_store *st)
{
	return st && st->depth > 0;
}

/* ---- open / close ----------------------------------------------------- */

static int set_wal(struct ias_store *st)
{
	sqlite3_stmt *s = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_sq_fail(st, rc, "PRAGMA journal_mode");
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW)
		r = store_sq_fail(st, rc, "PRAGMA journal_mode");
	else if (sqlite3_strnicmp((const char *)sqlite3_column_text(s, 0), "wal", 4) != 0)
		r = store_fail(st, -EIO, "cannot switch the database to WAL mode (journal_mode is %s)",
			       (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
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
			return store_fail(st, -e, "cannot set the mode of state directory %s: %s",
					  dir, strerror(e));
		}
		close(fd);
		return 0;
	}
	if (errno != EEXIST)
		return store_fail(st, -errno, "cannot create state directory %s: %s", dir,
				  strerror(errno));
	if (stat(dir, &sb) < 0)
		return store_fail(st, -errno, "cannot use state directory %s: %s", dir,
				  strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return store_fail(st, -ENOTDIR, "state directory %s exists and is not a directory",
				  dir);
	return 0;
}

/* Creates the database file with mode 0640 if it does not exist yet (and
 * sets st->created); SQLite gives its -wal and -shm files the same mode. */
static int make_db_file(struct ias_store *st, const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);

	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		return store_fail(st, -errno, "cannot create %s: %s", path, strerror(errno));
	}
	if (fchmod(fd, 0640) < 0) {
		int e = errno;

		close(fd);
		return store_fail(st, -e, "cannot set the mode of %s: %s", path, strerror(e));
	}
	close(fd);
	st->created = 1;
	return 0;
}

/* An existing file that SQLite would take for a new, empty database (zero
 * bytes) or cannot read a header from: refused before SQLite touches it. */
static int check_db_file(struct ias_store *st, const char *path)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	struct stat sb;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return store_fail(st, -errno, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0) {
		int e = errno;

		close(fd);
		return store_fail(st, -e, "cannot stat %s: %s", path, strerror(e));
	}
	n = sb.st_size > 0 ? pread(fd, head, sizeof(head), 0) : 0;
	close(fd);
	if (sb.st_size == 0)
		return store_fail(st, -EUCLEAN, "the file is empty (0 bytes), although the"
				  " store is created with its schema at once");
	if (sb.st_size < 512 || n != (ssize_t)sizeof(head))
		return store_fail(st, -EUCLEAN, "the file is truncated (%lld bytes)",
				  (long long)sb.st_size);
	if (memcmp(head, magic, sizeof(magic)) != 0)
		return store_fail(st, -EUCLEAN, "the file is not an SQLite database");
	return 0;
}

/* PRAGMA quick_check over every table and index (the audit log too): a
 * damaged page is found at open, not by the first report that reads it. */
static int check_integrity(struct ias_store *st)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA quick_check(3)", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_sq_fail(st, rc, "quick_check");
	r = store_step_row(st, s, "quick_check");
	if (r == 1) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		static const char head[] = "*** in database main ***\n";
		char one[300];

		if (t && strcmp(t, "ok") == 0) {
			r = 0;
		} else {
			/* One line: its first findings. */
			if (t && strncmp(t, head, sizeof(head) - 1) == 0)
				t += sizeof(head) - 1;
			snprintf(one, sizeof(one), "%s", t ? t : "(no text)");
			for (char *c = one; *c; c++)
				if (*c == '\n')
					*c = ';';
			r = store_fail(st, -EUCLEAN, "quick_check: %s", one);
		}
	} else if (r == 0) {
		r = store_fail(st, -EUCLEAN, "quick_check gave no result");
	}
	sqlite3_finalize(s);
	return r;
}

static int prepare_all(struct ias_store *st)
{
	static const struct store_sql *const tables[] = {
		store_blocks_sql, store_incidents_sql, store_misc_sql,
	};
	int rc;

	for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
		for (const struct store_sql *q = tables[t]; q->sql; q++) {
			rc = sqlite3_prepare_v3(st->db, q->sql, -1, SQLITE_PREPARE_PERSISTENT,
						&st->stmt[q->id], NULL);
			if (rc != SQLITE_OK)
				return store_sq_fail(st, rc, "prepare");
		}
	}
	for (int i = 0; i < S_COUNT; i++)
		if (!st->stmt[i])
			return store_fail(st, -EIO, "statement %d has no SQL", i);
	return 0;
}

static int load_meta(struct ias_store *st)
{
	int64_t v = 0;
	int r = store_query_int(st, "SELECT instance FROM meta", &v);

	if (r != 0)
		return r;
	if (v == 0)
		return store_fail(st, -EUCLEAN, "the store has no instance id");
	st->instance = (uint64_t)v;
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
		r = store_fail(st, -EINVAL, "no state directory given");
		goto out;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir, IAS_STORE_DB_NAME)
	    >= sizeof(path)) {
		r = store_fail(st, -ENAMETOOLONG, "state directory path is too long");
		goto out;
	}
	if ((r = make_state_dir(st, state_dir)) != 0)
		goto out;
	/* Nobody but us may have put or changed anything there: a planted
	 * database could carry blocks that stop processes at our start. */
	if ((r = ias_fs_private_db(state_dir, IAS_STORE_DB_NAME, geteuid(), st->errmsg,
				   sizeof(st->errmsg))) != 0)
		goto out;
	if ((r = make_db_file(st, path)) != 0)
		goto out;
	if (!st->created && (r = check_db_file(st, path)) != 0)
		goto out;

	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		r = store_sq_fail(st, rc, path);
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, &on);

	if ((r = set_wal(st)) != 0 ||
	    (r = store_exec(st, "PRAGMA synchronous = FULL")) != 0 ||
	    (r = store_exec(st, "PRAGMA foreign_keys = ON")) != 0 ||
	    (r = store_query_int(st, "PRAGMA foreign_keys", &fk)) != 0)
		goto out;
	if (fk != 1) {
		r = store_fail(st, -EIO, "SQLite refused to enable foreign keys");
		goto out;
	}
	if ((!st->created && (r = check_integrity(st)) != 0) ||
	    (r = store_migrate(st)) != 0 || (r = load_meta(st)) != 0 ||
	    (r = prepare_all(st)) != 0)
		goto out;
	st->errmsg[0] = '\0';
	*out = st;
	st = NULL;
out:
	if (st && r == -EUCLEAN) {
		char why[sizeof(st->errmsg)];

		memcpy(why, st->errmsg, sizeof(why));
		store_fail(st, r, "%s is damaged (%.200s): the agent refuses to start on it;"
			   " move it aside (see \"Recovering a damaged store\" in"
			   " docs/store-schema.md)", path, why);
	}
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

uint64_t ias_store_instance(const struct ias_store *st)
{
	return st ? st->instance : 0;
}

int ias_store_created(const struct ias_store *st)
{
	return st && st->created;
}

uint64_t ias_store_allow_gen(const struct ias_store *st)
{
	return st ? st->allow_gen : 0;
}
