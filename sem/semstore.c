/* See semstore.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "common/fstrust.h"
#include "sem/semstore.h"

#define APP_ID 0x4941534d /* "IASM" */
#define BUSY_TIMEOUT_MS 5000

struct semstore {
	sqlite3 *db;
	char msg[256];
};

/* migrations[i] takes user_version i to i+1. Never edit a shipped step. */
static const char *const migrations[] = {
	"CREATE TABLE nodes ("
	" guid INTEGER PRIMARY KEY, port_guid INTEGER NOT NULL, lid INTEGER NOT NULL,"
	" node_type INTEGER NOT NULL, name TEXT NOT NULL, agent INTEGER NOT NULL,"
	" first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL);"
	"CREATE TABLE reports ("
	" node_guid INTEGER NOT NULL, seq INTEGER NOT NULL CHECK (seq > 0),"
	" incident INTEGER NOT NULL, event_ms INTEGER NOT NULL, block_id INTEGER NOT NULL,"
	" kind INTEGER NOT NULL, peer_lid INTEGER NOT NULL, peer_qpn INTEGER NOT NULL,"
	" pid INTEGER NOT NULL, qp_count INTEGER NOT NULL, comm TEXT NOT NULL,"
	" received_ms INTEGER NOT NULL, via INTEGER NOT NULL,"
	" PRIMARY KEY (node_guid, seq)) WITHOUT ROWID;"
	"CREATE INDEX reports_incident ON reports(incident, event_ms);"
	"CREATE TABLE policy ("
	" id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL,"
	" level INTEGER NOT NULL, block_mode INTEGER NOT NULL, flags INTEGER NOT NULL,"
	" hop_limit INTEGER NOT NULL, fanout_limit INTEGER NOT NULL,"
	" escalation_x100 INTEGER NOT NULL, base_s INTEGER NOT NULL, max_s INTEGER NOT NULL,"
	" updated_ms INTEGER NOT NULL);",
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int fail(struct semstore *st, const char *what)
{
	snprintf(st->msg, sizeof(st->msg), "%s: %s", what, sqlite3_errmsg(st->db));
	return -EIO;
}

const char *semstore_errmsg(const struct semstore *st)
{
	return st ? st->msg : "no store";
}

static int exec(struct semstore *st, const char *sql)
{
	char *e = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &e) != SQLITE_OK) {
		snprintf(st->msg, sizeof(st->msg), "%s", e ? e : "sqlite error");
		sqlite3_free(e);
		return -EIO;
	}
	return 0;
}

static int pragma_int(struct semstore *st, const char *sql, int64_t *v)
{
	sqlite3_stmt *s;
	int r = -EIO;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return fail(st, sql);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		r = 0;
	} else {
		r = fail(st, sql);
	}
	sqlite3_finalize(s);
	return r;
}

static int migrate(struct semstore *st)
{
	int64_t ver = 0, app = 0;
	char sql[128];
	int r, i;

	if ((r = exec(st, "BEGIN IMMEDIATE")) != 0)
		return r;
	if ((r = pragma_int(st, "PRAGMA user_version", &ver)) != 0 ||
	    (r = pragma_int(st, "PRAGMA application_id", &app)) != 0)
		goto out;
	if (ver > NMIGRATIONS || (ver > 0 && app != APP_ID)) {
		snprintf(st->msg, sizeof(st->msg),
			 "not a sem store of a known version (application_id %#llx, user_version %lld)",
			 (unsigned long long)app, (long long)ver);
		r = -EPROTO;
		goto out;
	}
	for (i = (int)ver; i < NMIGRATIONS; i++)
		if ((r = exec(st, migrations[i])) != 0)
			goto out;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d",
		 NMIGRATIONS, APP_ID);
	if ((r = exec(st, sql)) != 0)
		goto out;
	r = exec(st, "COMMIT");
