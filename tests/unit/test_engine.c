/* The agent's engine against fakes of the effects interface and of the MAD
 * port, on a real store in a temporary directory: report, the unit of work
 * and its order (enforced before the commit, acknowledged after it),
 * duplicates per incident, dry-run, never-block, escalation, release,
 * expiry, restore, PID reuse, and a store that cannot commit. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "sema/engine.h"
#include "sema/engine_int.h"
#include "sema/procinfo.h"
#include "sema/store.h"
#include "sema/uow.h"
#include "tests/unit/fake_sema.h"
#include "tests/unit/tap.h"

static struct sema S;

static void add_qp(pid_t pid, uint32_t qpn, uint64_t client)
{
	struct qpt_entry *q = qpt_upsert(&S.qps, "dev0", qpn);

	q->pid = pid;
	q->client_id = client;
	q->sources = QPT_SRC_LIBIAS;
	q->has_remote = 1;
	q->remote_lid = 9;
	q->remote_qpn = qpn + 0x100;
}

struct rep {
	const char *incident;
	bool dry_run, trace_on, override;
	uint32_t duration_s;
};

/* One report in its own unit of work, as the control socket does it.
 * Returns engine_report's result, or -EIO when the commit failed. */
static int report(pid_t pid, const struct rep *o, struct ias_block_rec *rec, char *msg, size_t len)
{
	struct report_req rq = { .pid = pid, .origin = "manual", .actor = "test" };
	struct sema_uow u;
	char err[256];
	int r;

	rq.incident = o ? o->incident : NULL;
	rq.dry_run = o && o->dry_run;
	rq.trace_on = o && o->trace_on;
	rq.override = o && o->override;
	rq.duration_s = o ? o->duration_s : 0;
	if (uow_begin(&S, &u, err, sizeof(err)) < 0)
		return -EIO;
	r = engine_report(&S, &u, &rq, rec, msg, len);
	if (r < 0) {
		uow_abort(&u);
		return r;
	}
	return uow_commit(&u, msg, len) < 0 ? -EIO : r;
}

struct evcount { const char *kind; unsigned n; };

static int ev_cb(const struct ias_incident_event *e, void *arg)
{
	struct evcount *c = arg;

	c->n += strcmp(e->kind, c->kind) == 0;
	return 0;
}

static unsigned events(const char *incident, const char *kind)
{
	struct evcount c = { kind, 0 };

	ias_store_incident_events_foreach(S.store, incident, ev_cb, &c);
	return c.n;
}

static uint64_t start_of(pid_t pid)
{
	struct proc_info pi;

	return proc_info_get(pid, &pi) == 0 ? pi.starttime : 0;
}

static void test_report_order(pid_t v)
{
	struct ias_block_rec rec, again;
	struct report_req rq = { .pid = v, .origin = "manual", .actor = "test", .trace_on = true };
	struct sema_uow u;
	char msg[256];

	fake_reset();
	add_qp(v, 0x11, 7);
	ok(uow_begin(&S, &u, msg, sizeof(msg)) == 0, "a unit of work opens");
	is_int(engine_report(&S, &u, &rq, &rec, msg, sizeof(msg)), 0, "report: a new block");
	is_int(fake_orders("pause"), 1, "the QP is paused before the commit");
	is_int(fake.ntraces, 1, "the first trace left before the commit");
	ok(fake.ntraces && fake.traces[0].hop == 1 && fake.traces[0].flags == 0 &&
	   strcmp(fake.traces[0].incident, rec.incident) == 0, "hop 1, not dry-run, its incident");
	is_int(fake.alerts, 0, "no alert before the commit");
	is_int(fake.kicks, 0, "the outbox is not offered before the commit");
	is_int(uow_commit(&u, msg, sizeof(msg)), 0, "committed");
	is_int(fake.alerts, 1, "the alert after the commit");
	is_int(fake.kicks, 1, "the outbox kicked after the commit");
	is_str(fake.last_alert_incident, rec.incident, "the alert names the incident");
	ok(rec.pid_start && rec.pid_start == start_of(v), "the record names the process by start time");
	ok(ias_store_block_get(S.store, rec.id, &again) == 0 && again.released_ms == 0,
	   "the block is in the store");
	is_int(events(rec.incident, "block"), 1, "a block event");
	is_int(events(rec.incident, "enforced"), 1, "an enforced event");
	ok(engine_blocked(&S, v) && engine_blocked_in(&S, v, rec.incident), "blocked, in its incident");
	ok(rec.mech == IAS_MECH_PAUSE && rec.qp_orders == 1, "mechanism: pause, 1 order");
}

