/* sema/psnwatch: after a per-QP pause the agent reads the paused QPs' send
 * PSNs from the kernel and escalates to a freeze when they keep moving past
 * the grace period. Against the engine's fakes (a real store in a temporary
 * directory, a real child process as the suspect) and a stand-in for the
 * rdma netlink QP dump that reports the PSNs the test sets. The freeze is
 * the SIGSTOP fallback here (the fake's cgroup root does not exist); the
 * cgroup freeze of a real process is covered by the kernel bed
 * (tests/kernel/test_undo_pause.sh). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "sema/engine.h"
#include "sema/engine_int.h"
#include "sema/psnwatch.h"
#include "sema/store.h"
#include "sema/uow.h"
#include "tests/unit/fake_sema.h"
#include "tests/unit/tap.h"

static struct sema S;

/* The kernel's QP table as the fake dump reports it. */
static struct ias_kqp kqps[4];
static unsigned nkqps;
static int dump_fail;

static int fake_dump(ias_kqp_cb cb, void *arg)
{
	unsigned i;
	int r;

	if (dump_fail)
		return dump_fail;
	for (i = 0; i < nkqps; i++) {
		r = cb(&kqps[i], arg);
		if (r)
			return r < 0 ? r : 0;
	}
	return 0;
}

static struct ias_kqp *kqp(unsigned i, pid_t pid, uint32_t lqpn, uint32_t psn)
{
	struct ias_kqp *k = &kqps[i];

	memset(k, 0, sizeof(*k));
	snprintf(k->dev_name, sizeof(k->dev_name), "dev0");
	k->lqpn = lqpn;
	k->type = 2;
	k->pid = (uint32_t)pid;
	k->has_pid = 1;
	k->sq_psn = psn;
	if (i >= nkqps)
		nkqps = i + 1;
	return k;
}

static void add_qp(pid_t pid, uint32_t qpn, uint64_t client)
{
	struct qpt_entry *q = qpt_upsert(&S.qps, "dev0", qpn);

	q->pid = pid;
	q->client_id = client;
	q->sources = QPT_SRC_LIBIAS;
}

static int report(pid_t pid, struct ias_block_rec *rec)
{
	struct report_req rq = { .pid = pid, .origin = "manual", .actor = "test" };
	struct sema_uow u;
	char msg[256];
	int r;

	if (uow_begin(&S, &u, msg, sizeof(msg)) < 0)
		return -EIO;
	r = engine_report(&S, &u, &rq, rec, msg, sizeof(msg));
	if (r < 0) {
		uow_abort(&u);
		return r;
	}
	return uow_commit(&u, msg, sizeof(msg)) < 0 ? -EIO : r;
}

struct evfind { const char *kind; unsigned n; char text[256]; };

static int ev_cb(const struct ias_incident_event *e, void *arg)
{
	struct evfind *f = arg;

	if (strcmp(e->kind, f->kind) == 0) {
		f->n++;
		snprintf(f->text, sizeof(f->text), "%s", e->text);
	}
	return 0;
}