out:
	if (r)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int semstore_open(const char *dir, struct semstore **out, char *err, size_t errlen)
{
	struct semstore *st = calloc(1, sizeof(*st));
	char path[4096];
	int r;

	*out = NULL;
	if (!st)
		return -ENOMEM;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(st);
		return r;
	}
	/* Nobody but us may have put or changed anything there. */
	r = ias_fs_private_db(dir, "sem.db", geteuid(), err, errlen);
	if (r) {
		free(st);
		return r;
	}
	snprintf(path, sizeof(path), "%s/sem.db", dir);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		sqlite3_close(st->db);
		free(st);
		return -EIO;
	}
	chmod(path, 0640);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	if ((r = exec(st, "PRAGMA journal_mode = WAL")) != 0 ||
	    (r = exec(st, "PRAGMA synchronous = FULL")) != 0 ||
	    (r = migrate(st)) != 0) {
		snprintf(err, errlen, "%s: %s", path, st->msg);
		semstore_close(st);
		return r;
	}
	*out = st;
	return 0;
}

void semstore_close(struct semstore *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	free(st);
}

static int prep(struct semstore *st, const char *sql, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK)
		return fail(st, "prepare");
	return 0;
}

static int step_done(struct semstore *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE)
		return fail(st, "step");
	return 0;
}

int semstore_report_add(struct semstore *st, const struct ias_attr_report *r,
			int64_t received_ms, int via)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if (!r->seq || via < SEM_VIA_REPORT || via > SEM_VIA_LOST)
		return -EINVAL;
	/* A real report may take the place of a "lost" placeholder; anything
	 * else already stored wins: exactly once. */
	ret = prep(st, "INSERT INTO reports VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
		   " ON CONFLICT(node_guid, seq) DO UPDATE SET incident = excluded.incident,"
		   " event_ms = excluded.event_ms, block_id = excluded.block_id,"
		   " kind = excluded.kind, peer_lid = excluded.peer_lid,"
		   " peer_qpn = excluded.peer_qpn, pid = excluded.pid,"
		   " qp_count = excluded.qp_count, comm = excluded.comm,"
		   " received_ms = excluded.received_ms, via = excluded.via"
		   " WHERE reports.via = 3 AND excluded.via != 3", &s);
	if (ret)
		return ret;
	sqlite3_bind_int64(s, 1, (int64_t)r->node_guid);
	sqlite3_bind_int64(s, 2, (int64_t)r->seq);
	sqlite3_bind_int64(s, 3, (int64_t)r->incident_id);
	sqlite3_bind_int64(s, 4, (int64_t)r->event_time_ms);
	sqlite3_bind_int64(s, 5, (int64_t)r->block_id);
	sqlite3_bind_int(s, 6, r->kind);
	sqlite3_bind_int(s, 7, r->peer_lid);
	sqlite3_bind_int64(s, 8, r->peer_qpn);
	sqlite3_bind_int64(s, 9, r->pid);
	sqlite3_bind_int64(s, 10, r->qp_count);
	sqlite3_bind_text(s, 11, r->comm, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 12, received_ms);
	sqlite3_bind_int(s, 13, via);
	ret = step_done(st, s);
	if (!ret)
		ret = sqlite3_changes(st->db) > 0;
	sqlite3_finalize(s);
	return ret;
}

int semstore_report_lost(struct semstore *st, uint64_t node_guid, uint64_t seq, int64_t now_ms)
{
	struct ias_attr_report r;

	memset(&r, 0, sizeof(r));
	r.node_guid = node_guid;
	r.seq = seq;
	return semstore_report_add(st, &r, now_ms, SEM_VIA_LOST);
}

int semstore_report_span(struct semstore *st, uint64_t node_guid, uint64_t *max_seq,
			 uint64_t *count)
{
	sqlite3_stmt *s = NULL;
	int ret;

	*max_seq = *count = 0;
	ret = prep(st, "SELECT IFNULL(MAX(seq), 0), COUNT(*) FROM reports WHERE node_guid = ?", &s);
	if (ret)
		return ret;
	sqlite3_bind_int64(s, 1, (int64_t)node_guid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*max_seq = (uint64_t)sqlite3_column_int64(s, 0);
		*count = (uint64_t)sqlite3_column_int64(s, 1);
	} else {
		ret = fail(st, "report span");
	}
	sqlite3_finalize(s);
	return ret;
}