static void test_duplicates(pid_t v)
{
	struct ias_block_rec rec, first;
	struct rep o = { 0 };
	char msg[256];
	const char *other = "I-00abcd-5";

	fake_reset();
	is_int(report(v, NULL, &first, msg, sizeof(msg)), 1, "a second report: duplicate");
	is_int(fake.norders + fake.alerts, 0, "a duplicate enforces and alerts nothing");
	o.incident = first.incident;
	is_int(report(v, &o, &rec, msg, sizeof(msg)), 1, "the same incident again: duplicate");
	o.incident = other;
	is_int(report(v, &o, &rec, msg, sizeof(msg)), 2, "another incident: the process joins it");
	is_int(rec.id, first.id, "answered with the existing block");
	is_int(events(other, "joined"), 1, "a 'joined' event in the other incident");
	ok(engine_blocked_in(&S, v, other), "now part of the other incident too");
	is_int(report(v, &o, &rec, msg, sizeof(msg)), 1, "that incident again: duplicate");
	is_int(events(other, "joined"), 1, "no second 'joined' event");
	is_int(fake.norders, 0, "no orders for any of these");
}

static void test_dry_run(pid_t v)
{
	struct ias_block_rec rec;
	struct rep o = { .dry_run = true, .trace_on = true };
	char msg[256];

	fake_reset();
	add_qp(v, 0x21, 8);
	is_int(report(v, &o, &rec, msg, sizeof(msg)), 0, "a dry-run report");
	ok(rec.simulated, "recorded as simulated");
	ok(rec.mech == IAS_MECH_PAUSE, "the mechanism it would have used: pause");
	is_int(fake.norders, 0, "nothing enforced");
	ok(fake.ntraces == 1 && fake.traces[0].flags == SEMA_TRACE_DRY_RUN,
	   "the traces carry the dry-run flag");
	is_int(events(rec.incident, "would-block"), 1, "a would-block event");
}

static void test_never_block(pid_t v)
{
	struct ias_allow_rec a = { .kind = "pid" };
	struct ias_block_rec rec;
	struct rep o = { .override = true };
	char msg[256];

	fake_reset();
	snprintf(a.value, sizeof(a.value), "%d", (int)v);
	ok(ias_store_allow_add(S.store, &a) == 0, "PID on the allow-list");
	is_int(report(v, NULL, &rec, msg, sizeof(msg)), -EACCES, "refused: never-block");
	ok(strstr(msg, "allowlist") != NULL, "why: %s", msg);
	is_int(engine_never_block(&S, v, msg, sizeof(msg)), 1, "the cached verdict agrees");
	is_int(report(v, &o, &rec, msg, sizeof(msg)), 0, "an override blocks anyway");
	is_int(report(1, NULL, &rec, msg, sizeof(msg)), -EACCES, "PID 1 is never blocked");
	is_int(report(getpid(), NULL, &rec, msg, sizeof(msg)), -EACCES, "nor the agent itself");
	is_int(report(0x7ffffff0, NULL, &rec, msg, sizeof(msg)), -ESRCH, "no such process");
	ias_store_allow_remove(S.store, "pid", a.value);
}

static void test_commit_failure(pid_t v)
{
	struct ias_block_rec rec, ok_rec;
	struct rlimit old, zero = { 0, 0 };
	char msg[256], failed_incident[32];
	void (*old_xfsz)(int);
	int r;

	fake_reset();
	add_qp(v, 0x31, 9);
	old_xfsz = signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	zero.rlim_max = old.rlim_max;
	/* A "full disk": no file may grow, so the commit's writes fail. */
	setrlimit(RLIMIT_FSIZE, &zero);
	r = report(v, NULL, &rec, msg, sizeof(msg));
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, old_xfsz);
	if (r != -EIO) {
		ok(0, "the commit should fail with the file size limit at 0 (got %d)", r);
		return;
	}
	ok(1, "the commit fails: %s", msg);
	ok(strstr(msg, "nothing blocked") != NULL, "the caller is told nothing was blocked");
	is_int(fake_orders("pause"), 1, "the QP was paused before the commit");
	is_int(fake_orders("resume"), 1, "and resumed when the commit failed");
	is_int(fake.alerts, 0, "no alert");
	is_int(fake.kicks, 0, "no outbox kick");
	ok(fake.ready == 0 && S.store_failed, "readiness withdrawn");
	ok(!engine_blocked(&S, v), "not remembered as blocked");
	snprintf(failed_incident, sizeof(failed_incident), "%s", rec.incident);
	is_int(report(v, NULL, &ok_rec, msg, sizeof(msg)), 0, "the next report commits");
	ok(fake.ready == 1 && !S.store_failed, "ready again");
	ok(strcmp(ok_rec.incident, failed_incident) != 0,
	   "the failed unit's incident id is not issued again (%s, then %s)", failed_incident,
	   ok_rec.incident);
}