static unsigned events(const char *incident, const char *kind, char *text, size_t len)
{
	struct evfind f = { kind, 0, "" };

	ias_store_incident_events_foreach(S.store, incident, ev_cb, &f);
	if (text)
		snprintf(text, len, "%s", f.text);
	return f.n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static char rel_note[512];

static void rel_cb(const struct ias_block_rec *rec, void *arg)
{
	(void)arg;
	snprintf(rel_note, sizeof(rel_note), "%s", rec->release_note);
}

int main(void)
{
	struct release_sel sel = { 0 };
	struct ias_block_rec rec, rec2;
	struct ias_proc_undo u;
	char dir[256], text[256];
	pid_t v, v2;
	int st;

	if (fake_sema_open(&S, dir, sizeof(dir)) < 0)
		tap_skip_all("no store");
	S.cfg.psn_watch_grace = 50;
	psnwatch_set_dump(fake_dump);

	/* A paused process whose libias keeps the pause: watched, not frozen. */
	v = fake_victim();
	add_qp(v, 0x11, 7);
	kqp(0, v, 0x11, 1000);
	kqp(1, 4242, 0x99, 5);		/* another process's QP */
	is_int(report(v, &rec), 0, "report: a pause block");
	is_int(fake_orders("pause"), 1, "the pause order went out");
	is_int((int)psnwatch_count(&S), 1, "the paused process is watched");
	kqps[0].sq_psn = 1010;
	is_int(psnwatch_tick(&S), 0, "within the grace period a moving PSN is posted work draining");
	sleep_ms(60);
	kqps[0].sq_psn = 1020;
	is_int(psnwatch_tick(&S), 0, "past the grace period: the baseline is read");
	kqps[1].sq_psn = 77;
	is_int(psnwatch_tick(&S), 0, "the PSN stays: nothing (another process's QP moving is not it)");
	kqps[0].sq_psn = 1013;
	is_int(psnwatch_tick(&S), 0, "a resend (the PSN rewound after an RNR NAK): nothing");
	kqps[0].sq_psn = 1020;
	is_int(psnwatch_tick(&S), 0, "...back up to the mark: nothing");
	is_int(events(rec.incident, "escalated", NULL, 0), 0, "no escalation");
	ok(waitpid(v, &st, WNOHANG | WUNTRACED) == 0, "the process runs");

	/* The PSN moves past the grace period: the pause was not kept. */
	kqps[0].sq_psn = 1021;
	is_int(psnwatch_tick(&S), 1, "a PSN that moves after the grace period escalates");
	is_int((int)psnwatch_count(&S), 0, "the watch ends with the escalation");
	ok(waitpid(v, &st, WUNTRACED) == v && WIFSTOPPED(st), "the process is frozen (SIGSTOP here)");
	is_int(events(rec.incident, "escalated", text, sizeof(text)), 1, "an 'escalated' event");
	ok(strstr(text, "dev0/0x11 went past 1020 to 1021") &&
	   strstr(text, "undid the pause or posted through a path libias does not gate"),
	   "it says why: %s", text);
	is_int(ias_store_proc_undo_get(S.store, rec.id, &u), 0, "the freeze's undo is recorded");
	ok(u.did & EPROC_SIGSTOP, "...SIGSTOP");
	is_int(psnwatch_tick(&S), 0, "no watch, nothing more");

	/* Release undoes the escalated freeze and the pause. */
	sel.block_id = rec.id;
	is_int(engine_release(&S, &sel, false, "test", rel_cb, NULL), 1, "release");
	ok(strstr(rel_note, "SIGCONT") && strstr(rel_note, "resumed"), "release note: %s", rel_note);
	ok(waitpid(v, &st, WCONTINUED) == v && WIFCONTINUED(st), "the process runs again");

	/* The marks wrap with the 24-bit PSN; a failed dump decides nothing. */
	fake_reset();
	v2 = fake_victim();
	add_qp(v2, 0x21, 8);
	kqp(2, v2, 0x21, 50);
	is_int(report(v2, &rec2), 0, "report: a second pause block");
	is_int((int)psnwatch_count(&S), 1, "watched");
	kqps[2].sq_psn = 0xfffffe;	/* drained up to just before the wrap */
	sleep_ms(60);
	is_int(psnwatch_tick(&S), 0, "past the grace period: the mark is 0xfffffe");
	kqps[2].sq_psn = 0xfffff0;
	is_int(psnwatch_tick(&S), 0, "a resend below the mark: nothing");
	dump_fail = -ENOENT;
	is_int(psnwatch_tick(&S), -ENOENT, "a dump that fails: nothing decided");
	is_int((int)psnwatch_count(&S), 1, "...the watch is kept");
	dump_fail = 0;
	kqps[2].sq_psn = 3;
	is_int(psnwatch_tick(&S), 1, "across the 24-bit wrap (0xfffffe to 3): new PSNs, escalated");
	ok(waitpid(v2, &st, WUNTRACED) == v2 && WIFSTOPPED(st), "frozen");
	sel.block_id = rec2.id;
	is_int(engine_release(&S, &sel, false, "test", rel_cb, NULL), 1, "release");
	ok(waitpid(v2, &st, WCONTINUED) == v2 && WIFCONTINUED(st), "runs again");

	/* A release before any escalation stops the watch. */
	kqps[2].sq_psn = 10;
	is_int(report(v2, &rec2), 0, "report: a third pause block");
	is_int((int)psnwatch_count(&S), 1, "watched");
	sel.block_id = rec2.id;
	is_int(engine_release(&S, &sel, false, "test", rel_cb, NULL), 1, "release");
	is_int((int)psnwatch_count(&S), 0, "release stops the watch");
	sleep_ms(60);
	kqps[2].sq_psn = 99;
	psnwatch_tick(&S);
	psnwatch_tick(&S);
	is_int(events(rec2.incident, "escalated", NULL, 0), 0, "a released process is not escalated");
	ok(waitpid(v2, &st, WNOHANG | WUNTRACED) == 0, "and runs");

	/* Freeze mode sends no orders and starts no watch. */
	S.policy.block_mode = IAS_MODE_FREEZE;
	is_int(report(v2, &rec2), 0, "report in freeze mode");
	is_int((int)psnwatch_count(&S), 0, "no PSN watch for a freeze");
	sel.block_id = rec2.id;
	engine_release(&S, &sel, false, "test", rel_cb, NULL);

	fake_victim_end(v);
	fake_victim_end(v2);
	psnwatch_set_dump(NULL);
	fake_sema_close(&S, dir);
	return tap_done();
}
