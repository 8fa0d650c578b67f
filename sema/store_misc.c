/* sema/store: the audit log, the allow list, alerts, key/value, the
 * outbox of reports and the policy. See store.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mad_defs/policy.h"
#include "sema/store_int.h"

#define REPORT_COLS "seq, kind, incident, block_id, pid, qp_count, comm, peer_lid, peer_qpn," \
	" event_ms, delivered_ms"
#define POLICY_COLS "version, level, mode, dry_run, base_ms, max_ms, escalation, hop_limit," \
	" fanout_limit"

const struct store_sql store_misc_sql[] = {
	{ S_AUDIT_INSERT,
	  "INSERT INTO audit (ts_ms, actor, action, detail) VALUES (?1, ?2, ?3, ?4)" },
	{ S_AUDIT_WALK,
	  "SELECT id, ts_ms, actor, action, detail FROM audit WHERE ts_ms >= ?1 AND id > ?2"
	  " ORDER BY id LIMIT ?3" },
	{ S_ALLOW_INSERT,
	  "INSERT INTO allowlist (kind, value, created_ms, note) VALUES (?1, ?2, ?3, ?4)" },
	{ S_ALLOW_REMOVE,
	  "UPDATE allowlist SET removed_ms = ?3"
	  " WHERE kind = ?1 AND value = ?2 AND removed_ms = 0" },
	{ S_ALLOW_WALK,
	  "SELECT id, kind, value, created_ms, note FROM allowlist"
	  " WHERE removed_ms = 0 AND id > ?1 ORDER BY id LIMIT ?2" },
	{ S_ALERT_INSERT,
	  "INSERT INTO alerts (pid, incident, reason, created_ms) VALUES (?1, ?2, ?3, ?4)" },
	{ S_ALERT_POP,
	  "UPDATE alerts SET taken_ms = ?1 WHERE id ="
	  " (SELECT id FROM alerts WHERE taken_ms = 0 ORDER BY id LIMIT 1)"
	  " RETURNING id, pid, incident, reason, created_ms" },
	{ S_ALERT_COUNT, "SELECT count(*) FROM alerts WHERE taken_ms = 0" },
	{ S_KV_SET,
	  "INSERT INTO kv (key, value, updated_ms) VALUES (?1, ?2, ?3)"
	  " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
	  " updated_ms = excluded.updated_ms" },
	{ S_KV_GET, "SELECT value FROM kv WHERE key = ?1" },
	{ S_REPORT_INSERT,
	  "INSERT INTO reports (kind, incident, block_id, pid, qp_count, comm, peer_lid,"
	  " peer_qpn, event_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)" },
	{ S_REPORT_GET, "SELECT " REPORT_COLS " FROM reports WHERE seq = ?1" },
	{ S_REPORT_LATEST, "SELECT " REPORT_COLS " FROM reports ORDER BY seq DESC LIMIT 1" },
	{ S_REPORT_NEXT,
	  "SELECT " REPORT_COLS " FROM reports WHERE delivered_ms = 0 ORDER BY seq LIMIT 1" },
	{ S_REPORT_DELIVERED,
	  "UPDATE reports SET delivered_ms = ?2 WHERE seq = ?1 AND delivered_ms = 0" },
	{ S_POLICY_SET,
	  "INSERT INTO policy (one, " POLICY_COLS ") VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	  " ON CONFLICT (one) DO UPDATE SET version = excluded.version, level = excluded.level,"
	  " mode = excluded.mode, dry_run = excluded.dry_run, base_ms = excluded.base_ms,"
	  " max_ms = excluded.max_ms, escalation = excluded.escalation,"
	  " hop_limit = excluded.hop_limit, fanout_limit = excluded.fanout_limit" },
	{ S_POLICY_GET, "SELECT " POLICY_COLS " FROM policy WHERE one = 1" },
	{ S_COUNT, NULL },
};

static const char *const allow_kinds[] = { "exe", "user", "unit", "comm", "pid" };

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
	if ((r = store_check_text(st, "actor", actor, IAS_STORE_ACTOR_MAX + 1, 1)) ||
	    (r = store_check_text(st, "action", action, IAS_STORE_ACTION_MAX + 1, 1)) ||
	    (r = store_check_text(st, "detail", detail, IAS_STORE_DETAIL_MAX + 1, 0)))
		return r;
	s = store_stmt(st, S_AUDIT_INSERT);
	if ((r = store_bind_i64(st, s, 1, ts_ms)) || (r = store_bind_text(st, s, 2, actor)) ||
	    (r = store_bind_text(st, s, 3, action)) || (r = store_bind_text(st, s, 4, detail)))
		goto out;
	r = store_step_done(st, s, "append audit entry");
out:
	store_done(s);
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
	store_col_text(s, 2, a->actor, sizeof(a->actor));
	store_col_text(s, 3, a->action, sizeof(a->action));
	store_col_text(s, 4, a->detail, sizeof(a->detail));
}

struct audit_walk {
	int64_t since_ms;
	int (*cb)(int64_t ts, const char *actor, const char *action, const char *detail, void *);
	void *arg;
};

static int audit_bind(struct ias_store *st, sqlite3_stmt *s, const void *last, void *ctx)
{
	const struct audit_row *l = last;
	int r;

	if ((r = store_bind_i64(st, s, 1, ((struct audit_walk *)ctx)->since_ms)) != 0)
		return r;
	return store_bind_i64(st, s, 2, l ? l->id : 0);
}

static int audit_visit(const void *row, void *ctx)
{
	const struct audit_row *a = row;
	struct audit_walk *w = ctx;

	return w->cb(a->ts, a->actor, a->action, a->detail, w->arg);
}

int ias_store_audit_foreach(struct ias_store *st, int64_t since_ms,
			    int (*cb)(int64_t ts, const char *actor, const char *action,
				      const char *detail, void *), void *arg)
{
	struct audit_walk ctx = { since_ms, cb, arg };
	static const struct store_walk w = {
		.which = S_AUDIT_WALK, .row_size = sizeof(struct audit_row),
		.what = "list audit log", .bind = audit_bind, .read = audit_row_read,
		.visit = audit_visit,
	};

	if (!st || !cb)
		return -EINVAL;
	return store_walk(st, &w, &ctx);
}

/* ---- allow-list ------------------------------------------------------- */

