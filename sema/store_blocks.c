/* sema/store: blocks, their QPs, the process undo rows and the mechanism
 * text. See store.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sema/store_int.h"

#define BLOCK_COLS "id, origin, node, pid, uid, comm, exe, reason, incident, mech, qp_orders," \
	" pid_start, created_ms, until_ms, released_ms, offence, simulated, release_note"
#define BLOCK_WHERE \
	" AND (?3 IS NULL OR incident = ?3)" \
	" AND CASE WHEN ?5 <> 0" \
	"  THEN released_ms = 0 AND until_ms > 0 AND until_ms <= ?5" \
	"  ELSE ?4 <> 0 OR released_ms = 0 END" \
	" ORDER BY id LIMIT ?6"

const struct store_sql store_blocks_sql[] = {
	{ S_BLOCK_INSERT,
	  "INSERT INTO blocks (origin, node, pid, uid, comm, exe, reason, incident, mech,"
	  " qp_orders, pid_start, created_ms, until_ms, released_ms, offence, simulated,"
	  " release_note)"
	  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)" },
	{ S_QP_INSERT, "INSERT INTO block_qps (block_id, idx, qpn) VALUES (?1, ?2, ?3)" },
	{ S_QP_SELECT, "SELECT qpn FROM block_qps WHERE block_id = ?1 ORDER BY idx LIMIT ?2" },
	{ S_BLOCK_GET, "SELECT " BLOCK_COLS " FROM blocks WHERE id = ?1" },
	{ S_BLOCK_STATE, "SELECT released_ms FROM blocks WHERE id = ?1" },
	{ S_BLOCK_RELEASE,
	  "UPDATE blocks SET released_ms = ?2, release_note = ?3"
	  " WHERE id = ?1 AND released_ms = 0" },
	{ S_BLOCK_SET_UNTIL, "UPDATE blocks SET until_ms = ?2 WHERE id = ?1 AND released_ms = 0" },
	/* ?1 last id seen, ?2 pid (0 any), ?3 incident (NULL any),
	 * ?4 include released, ?5 expired-before (0 none), ?6 batch size */
	{ S_BLOCK_WALK,
	  "SELECT " BLOCK_COLS " FROM blocks WHERE id > ?1 AND (?2 = 0 OR pid = ?2)" BLOCK_WHERE },
	/* The same with a PID, written so that the blocks_pid index serves it
	 * (the walk above can use no index for its optional PID). */
	{ S_BLOCK_WALK_PID,
	  "SELECT " BLOCK_COLS " FROM blocks WHERE pid = ?2 AND id > ?1" BLOCK_WHERE },
	{ S_OFFENCE_COUNT,
	  "SELECT count(*) FROM blocks WHERE exe = ?1 AND uid = ?2 AND created_ms >= ?3" },
	{ S_UNDO_SET,
	  "INSERT INTO proc_undo (block_id, pid, pid_start, did, cgroup, origin)"
	  " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (block_id) DO UPDATE SET"
	  " pid = excluded.pid, pid_start = excluded.pid_start, did = excluded.did,"
	  " cgroup = excluded.cgroup, origin = excluded.origin" },
	{ S_UNDO_GET,
	  "SELECT block_id, pid, pid_start, did, cgroup, origin FROM proc_undo WHERE block_id = ?1" },
	{ S_COUNT, NULL },
};

static const char *const block_origins[] = { "analyzer", "trace", "manual", "manager" };

const char *ias_mech_str(uint32_t mech, uint32_t qp_orders, char *buf, size_t len)
{
	static const struct { uint32_t bit; const char *name; int orders; } words[] = {
		{ IAS_MECH_PAUSE, "pause", 1 }, { IAS_MECH_CUT, "cut", 1 },
		{ IAS_MECH_FREEZE, "freeze", 0 }, { IAS_MECH_KILL, "kill", 0 },
	};
	size_t used = 0;

	if (!buf || !len)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		int w;

		if (!(mech & words[i].bit))
			continue;
		if (words[i].orders)
			w = snprintf(buf + used, len - used, "%s%s(%" PRIu32 ")", used ? "," : "",
				     words[i].name, qp_orders);
		else
			w = snprintf(buf + used, len - used, "%s%s", used ? "," : "", words[i].name);
		if (w < 0 || (size_t)w >= len - used) {
			buf[used] = '\0';	/* whole words only */
			return buf;
		}
		used += (size_t)w;
	}
	if (!used)
		snprintf(buf, len, "none");
	return buf;
}

