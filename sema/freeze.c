/* The freeze is confirmed asynchronously: after eproc_freeze_begin the block
 * cgroup's cgroup.events is watched (inotify through the reactor, or a short
 * timer when inotify cannot be used) and the "enforced" incident event, with
 * its time in µs, is recorded when eproc_freeze_state says frozen. A freeze
 * not confirmed within SEMA_FREEZE_CONFIRM_MS escalates to SIGSTOP (the
 * same process only) and is logged. Nothing here sleeps. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <systemd/sd-event.h>

#include "common/log.h"
#include "sema/engine_int.h"
#include "sema/psnwatch.h"

#define SEMA_FREEZE_CONFIRM_MS 1000
#define SEMA_FREEZE_POLL_MS 2

struct freeze_watch {
	struct sema *s;
	struct freeze_watch *next;
	struct eproc_block b;
	struct plan plan;
	sd_event_source *ino, *timer;
	int64_t begun_us;
	int polling;		/* no inotify: the timer polls */
};

void freeze_record_enforced(struct sema *s, const struct plan *p, const char *how)
{
	struct ias_incident_event ev;

	if (!p->incident[0])
		return;
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.incident, sizeof(ev.incident), "%s", p->incident);
	ev.ts_us = sema_now_us();
	ev.ts_ms = ev.ts_us / 1000;
	snprintf(ev.node, sizeof(ev.node), "%s", s->cfg.node_name);
	ev.pid = p->pid;
	snprintf(ev.kind, sizeof(ev.kind), "enforced");
	snprintf(ev.text, sizeof(ev.text), "block %lld of %d in force%s%s",
		 (long long)p->block_id, (int)p->pid, how ? ": " : "", how ? how : "");
	if (ias_store_incident_event_add(s->store, &ev) < 0)
		log_err("incident %s: event not recorded: %s", p->incident,
			ias_store_errmsg(s->store));
}

static void watch_free(struct freeze_watch *w)
{
	struct freeze_watch **pp;

	for (pp = &w->s->freezes; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	sd_event_source_disable_unref(w->ino);
	sd_event_source_disable_unref(w->timer);
	free(w);
}

/* 1 when the watch is done (and freed). */
static int check(struct freeze_watch *w, bool deadline)
{
	struct sema *s = w->s;
	struct eproc_cfg c;
	struct ias_proc_undo u;
	int st;

	block_eproc_cfg(s, &c);
	st = eproc_freeze_state(&c, &w->b);
	if (st == 1) {
		log_info("block %lld: PID %d frozen after %lld us", (long long)w->plan.block_id,
			 (int)w->plan.pid, (long long)(sema_now_us() - w->begun_us));
		freeze_record_enforced(s, &w->plan, NULL);
		watch_free(w);
		return 1;
	}
	if (st < 0) {		/* released meanwhile, or the cgroup is gone */
		watch_free(w);
		return 1;
	}
	if (!deadline)
		return 0;
	if (w->plan.pid_start && !proc_same(w->plan.pid, w->plan.pid_start)) {
		log_warn("block %lld: freeze not confirmed and PID %d is gone", (long long)w->plan.block_id,
			 (int)w->plan.pid);
	} else if (kill(w->plan.pid, SIGSTOP) == 0) {
		w->b.did |= EPROC_SIGSTOP;
		block_undo_from_eproc(&w->b, w->plan.block_id, w->plan.pid_start, &u);
		if (ias_store_proc_undo_set(s->store, &u) < 0)
			log_err("block %lld: SIGSTOP not recorded: %s", (long long)w->plan.block_id,
				ias_store_errmsg(s->store));
		log_warn("block %lld: freeze of PID %d not confirmed within %d ms: SIGSTOP sent",
			 (long long)w->plan.block_id, (int)w->plan.pid, SEMA_FREEZE_CONFIRM_MS);
		freeze_record_enforced(s, &w->plan, "freeze not confirmed in time, SIGSTOP sent");
	} else {
		log_err("block %lld: freeze of PID %d not confirmed and SIGSTOP failed: %s",
			(long long)w->plan.block_id, (int)w->plan.pid, strerror(errno));
	}
	watch_free(w);
	return 1;
}

static int on_events(sd_event_source *src, const struct inotify_event *ev, void *arg)
{
	(void)src;
	(void)ev;
	check(arg, false);
	return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	struct freeze_watch *w = arg;
	bool deadline = sema_now_us() - w->begun_us >= SEMA_FREEZE_CONFIRM_MS * 1000;

	(void)usec;
	if (check(w, deadline))
		return 0;
	sd_event_source_set_time_relative(src, (w->polling ? SEMA_FREEZE_POLL_MS :
						SEMA_FREEZE_CONFIRM_MS) * 1000);
	return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

void freeze_watch_start(struct sema *s, const struct plan *p, const struct eproc_block *b)
{
	struct freeze_watch *w;
	struct eproc_cfg c;
	char path[600];
	int st;

	block_eproc_cfg(s, &c);
	st = eproc_freeze_state(&c, b);
	if (st == 1) {
		freeze_record_enforced(s, p, NULL);
		return;
	}
	if (st < 0 || !s->ev) {
		if (st == 0)
			log_warn("block %lld: freeze requested, no reactor to confirm it",
				 (long long)p->block_id);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		log_err("block %lld: out of memory, freeze not confirmed", (long long)p->block_id);
		return;
	}
	w->s = s;
	w->b = *b;
	w->plan = *p;
	w->begun_us = sema_now_us();
	if (eproc_events_path(&c, b, path, sizeof(path)) < 0 ||
	    sd_event_add_inotify(s->ev, &w->ino, path, IN_MODIFY, on_events, w) < 0)
		w->polling = 1;
	if (sd_event_add_time_relative(s->ev, &w->timer, CLOCK_MONOTONIC,
				       (w->polling ? SEMA_FREEZE_POLL_MS : SEMA_FREEZE_CONFIRM_MS) * 1000,
				       0, on_timer, w) < 0) {
		log_err("block %lld: no timer, freeze not confirmed", (long long)p->block_id);
		sd_event_source_disable_unref(w->ino);
		free(w);
		return;
	}
	w->next = s->freezes;
	s->freezes = w;
	/* The kernel may have finished between the first look and the watch. */
	check(w, false);
}

void freeze_watch_stop_all(struct sema *s)
{
	while (s->freezes)
		watch_free(s->freezes);
	psnwatch_stop_all(s);	/* the other watch of a block, on the same path */
}
