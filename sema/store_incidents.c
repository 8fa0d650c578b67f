/* sema/store: incidents, their events and the durable sequences. See
 * store.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sema/store_int.h"

#define INCIDENT_COLS "id, origin, node, opened_ms, root_pid, reason, state, closed_ms"
#define EVENT_COLS "id, incident, ts_ms, node, pid, qpn, kind, text, ts_us"

const struct store_sql store_incidents_sql[] = {
	{ S_INCIDENT_INSERT,
	  "INSERT INTO incidents (" INCIDENT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)" },
	{ S_INCIDENT_GET, "SELECT " INCIDENT_COLS " FROM incidents WHERE id = ?1" },
	{ S_INCIDENT_SET_STATE, "UPDATE incidents SET state = ?2, closed_ms = ?3 WHERE id = ?1" },
	{ S_INCIDENT_WALK,
	  "SELECT " INCIDENT_COLS " FROM incidents WHERE (opened_ms, id) > (?1, ?2)"
	  " ORDER BY opened_ms, id LIMIT ?3" },
	{ S_EVENT_INSERT,
	  "INSERT INTO incident_events (incident, ts_ms, node, pid, qpn, kind, text, ts_us)"
	  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)" },
	{ S_EVENT_WALK,
	  "SELECT " EVENT_COLS " FROM incident_events WHERE incident = ?1 AND id > ?2"
	  " ORDER BY id LIMIT ?3" },
	{ S_SEQ_NEXT,
	  "INSERT INTO seqs (name, value) VALUES (?1, 1)"
	  " ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value" },
	{ S_COUNT, NULL },
};

static const char *const incident_states[] = { "open", "closed" };

int ias_store_incident_add(struct ias_store *st, const struct ias_incident_rec *rec)
{
	const char *state;
	sqlite3_stmt *s;
	int r;

	if (!st || !rec)
		return -EINVAL;
	if ((r = store_check_text(st, "incident id", rec->id, sizeof(rec->id), 1)) ||
	    (r = store_check_text(st, "origin", rec->origin, sizeof(rec->origin), 0)) ||
	    (r = store_check_text(st, "node", rec->node, sizeof(rec->node), 0)) ||
	    (r = store_check_text(st, "reason", rec->reason, sizeof(rec->reason), 0)) ||
	    (r = store_check_text(st, "state", rec->state, sizeof(rec->state), 0)))
		return r;
	state = rec->state[0] ? rec->state : "open";
	if (!store_one_of(state, incident_states, ARRAY_SIZE(incident_states)))
		return store_fail(st, -EINVAL, "unknown incident state \"%s\"", state);
	s = store_stmt(st, S_INCIDENT_INSERT);
	if ((r = store_bind_text(st, s, 1, rec->id)) ||
	    (r = store_bind_text(st, s, 2, rec->origin)) ||
	    (r = store_bind_text(st, s, 3, rec->node)) ||
	    (r = store_bind_i64(st, s, 4, rec->opened_ms)) ||
	    (r = store_bind_i64(st, s, 5, rec->root_pid)) ||
	    (r = store_bind_text(st, s, 6, rec->reason)) || (r = store_bind_text(st, s, 7, state)) ||
	    (r = store_bind_i64(st, s, 8, rec->closed_ms)))
		goto out;
	r = store_step_done(st, s, "insert incident");
	if (r == -EEXIST)
		r = store_fail(st, -EEXIST, "incident %s already exists", rec->id);
out:
	store_done(s);
	return r;
}

static void read_incident(sqlite3_stmt *s, void *row)
{
	struct ias_incident_rec *o = row;

	memset(o, 0, sizeof(*o));
	store_col_text(s, 0, o->id, sizeof(o->id));
	store_col_text(s, 1, o->origin, sizeof(o->origin));
	store_col_text(s, 2, o->node, sizeof(o->node));
	o->opened_ms = sqlite3_column_int64(s, 3);
	o->root_pid = (int32_t)sqlite3_column_int64(s, 4);
	store_col_text(s, 5, o->reason, sizeof(o->reason));
	store_col_text(s, 6, o->state, sizeof(o->state));
	o->closed_ms = sqlite3_column_int64(s, 7);
}

int ias_store_incident_get(struct ias_store *st, const char *id, struct ias_incident_rec *out)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !out)
		return -EINVAL;
	if ((r = store_check_text(st, "incident id", id, sizeof(out->id), 1)) != 0)
		return r;
	s = store_stmt(st, S_INCIDENT_GET);
	if ((r = store_bind_text(st, s, 1, id)) != 0 ||
	    (r = store_step_row(st, s, "read incident")) < 0)
		goto out;
	if (r == 1) {
		read_incident(s, out);
		r = 0;
	} else {
		r = store_fail(st, -ENOENT, "no incident %s", id);
	}
out:
	store_done(s);
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
	if ((r = store_check_text(st, "incident id", id, sizeof(i->id), 1)) ||
	    (r = store_check_text(st, "state", state, sizeof(i->state), 1)))
		return r;
	if (!store_one_of(state, incident_states, ARRAY_SIZE(incident_states)))
		return store_fail(st, -EINVAL, "unknown incident state \"%s\"", state);
	s = store_stmt(st, S_INCIDENT_SET_STATE);
	if ((r = store_bind_text(st, s, 1, id)) || (r = store_bind_text(st, s, 2, state)) ||
	    (r = store_bind_i64(st, s, 3, strcmp(state, "closed") == 0 ? when_ms : 0)) ||
	    (r = store_step_done(st, s, "set incident state")) != 0)
		goto out;
	if (sqlite3_changes(st->db) == 0)
		r = store_fail(st, -ENOENT, "no incident %s", id);
out:
	store_done(s);
	return r;
}

/* Context of the incident and event walks. */
struct cb_walk {
	const char *incident;	/* the event walk's */
	int (*incident_cb)(const struct ias_incident_rec *, void *);
	int (*event_cb)(const struct ias_incident_event *, void *);
	void *arg;
};