static int check_block(struct ias_store *st, const struct ias_block_rec *b)
{
	int r;

	if ((r = store_check_text(st, "origin", b->origin, sizeof(b->origin), 1)) ||
	    (r = store_check_text(st, "node", b->node, sizeof(b->node), 0)) ||
	    (r = store_check_text(st, "comm", b->comm, sizeof(b->comm), 0)) ||
	    (r = store_check_text(st, "exe", b->exe, sizeof(b->exe), 0)) ||
	    (r = store_check_text(st, "reason", b->reason, sizeof(b->reason), 0)) ||
	    (r = store_check_text(st, "incident", b->incident, sizeof(b->incident), 0)) ||
	    (r = store_check_text(st, "release_note", b->release_note, sizeof(b->release_note), 0)))
		return r;
	if (!store_one_of(b->origin, block_origins, ARRAY_SIZE(block_origins)))
		return store_fail(st, -EINVAL, "unknown block origin \"%s\"", b->origin);
	if (b->nqps > IAS_MAX_QPS_PER_BLOCK)
		return store_fail(st, -EINVAL, "%" PRIu32 " QPs, more than %d per block",
				  b->nqps, IAS_MAX_QPS_PER_BLOCK);
	if (b->mech & ~(uint32_t)IAS_MECH_ALL)
		return store_fail(st, -EINVAL, "unknown mechanism bits %#" PRIx32, b->mech);
	if (b->pid_start > INT64_MAX)
		return store_fail(st, -EINVAL, "process start time out of range");
	if (b->created_ms < 0 || b->until_ms < 0 || b->released_ms < 0)
		return store_fail(st, -EINVAL, "negative time in block record");
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
	if ((r = store_tx_begin(st)) != 0)
		return r;
	s = store_stmt(st, S_BLOCK_INSERT);
	if ((r = store_bind_text(st, s, 1, rec->origin)) ||
	    (r = store_bind_text(st, s, 2, rec->node)) ||
	    (r = store_bind_i64(st, s, 3, rec->pid)) || (r = store_bind_i64(st, s, 4, rec->uid)) ||
	    (r = store_bind_text(st, s, 5, rec->comm)) ||
	    (r = store_bind_text(st, s, 6, rec->exe)) ||
	    (r = store_bind_text(st, s, 7, rec->reason)) ||
	    (r = store_bind_text(st, s, 8, rec->incident)) ||
	    (r = store_bind_i64(st, s, 9, rec->mech)) ||
	    (r = store_bind_i64(st, s, 10, rec->qp_orders)) ||
	    (r = store_bind_i64(st, s, 11, (int64_t)rec->pid_start)) ||
	    (r = store_bind_i64(st, s, 12, rec->created_ms)) ||
	    (r = store_bind_i64(st, s, 13, rec->until_ms)) ||
	    (r = store_bind_i64(st, s, 14, rec->released_ms)) ||
	    (r = store_bind_i64(st, s, 15, rec->offence)) ||
	    (r = store_bind_i64(st, s, 16, rec->simulated ? 1 : 0)) ||
	    (r = store_bind_text(st, s, 17, rec->release_note)) ||
	    (r = store_step_done(st, s, "insert block")) != 0)
		goto out;
	id = sqlite3_last_insert_rowid(st->db);
	store_done(s);
	for (uint32_t i = 0; i < rec->nqps; i++) {
		s = store_stmt(st, S_QP_INSERT);
		if ((r = store_bind_i64(st, s, 1, id)) || (r = store_bind_i64(st, s, 2, i)) ||
		    (r = store_bind_i64(st, s, 3, rec->qpns[i])) ||
		    (r = store_step_done(st, s, "insert block QP")) != 0)
			goto out;
	}
out:
	store_done(s);
	r = store_tx_end(st, r);
	if (r == 0)
		rec->id = id;
	return r;
}

static void read_block(sqlite3_stmt *s, void *row)
{
	struct ias_block_rec *b = row;

	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, b->origin, sizeof(b->origin));
	store_col_text(s, 2, b->node, sizeof(b->node));
	b->pid = (int32_t)sqlite3_column_int64(s, 3);
	b->uid = (uint32_t)sqlite3_column_int64(s, 4);
	store_col_text(s, 5, b->comm, sizeof(b->comm));
	store_col_text(s, 6, b->exe, sizeof(b->exe));
	store_col_text(s, 7, b->reason, sizeof(b->reason));
	store_col_text(s, 8, b->incident, sizeof(b->incident));
	b->mech = (uint32_t)sqlite3_column_int64(s, 9);
	b->qp_orders = (uint32_t)sqlite3_column_int64(s, 10);
	b->pid_start = (uint64_t)sqlite3_column_int64(s, 11);
	b->created_ms = sqlite3_column_int64(s, 12);
	b->until_ms = sqlite3_column_int64(s, 13);
	b->released_ms = sqlite3_column_int64(s, 14);
	b->offence = (uint32_t)sqlite3_column_int64(s, 15);
	b->simulated = sqlite3_column_int64(s, 16) != 0;
	store_col_text(s, 17, b->release_note, sizeof(b->release_note));
}