static void test_escalation_release_expiry(pid_t v)
{
	struct release_sel sel = { .pid = v };
	struct ias_block_rec rec, r2;
	char msg[256];

	fake_reset();
	add_qp(v, 0x41, 10);
	is_int(report(v, NULL, &rec, msg, sizeof(msg)), 0, "blocked");
	is_int(engine_release(&S, &sel, true, "test", NULL, NULL), 1, "a dry-run release");
	is_int(fake_orders("resume"), 0, "a dry-run release changes nothing");
	is_int(engine_release(&S, &sel, false, "test", NULL, NULL), 1, "released");
	is_int(fake_orders("resume"), 1, "the QP resumed");
	ok(!engine_blocked(&S, v), "no longer blocked");
	is_int(engine_release(&S, &sel, false, "test", NULL, NULL), -ENOENT, "nothing left to release");
	sel.pid = 0;
	sel.block_id = rec.id;
	is_int(engine_release(&S, &sel, false, "test", NULL, NULL), -EALREADY, "a released block id");
	is_int(report(v, NULL, &r2, msg, sizeof(msg)), 0, "blocked again");
	ok(r2.offence > rec.offence, "a repeat offence (%u after %u)", r2.offence, rec.offence);
	ok(r2.until_ms - r2.created_ms == 2 * (rec.until_ms - rec.created_ms),
	   "the duration escalates x2");
	ok(ias_store_block_set_until(S.store, r2.id, 1) == 0, "its end moved into the past");
	engine_expire_due(&S);
	ok(ias_store_block_get(S.store, r2.id, &r2) == 0 && r2.released_ms != 0, "expired");
	ok(strncmp(r2.release_note, "expired", 7) == 0, "note: %s", r2.release_note);
	ok(!engine_blocked(&S, v), "no longer blocked after expiry");
}

static void test_pid_reuse(pid_t v)
{
	struct ias_block_rec rec;
	struct qpt_entry *q;
	char note[256];

	fake_reset();
	add_qp(v, 0x51, 11);
	/* A block of an earlier process that had v's PID. */
	memset(&rec, 0, sizeof(rec));
	rec.id = 999;
	rec.pid = v;
	rec.pid_start = start_of(v) + 12345;
	rec.mech = IAS_MECH_PAUSE | IAS_MECH_FREEZE;
	rec.qp_orders = 1;
	blocked_add(&S, v, rec.pid_start, "I-000001-1");
	ok(!engine_blocked(&S, v), "a reused PID is not 'already blocked'");
	ok(!engine_blocked_in(&S, v, "I-000001-1"), "nor part of the earlier incident");
	q = qpt_find(&S.qps, "dev0", 0x51);
	engine_qp_appeared(&S, q);
	ok(!q->blocked && fake.norders == 0, "its QP is not paused on sight");
	block_undo(&S, &rec, false, note, sizeof(note));
	is_int(fake.norders, 0, "release sends no resume to the new process");
	ok(strstr(note, "gone") != NULL, "note: %s", note);
	rec.pid_start = start_of(v);
	ok(block_same_process(&rec), "with the right start time it is the same process");
	rec.pid_start = 0;
	ok(block_same_process(&rec), "an unknown start time (older store) falls back to the PID");
	blocked_del(&S, v, 0);

	/* The same through the store: a recorded block of an earlier process. */
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.origin, sizeof(rec.origin), "manual");
	rec.pid = v;
	rec.pid_start = start_of(v) + 777;
	rec.mech = IAS_MECH_PAUSE;
	rec.qp_orders = 1;
	rec.created_ms = 1;
	rec.offence = 1;
	snprintf(rec.incident, sizeof(rec.incident), "I-000002-1");
	ok(ias_store_block_add(S.store, &rec) == 0, "a block of an earlier process with this PID");
	blocked_reset(&S);
	is_int(engine_restore(&S), 0, "restore");
	ok(!engine_blocked(&S, v), "restore does not take the new process for the blocked one");
	{
		struct release_sel sel = { .block_id = rec.id };
		struct ias_block_rec got;

		fake_reset();
		is_int(engine_release(&S, &sel, false, "test", NULL, NULL), 1, "release of that block");
		is_int(fake.norders, 0, "sends no resume to the new process");
		ok(ias_store_block_get(S.store, rec.id, &got) == 0 && strstr(got.release_note, "gone"),
		   "note: %s", got.release_note);
	}
	is_int(engine_restore(&S), 0, "restore again");
}

static void test_restore(pid_t v)
{
	struct ias_block_rec rec;
	char msg[256];

	fake_reset();
	add_qp(v, 0x61, 12);
	is_int(report(v, NULL, &rec, msg, sizeof(msg)), 0, "blocked");
	blocked_reset(&S);
	ok(!engine_blocked(&S, v), "memory lost (a restart)");
	is_int(engine_restore(&S), 0, "restore");
	ok(engine_blocked(&S, v) && engine_blocked_in(&S, v, rec.incident),
	   "the block is back, in its incident");
}

int main(void)
{
	char dir[64];
	pid_t v[8];
	unsigned i;

	if (fake_sema_open(&S, dir, sizeof(dir)) < 0) {
		tap_skip_all("no store");
		return 0;
	}
	for (i = 0; i < 8; i++)
		v[i] = fake_victim();
	test_report_order(v[0]);
	test_duplicates(v[0]);
	test_dry_run(v[1]);
	test_never_block(v[2]);
	test_commit_failure(v[3]);
	test_escalation_release_expiry(v[4]);
	test_pid_reuse(v[5]);
	test_restore(v[6]);
	fake_reset();
	for (i = 0; i < 8; i++)
		fake_victim_end(v[i]);
	fake_sema_close(&S, dir);
	return tap_done();
}