static int incident_visit(const void *row, void *ctx)
{
	struct cb_walk *w = ctx;

	return w->incident_cb(row, w->arg);
}

static int incident_bind(struct ias_store *st, sqlite3_stmt *s, const void *last, void *ctx)
{
	const struct ias_incident_rec *l = last;
	int r;

	(void)ctx;
	if ((r = store_bind_i64(st, s, 1, l ? l->opened_ms : INT64_MIN)) != 0)
		return r;
	return store_bind_text(st, s, 2, l ? l->id : "");
}

int ias_store_incidents_foreach(struct ias_store *st,
				int (*cb)(const struct ias_incident_rec *, void *), void *arg)
{
	struct cb_walk ctx = { .incident_cb = cb, .arg = arg };
	static const struct store_walk w = {
		.which = S_INCIDENT_WALK, .row_size = sizeof(struct ias_incident_rec),
		.what = "list incidents", .bind = incident_bind, .read = read_incident,
		.visit = incident_visit,
	};

	if (!st || !cb)
		return -EINVAL;
	return store_walk(st, &w, &ctx);
}

int ias_store_incident_event_add(struct ias_store *st, const struct ias_incident_event *ev)
{
	sqlite3_stmt *s;
	int r;

	if (!st || !ev)
		return -EINVAL;
	if ((r = store_check_text(st, "incident", ev->incident, sizeof(ev->incident), 1)) ||
	    (r = store_check_text(st, "node", ev->node, sizeof(ev->node), 0)) ||
	    (r = store_check_text(st, "kind", ev->kind, sizeof(ev->kind), 0)) ||
	    (r = store_check_text(st, "text", ev->text, sizeof(ev->text), 0)))
		return r;
	s = store_stmt(st, S_EVENT_INSERT);
	if ((r = store_bind_text(st, s, 1, ev->incident)) ||
	    (r = store_bind_i64(st, s, 2, ev->ts_ms)) || (r = store_bind_text(st, s, 3, ev->node)) ||
	    (r = store_bind_i64(st, s, 4, ev->pid)) || (r = store_bind_i64(st, s, 5, ev->qpn)) ||
	    (r = store_bind_text(st, s, 6, ev->kind)) || (r = store_bind_text(st, s, 7, ev->text)) ||
	    (r = store_bind_i64(st, s, 8, ev->ts_us ? ev->ts_us : ev->ts_ms * 1000)))
		goto out;
	r = store_step_done(st, s, "insert incident event");
out:
	store_done(s);
	return r;
}

static void read_event(sqlite3_stmt *s, void *row)
{
	struct ias_incident_event *e = row;

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, e->incident, sizeof(e->incident));
	e->ts_ms = sqlite3_column_int64(s, 2);
	store_col_text(s, 3, e->node, sizeof(e->node));
	e->pid = (int32_t)sqlite3_column_int64(s, 4);
	e->qpn = (uint32_t)sqlite3_column_int64(s, 5);
	store_col_text(s, 6, e->kind, sizeof(e->kind));
	store_col_text(s, 7, e->text, sizeof(e->text));
	e->ts_us = sqlite3_column_int64(s, 8);
}

static int event_visit(const void *row, void *ctx)
{
	struct cb_walk *w = ctx;

	return w->event_cb(row, w->arg);
}

static int event_bind(struct ias_store *st, sqlite3_stmt *s, const void *last, void *ctx)
{
	const struct ias_incident_event *l = last;
	int r;

	if ((r = store_bind_text(st, s, 1, ((struct cb_walk *)ctx)->incident)) != 0)
		return r;
	return store_bind_i64(st, s, 2, l ? l->id : 0);
}

int ias_store_incident_events_foreach(struct ias_store *st, const char *incident,
				      int (*cb)(const struct ias_incident_event *, void *),
				      void *arg)
{
	struct cb_walk ctx = { .incident = incident, .event_cb = cb, .arg = arg };
	static const struct store_walk w = {
		.which = S_EVENT_WALK, .row_size = sizeof(struct ias_incident_event),
		.what = "list incident events", .bind = event_bind, .read = read_event,
		.visit = event_visit,
	};
	int r;

	if (!st || !cb)
		return -EINVAL;
	if ((r = store_check_text(st, "incident", incident,
				  sizeof(((struct ias_incident_event *)0)->incident), 1)) != 0)
		return r;
	return store_walk(st, &w, &ctx);
}

uint64_t ias_store_next_seq(struct ias_store *st, const char *name)
{
	sqlite3_stmt *s;
	uint64_t v = 0;
	int r;

	if (!st || store_check_text(st, "sequence name", name, IAS_STORE_SEQNAME_MAX + 1, 1) != 0)
		return 0;
	s = store_stmt(st, S_SEQ_NEXT);
	if (store_bind_text(st, s, 1, name) != 0)
		goto out;
	r = store_step_row(st, s, "next sequence value");
	if (r == 0)
		store_fail(st, -EIO, "next sequence value: no row");
	if (r != 1)
		goto out;
	v = (uint64_t)sqlite3_column_int64(s, 0);
	/* Run the statement to completion so the update is committed. */
	if (store_step_done(st, s, "next sequence value") != 0)
		v = 0;
out:
	store_done(s);
	return v;
}