static int read_qps(struct ias_store *st, void *row)
{
	struct ias_block_rec *b = row;
	sqlite3_stmt *s = store_stmt(st, S_QP_SELECT);
	int rc, r;

	b->nqps = 0;
	if ((r = store_bind_i64(st, s, 1, b->id)) ||
	    (r = store_bind_i64(st, s, 2, IAS_MAX_QPS_PER_BLOCK)))
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && b->nqps < IAS_MAX_QPS_PER_BLOCK)
		b->qpns[b->nqps++] = (uint32_t)sqlite3_column_int64(s, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_sq_fail(st, rc, "read block QPs");
out:
	store_done(s);
	return r;
}

int ias_store_block_get(struct ias_store *st, int64_t id, struct ias_block_rec *out)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !out)
		return -EINVAL;
	s = store_stmt(st, S_BLOCK_GET);
	if ((r = store_bind_i64(st, s, 1, id)) != 0 ||
	    (r = store_step_row(st, s, "read block")) < 0)
		goto out;
	if (r == 0) {
		r = store_fail(st, -ENOENT, "no block %" PRId64, id);
		goto out;
	}
	read_block(s, out);
	store_done(s);
	r = read_qps(st, out);
out:
	store_done(s);
	return r;
}

/* After an UPDATE ... AND released_ms = 0 touched no row: why? */
static int block_why_not(struct ias_store *st, int64_t id)
{
	sqlite3_stmt *s = store_stmt(st, S_BLOCK_STATE);
	int r;

	if ((r = store_bind_i64(st, s, 1, id)) != 0 ||
	    (r = store_step_row(st, s, "read block")) < 0)
		goto out;
	if (r == 0)
		r = store_fail(st, -ENOENT, "no block %" PRId64, id);
	else
		r = store_fail(st, -EALREADY, "block %" PRId64 " was already released", id);
out:
	store_done(s);
	return r;
}

/* Runs the bound update s of block id; explains a miss. */
static int block_update(struct ias_store *st, sqlite3_stmt *s, int64_t id, const char *what)
{
	int r = store_step_done(st, s, what);

	if (r == 0 && sqlite3_changes(st->db) == 0)
		r = block_why_not(st, id);
	store_done(s);
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
	if ((r = store_check_text(st, "release note", note, sizeof(b->release_note), 0)) != 0)
		return r;
	if (released_ms <= 0)
		return store_fail(st, -EINVAL, "release time must be positive");
	s = store_stmt(st, S_BLOCK_RELEASE);
	if ((r = store_bind_i64(st, s, 1, id)) || (r = store_bind_i64(st, s, 2, released_ms)) ||
	    (r = store_bind_text(st, s, 3, note))) {
		store_done(s);
		return r;
	}
	return block_update(st, s, id, "release block");
}

int ias_store_block_set_until(struct ias_store *st, int64_t id, int64_t until_ms)
{
	sqlite3_stmt *s;
	int r;

	if (!st)
		return -EINVAL;
	if (until_ms < 0)
		return store_fail(st, -EINVAL, "negative end time");
	s = store_stmt(st, S_BLOCK_SET_UNTIL);
	if ((r = store_bind_i64(st, s, 1, id)) || (r = store_bind_i64(st, s, 2, until_ms))) {
		store_done(s);
		return r;
	}
	return block_update(st, s, id, "set block end");
}

struct block_walk {
	const struct ias_block_filter *f;
	ias_block_cb cb;
	void *arg;
};

static int block_bind(struct ias_store *st, sqlite3_stmt *s, const void *last, void *ctx)
{
	const struct ias_block_filter *f = ((struct block_walk *)ctx)->f;
	const struct ias_block_rec *l = last;
	int r;

	if ((r = store_bind_i64(st, s, 1, l ? l->id : 0)) ||
	    (r = store_bind_i64(st, s, 2, f->pid)) ||
	    (f->incident && (r = store_bind_text(st, s, 3, f->incident))) ||
	    (r = store_bind_i64(st, s, 4, f->include_released ? 1 : 0)))
		return r;
	return store_bind_i64(st, s, 5, f->expired_before_ms);
}