int ias_store_allow_add(struct ias_store *st, struct ias_allow_rec *rec)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !rec)
		return -EINVAL;
	if ((r = store_check_text(st, "kind", rec->kind, sizeof(rec->kind), 1)) ||
	    (r = store_check_text(st, "value", rec->value, sizeof(rec->value), 1)) ||
	    (r = store_check_text(st, "note", rec->note, sizeof(rec->note), 0)))
		return r;
	if (!store_one_of(rec->kind, allow_kinds, ARRAY_SIZE(allow_kinds)))
		return store_fail(st, -EINVAL, "unknown allow-list kind \"%s\"", rec->kind);
	s = store_stmt(st, S_ALLOW_INSERT);
	if ((r = store_bind_text(st, s, 1, rec->kind)) || (r = store_bind_text(st, s, 2, rec->value)) ||
	    (r = store_bind_i64(st, s, 3, rec->created_ms)) || (r = store_bind_text(st, s, 4, rec->note)))
		goto out;
	r = store_step_done(st, s, "add allow-list entry");
	if (r == 0) {
		rec->id = sqlite3_last_insert_rowid(st->db);
		st->allow_gen++;
	}
	else if (r == -EEXIST)
		r = store_fail(st, -EEXIST, "%s %s is already on the allow-list", rec->kind, rec->value);
out:
	store_done(s);
	return r;
}