int semstore_report_missing(struct semstore *st, uint64_t node_guid, uint64_t upto,
			    uint64_t *out, size_t max)
{
	sqlite3_stmt *s = NULL;
	uint64_t want = 1, have;
	size_t n = 0;
	int ret, rc;

	ret = prep(st, "SELECT seq FROM reports WHERE node_guid = ? AND seq <= ? ORDER BY seq", &s);
	if (ret)
		return ret;
	sqlite3_bind_int64(s, 1, (int64_t)node_guid);
	sqlite3_bind_int64(s, 2, (int64_t)upto);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		have = (uint64_t)sqlite3_column_int64(s, 0);
		while (want < have && n < max)
			out[n++] = want++;
		want = have + 1;
	}
	while (n < max && want <= upto)
		out[n++] = want++;
	sqlite3_finalize(s);
	return (int)n;
}

static void row_report(sqlite3_stmt *s, struct sem_report_rec *rec)
{
	const unsigned char *comm;

	memset(rec, 0, sizeof(*rec));
	rec->r.node_guid = (uint64_t)sqlite3_column_int64(s, 0);
	rec->r.seq = (uint64_t)sqlite3_column_int64(s, 1);
	rec->r.incident_id = (uint64_t)sqlite3_column_int64(s, 2);
	rec->r.event_time_ms = (uint64_t)sqlite3_column_int64(s, 3);
	rec->r.block_id = (uint64_t)sqlite3_column_int64(s, 4);
	rec->r.kind = (uint8_t)sqlite3_column_int(s, 5);
	rec->r.peer_lid = (uint16_t)sqlite3_column_int(s, 6);
	rec->r.peer_qpn = (uint32_t)sqlite3_column_int64(s, 7);
	rec->r.pid = (uint32_t)sqlite3_column_int64(s, 8);
	rec->r.qp_count = (uint32_t)sqlite3_column_int64(s, 9);
	comm = sqlite3_column_text(s, 10);
	snprintf(rec->r.comm, sizeof(rec->r.comm), "%s", comm ? (const char *)comm : "");
	rec->received_ms = sqlite3_column_int64(s, 11);
	rec->via = sqlite3_column_int(s, 12);
}

int semstore_reports_foreach(struct semstore *st, uint64_t incident,
			     int (*cb)(const struct sem_report_rec *, void *), void *arg)
{
	sqlite3_stmt *s = NULL;
	struct sem_report_rec rec;
	int ret, rc;

	ret = prep(st, "SELECT * FROM reports WHERE via != 3 AND (?1 = 0 OR incident = ?1)"
		   " ORDER BY event_ms, node_guid, seq", &s);
	if (ret)
		return ret;
	sqlite3_bind_int64(s, 1, (int64_t)incident);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_report(s, &rec);
		if ((ret = cb(&rec, arg)) != 0)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail(st, "reports");
	sqlite3_finalize(s);
	return ret;
}

int semstore_report_last_ms(struct semstore *st, uint64_t node_guid, int64_t *ms)
{
	sqlite3_stmt *s = NULL;
	int ret;

	*ms = 0;
	ret = prep(st, "SELECT IFNULL(MAX(event_ms), 0) FROM reports WHERE node_guid = ? AND via != 3", &s);
	if (ret)
		return ret;
	sqlite3_bind_int64(s, 1, (int64_t)node_guid);
	if (sqlite3_step(s) == SQLITE_ROW)
		*ms = sqlite3_column_int64(s, 0);
	else
		ret = fail(st, "report time");
	sqlite3_finalize(s);
	return ret;
}

int semstore_node_put(struct semstore *st, const struct sem_node_rec *n)
{
	sqlite3_stmt *s = NULL;
	int ret;

	ret = prep(st, "INSERT INTO nodes VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(guid) DO UPDATE SET"
		   " port_guid = excluded.port_guid, lid = excluded.lid,"
		   " node_type = excluded.node_type, name = excluded.name, agent = excluded.agent,"
		   " last_seen_ms = excluded.last_seen_ms", &s);
	if (ret)
		return ret;
	sqlite3_bind_int64(s, 1, (int64_t)n->guid);
	sqlite3_bind_int64(s, 2, (int64_t)n->port_guid);
	sqlite3_bind_int(s, 3, n->lid);
	sqlite3_bind_int(s, 4, n->node_type);
	sqlite3_bind_text(s, 5, n->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 6, !!n->agent);
	sqlite3_bind_int64(s, 7, n->first_seen_ms);
	sqlite3_bind_int64(s, 8, n->last_seen_ms);
	ret = step_done(st, s);
	sqlite3_finalize(s);
	return ret;
}