static int block_visit(const void *row, void *ctx)
{
	struct block_walk *w = ctx;

	return w->cb(row, w->arg);
}

int ias_store_blocks_foreach(struct ias_store *st, const struct ias_block_filter *filter,
			     ias_block_cb cb, void *arg)
{
	static const struct ias_block_filter all = { .include_released = 1 };
	struct block_walk ctx = { filter ? filter : &all, cb, arg };
	struct store_walk w = {
		.which = ctx.f->pid ? S_BLOCK_WALK_PID : S_BLOCK_WALK,
		.row_size = sizeof(struct ias_block_rec), .what = "list blocks",
		.bind = block_bind, .read = read_block, .fill = read_qps, .visit = block_visit,
	};
	int r;

	if (!st || !cb)
		return -EINVAL;
	if (ctx.f->incident &&
	    (r = store_check_text(st, "incident", ctx.f->incident,
				  sizeof(((struct ias_block_rec *)0)->incident), 0)) != 0)
		return r;
	return store_walk(st, &w, &ctx);
}

int ias_store_offence_count(struct ias_store *st, const char *exe, uint32_t uid,
			    int64_t since_ms, uint32_t *count)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !count)
		return -EINVAL;
	*count = 0;
	if ((r = store_check_text(st, "exe", exe, sizeof(((struct ias_block_rec *)0)->exe), 0)))
		return r;
	s = store_stmt(st, S_OFFENCE_COUNT);
	if ((r = store_bind_text(st, s, 1, exe)) || (r = store_bind_i64(st, s, 2, uid)) ||
	    (r = store_bind_i64(st, s, 3, since_ms)) ||
	    (r = store_step_row(st, s, "count offences")) < 0)
		goto out;
	if (r == 1)
		*count = (uint32_t)sqlite3_column_int64(s, 0);
	r = 0;
out:
	store_done(s);
	return r;
}

/* ---- process undo rows ------------------------------------------------ */

int ias_store_proc_undo_set(struct ias_store *st, const struct ias_proc_undo *u)
{
	sqlite3_stmt *s;
	int rc, r;

	if (!st || !u)
		return -EINVAL;
	if ((r = store_check_text(st, "cgroup", u->cgroup, sizeof(u->cgroup), 0)) ||
	    (r = store_check_text(st, "origin cgroup", u->origin, sizeof(u->origin), 0)))
		return r;
	if (u->pid_start > INT64_MAX)
		return store_fail(st, -EINVAL, "process start time out of range");
	s = store_stmt(st, S_UNDO_SET);
	if ((r = store_bind_i64(st, s, 1, u->block_id)) || (r = store_bind_i64(st, s, 2, u->pid)) ||
	    (r = store_bind_i64(st, s, 3, (int64_t)u->pid_start)) ||
	    (r = store_bind_i64(st, s, 4, u->did)) || (r = store_bind_text(st, s, 5, u->cgroup)) ||
	    (r = store_bind_text(st, s, 6, u->origin)))
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		r = store_fail(st, -ENOENT, "no block %" PRId64 " to keep process undo state for",
			       u->block_id);
	else if (rc != SQLITE_DONE)
		r = store_sq_fail(st, rc, "set process undo state");
out:
	store_done(s);
	return r;
}

int ias_store_proc_undo_get(struct ias_store *st, int64_t block_id, struct ias_proc_undo *out)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !out)
		return -EINVAL;
	s = store_stmt(st, S_UNDO_GET);
	if ((r = store_bind_i64(st, s, 1, block_id)) != 0 ||
	    (r = store_step_row(st, s, "read process undo state")) < 0)
		goto out;
	if (r == 0) {
		r = store_fail(st, -ENOENT, "no process undo state for block %" PRId64, block_id);
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->block_id = sqlite3_column_int64(s, 0);
	out->pid = (int32_t)sqlite3_column_int64(s, 1);
	out->pid_start = (uint64_t)sqlite3_column_int64(s, 2);
	out->did = (uint32_t)sqlite3_column_int64(s, 3);
	store_col_text(s, 4, out->cgroup, sizeof(out->cgroup));
	store_col_text(s, 5, out->origin, sizeof(out->origin));
	r = 0;
out:
	store_done(s);
	return r;
}