int ias_store_allow_remove(struct ias_store *st, const char *kind, const char *value)
{
	struct ias_allow_rec *a = NULL;
	sqlite3_stmt *s;
	int r;

	if (!st)
		return -EINVAL;
	if ((r = store_check_text(st, "kind", kind, sizeof(a->kind), 1)) ||
	    (r = store_check_text(st, "value", value, sizeof(a->value), 1)))
		return r;
	s = store_stmt(st, S_ALLOW_REMOVE);
	if ((r = store_bind_text(st, s, 1, kind)) || (r = store_bind_text(st, s, 2, value)) ||
	    (r = store_bind_i64(st, s, 3, store_now_ms())) ||
	    (r = store_step_done(st, s, "remove allow-list entry")) != 0)
		goto out;
	if (sqlite3_changes(st->db) == 0)
		r = store_fail(st, -ENOENT, "%s %s is not on the allow-list", kind, value);
	else
		st->allow_gen++;
out:
	store_done(s);
	return r;
}

static void allow_row(sqlite3_stmt *s, void *row)
{
	struct ias_allow_rec *a = row;

	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, a->kind, sizeof(a->kind));
	store_col_text(s, 2, a->value, sizeof(a->value));
	a->created_ms = sqlite3_column_int64(s, 3);
	store_col_text(s, 4, a->note, sizeof(a->note));
}

struct allow_walk {
	int (*cb)(const struct ias_allow_rec *, void *);
	void *arg;
};

static int allow_bind(struct ias_store *st, sqlite3_stmt *s, const void *last, void *ctx)
{
	const struct ias_allow_rec *l = last;

	(void)ctx;
	return store_bind_i64(st, s, 1, l ? l->id : 0);
}

static int allow_visit(const void *row, void *ctx)
{
	struct allow_walk *w = ctx;

	return w->cb(row, w->arg);
}

int ias_store_allow_foreach(struct ias_store *st,
			    int (*cb)(const struct ias_allow_rec *, void *), void *arg)
{
	struct allow_walk ctx = { cb, arg };
	static const struct store_walk w = {
		.which = S_ALLOW_WALK, .row_size = sizeof(struct ias_allow_rec),
		.what = "list allow-list", .bind = allow_bind, .read = allow_row,
		.visit = allow_visit,
	};

	if (!st || !cb)
		return -EINVAL;
	return store_walk(st, &w, &ctx);
}

/* ---- alerts ----------------------------------------------------------- */

int ias_store_alert_push(struct ias_store *st, struct ias_alert_rec *rec)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !rec)
		return -EINVAL;
	if ((r = store_check_text(st, "incident", rec->incident, sizeof(rec->incident), 0)) ||
	    (r = store_check_text(st, "reason", rec->reason, sizeof(rec->reason), 0)))
		return r;
	s = store_stmt(st, S_ALERT_INSERT);
	if ((r = store_bind_i64(st, s, 1, rec->pid)) || (r = store_bind_text(st, s, 2, rec->incident)) ||
	    (r = store_bind_text(st, s, 3, rec->reason)) || (r = store_bind_i64(st, s, 4, rec->created_ms)))
		goto out;
	r = store_step_done(st, s, "push alert");
	if (r == 0)
		rec->id = sqlite3_last_insert_rowid(st->db);
out:
	store_done(s);
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
	s = store_stmt(st, S_ALERT_POP);
	if ((r = store_bind_i64(st, s, 1, store_now_ms())) != 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		r = store_fail(st, -ENOENT, "no alert is waiting");
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_sq_fail(st, rc, "pop alert");
		goto out;
	}
	a.id = sqlite3_column_int64(s, 0);
	a.pid = (int32_t)sqlite3_column_int64(s, 1);
	store_col_text(s, 2, a.incident, sizeof(a.incident));
	store_col_text(s, 3, a.reason, sizeof(a.reason));
	a.created_ms = sqlite3_column_int64(s, 4);
	/* The update is done (and, outside a transaction, committed) when the
	 * statement completes. */
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		r = store_sq_fail(st, rc, "pop alert");
		goto out;
	}
	*out = a;
out:
	store_done(s);
	return r;
}