int semstore_nodes_foreach(struct semstore *st,
			   int (*cb)(const struct sem_node_rec *, void *), void *arg)
{
	sqlite3_stmt *s = NULL;
	struct sem_node_rec n;
	int ret, rc;

	ret = prep(st, "SELECT * FROM nodes ORDER BY lid, guid", &s);
	if (ret)
		return ret;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 4);

		memset(&n, 0, sizeof(n));
		n.guid = (uint64_t)sqlite3_column_int64(s, 0);
		n.port_guid = (uint64_t)sqlite3_column_int64(s, 1);
		n.lid = (uint16_t)sqlite3_column_int(s, 2);
		n.node_type = (uint8_t)sqlite3_column_int(s, 3);
		snprintf(n.name, sizeof(n.name), "%s", name ? (const char *)name : "");
		n.agent = sqlite3_column_int(s, 5);
		n.first_seen_ms = sqlite3_column_int64(s, 6);
		n.last_seen_ms = sqlite3_column_int64(s, 7);
		if ((ret = cb(&n, arg)) != 0)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail(st, "nodes");
	sqlite3_finalize(s);
	return ret;
}

int semstore_policy_get(struct semstore *st, struct sem_policy_rec *p)
{
	sqlite3_stmt *s = NULL;
	int ret, rc;

	ret = prep(st, "SELECT version, level, block_mode, flags, hop_limit, fanout_limit,"
		   " escalation_x100, base_s, max_s, updated_ms FROM policy WHERE id = 1", &s);
	if (ret)
		return ret;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(p, 0, sizeof(*p));
		p->p.policy_version = (uint32_t)sqlite3_column_int64(s, 0);
		p->p.search_level = (uint8_t)sqlite3_column_int(s, 1);
		p->p.block_mode = (uint8_t)sqlite3_column_int(s, 2);
		p->p.flags = (uint8_t)sqlite3_column_int(s, 3);
		p->p.hop_limit = (uint8_t)sqlite3_column_int(s, 4);
		p->p.fanout_limit = (uint8_t)sqlite3_column_int(s, 5);
		p->p.escalation_x100 = (uint16_t)sqlite3_column_int(s, 6);
		p->p.base_duration_s = (uint32_t)sqlite3_column_int64(s, 7);
		p->p.max_duration_s = (uint32_t)sqlite3_column_int64(s, 8);
		p->updated_ms = sqlite3_column_int64(s, 9);
	} else if (rc == SQLITE_DONE) {
		ret = -ENOENT;
	} else {
		ret = fail(st, "policy");
	}
	sqlite3_finalize(s);
	return ret;
}

int semstore_policy_put(struct semstore *st, const struct sem_policy_rec *p)
{
	sqlite3_stmt *s = NULL;
	int ret;

	ret = prep(st, "INSERT OR REPLACE INTO policy VALUES (1,?,?,?,?,?,?,?,?,?,?)", &s);
	if (ret)
		return ret;
	sqlite3_bind_int64(s, 1, p->p.policy_version);
	sqlite3_bind_int(s, 2, p->p.search_level);
	sqlite3_bind_int(s, 3, p->p.block_mode);
	sqlite3_bind_int(s, 4, p->p.flags);
	sqlite3_bind_int(s, 5, p->p.hop_limit);
	sqlite3_bind_int(s, 6, p->p.fanout_limit);
	sqlite3_bind_int(s, 7, p->p.escalation_x100);
	sqlite3_bind_int64(s, 8, p->p.base_duration_s);
	sqlite3_bind_int64(s, 9, p->p.max_duration_s);
	sqlite3_bind_int64(s, 10, p->updated_ms);
	ret = step_done(st, s);
	sqlite3_finalize(s);
	return ret;
}