int ias_store_alert_count(struct ias_store *st, uint32_t *n)
{
	sqlite3_stmt *s;
	int rc, r = 0;

	if (!st || !n)
		return -EINVAL;
	*n = 0;
	s = store_stmt(st, S_ALERT_COUNT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = (uint32_t)sqlite3_column_int64(s, 0);
	else
		r = store_sq_fail(st, rc, "count alerts");
	store_done(s);
	return r;
}

/* ---- key/value -------------------------------------------------------- */

int ias_store_kv_set(struct ias_store *st, const char *key, const char *value)
{
	sqlite3_stmt *s;
	int r;

	if (!st)
		return -EINVAL;
	if ((r = store_check_text(st, "key", key, IAS_STORE_KEY_MAX + 1, 1)) ||
	    (r = store_check_text(st, "value", value, IAS_STORE_VALUE_MAX + 1, 0)))
		return r;
	s = store_stmt(st, S_KV_SET);
	if ((r = store_bind_text(st, s, 1, key)) || (r = store_bind_text(st, s, 2, value)) ||
	    (r = store_bind_i64(st, s, 3, store_now_ms())))
		goto out;
	r = store_step_done(st, s, "set key");
out:
	store_done(s);
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
	if ((r = store_check_text(st, "key", key, IAS_STORE_KEY_MAX + 1, 1)) != 0)
		return r;
	s = store_stmt(st, S_KV_GET);
	if ((r = store_bind_text(st, s, 1, key)) != 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		r = store_fail(st, -ENOENT, "no key %s", key);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_sq_fail(st, rc, "read key");
		goto out;
	}
	v = sqlite3_column_text(s, 0);
	n = sqlite3_column_bytes(s, 0);
	if (!v || n < 0)
		n = 0;
	if ((size_t)n >= outlen) {
		r = store_fail(st, -ERANGE, "value of %s needs %d bytes, buffer has %zu",
			 key, n + 1, outlen);
		goto out;
	}
	if (n)
		memcpy(out, v, (size_t)n);
	out[n] = '\0';
out:
	store_done(s);
	return r;
}

/* ---- reports to the manager -------------------------------------------- */

int ias_store_report_add(struct ias_store *st, struct ias_report_rec *rec)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !rec || rec->kind < 1 || rec->kind > 4)
		return -EINVAL;
	if ((r = store_check_text(st, "incident", rec->incident, sizeof(rec->incident), 0)) ||
	    (r = store_check_text(st, "comm", rec->comm, sizeof(rec->comm), 0)))
		return r;
	s = store_stmt(st, S_REPORT_INSERT);
	if ((r = store_bind_i64(st, s, 1, rec->kind)) || (r = store_bind_text(st, s, 2, rec->incident)) ||
	    (r = store_bind_i64(st, s, 3, rec->block_id)) || (r = store_bind_i64(st, s, 4, rec->pid)) ||
	    (r = store_bind_i64(st, s, 5, rec->qp_count)) || (r = store_bind_text(st, s, 6, rec->comm)) ||
	    (r = store_bind_i64(st, s, 7, rec->peer_lid)) || (r = store_bind_i64(st, s, 8, rec->peer_qpn)) ||
	    (r = store_bind_i64(st, s, 9, rec->event_ms)))
		goto out;
	r = store_step_done(st, s, "add report");
	if (r == 0) {
		rec->seq = sqlite3_last_insert_rowid(st->db);
		rec->delivered_ms = 0;
	}
out:
	store_done(s);
	return r;
}

static int report_row(struct ias_store *st, sqlite3_stmt *s, struct ias_report_rec *out,
		      const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE)
		return store_fail(st, -ENOENT, "%s: no such report", what);
	if (rc != SQLITE_ROW)
		return store_sq_fail(st, rc, what);
	memset(out, 0, sizeof(*out));
	out->seq = sqlite3_column_int64(s, 0);
	out->kind = (uint8_t)sqlite3_column_int64(s, 1);
	store_col_text(s, 2, out->incident, sizeof(out->incident));
	out->block_id = sqlite3_column_int64(s, 3);
	out->pid = (int32_t)sqlite3_column_int64(s, 4);
	out->qp_count = (uint32_t)sqlite3_column_int64(s, 5);
	store_col_text(s, 6, out->comm, sizeof(out->comm));
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
		s = store_stmt(st, S_REPORT_LATEST);
		r = report_row(st, s, out, "latest report");
	} else {
		s = store_stmt(st, S_REPORT_GET);
		r = store_bind_i64(st, s, 1, seq);
		if (r == 0)
			r = report_row(st, s, out, "get report");
	}
	store_done(s);
	return r;
}

int ias_store_report_next(struct ias_store *st, struct ias_report_rec *out)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !out)
		return -EINVAL;
	s = store_stmt(st, S_REPORT_NEXT);
	r = report_row(st, s, out, "next undelivered report");
	store_done(s);
	return r;
}

int ias_store_report_delivered(struct ias_store *st, int64_t seq, int64_t when_ms)
{
	sqlite3_stmt *s;
	int r;

	if (!st || seq <= 0)
		return -EINVAL;
	s = store_stmt(st, S_REPORT_DELIVERED);
	if ((r = store_bind_i64(st, s, 1, seq)) || (r = store_bind_i64(st, s, 2, when_ms)))
		goto out;
	r = store_step_done(st, s, "report delivered");
out:
	store_done(s);
	return r;
}

/* ---- policy ------------------------------------------------------------ */

int ias_store_policy_set(struct ias_store *st, const struct ias_policy *p)
{
	const uint64_t v[] = {
		p ? p->base_duration_ms : 0, p ? p->max_duration_ms : 0, p ? p->escalation : 0,
		p ? p->hop_limit : 0, p ? p->fanout_limit : 0,
	};
	sqlite3_stmt *s;
	int r;

	if (!st || !p)
		return -EINVAL;
	if (p->level > IAS_LEVEL_ZONE || p->block_mode > IAS_MODE_KILL)
		return store_fail(st, -EINVAL, "policy: unknown level %u or block mode %u",
				  p->level, p->block_mode);
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		if (v[i] > INT64_MAX)
			return store_fail(st, -EINVAL, "policy: value %" PRIu64 " out of range", v[i]);
	s = store_stmt(st, S_POLICY_SET);
	if ((r = store_bind_i64(st, s, 1, p->version)) || (r = store_bind_i64(st, s, 2, p->level)) ||
	    (r = store_bind_i64(st, s, 3, p->block_mode)) ||
	    (r = store_bind_i64(st, s, 4, p->dry_run ? 1 : 0)))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(v) && r == 0; i++)
		r = store_bind_i64(st, s, 5 + (int)i, (int64_t)v[i]);
	if (r == 0)
		r = store_step_done(st, s, "set policy");
out:
	store_done(s);
	return r;
}

int ias_store_policy_get(struct ias_store *st, struct ias_policy *out)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !out)
		return -EINVAL;
	s = store_stmt(st, S_POLICY_GET);
	r = store_step_row(st, s, "read policy");
	if (r == 0)
		r = store_fail(st, -ENOENT, "no policy is stored");
	if (r == 1) {
		memset(out, 0, sizeof(*out));
		out->version = (uint32_t)sqlite3_column_int64(s, 0);
		out->level = (unsigned)sqlite3_column_int64(s, 1);
		out->block_mode = (unsigned)sqlite3_column_int64(s, 2);
		out->dry_run = sqlite3_column_int64(s, 3) != 0;
		out->base_duration_ms = (uint64_t)sqlite3_column_int64(s, 4);
		out->max_duration_ms = (uint64_t)sqlite3_column_int64(s, 5);
		out->escalation = (uint64_t)sqlite3_column_int64(s, 6);
		out->hop_limit = (uint64_t)sqlite3_column_int64(s, 7);
		out->fanout_limit = (uint64_t)sqlite3_column_int64(s, 8);
		r = 0;
	}
	store_done(s);
	return r;
}
