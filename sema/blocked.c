/* The in-memory set of blocked processes, for the trace fast path and QPs
 * that appear: "is the owner already blocked, and in this incident?" is
 * answered without the store. A process is named by its PID and start time,
 * so a process that merely reuses a blocked PID is not "blocked". Filled at
 * restore, added to when a block is enforced (and removed again if its unit
 * of work fails), removed from at release. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sema/engine_int.h"

struct blocked_proc {
	pid_t pid;
	uint64_t start;		/* 0: unknown (a block from an older store) */
	char (*inc)[32];	/* the incidents it is part of */
	size_t ninc, capinc;
};

struct sema_blocked {
	struct blocked_proc *v;
	size_t n, cap;
};

static uint64_t start_of(pid_t pid)
{
	struct proc_info pi;

	return proc_info_get(pid, &pi) == 0 ? pi.starttime : 0;
}

static struct blocked_proc *find(struct sema *s, pid_t pid, uint64_t start)
{
	struct sema_blocked *b = s->blocked;
	size_t i;

	for (i = 0; b && i < b->n; i++) {
		struct blocked_proc *p = &b->v[i];

		if (p->pid != pid)
			continue;
		if (!p->start)
			return proc_same(pid, 0) ? p : NULL;
		if (!start)
			start = start_of(pid);
		return p->start == start ? p : NULL;
	}
	return NULL;
}

static int join(struct blocked_proc *p, const char *incident)
{
	size_t i;

	if (!incident || !*incident)
		return 0;
	for (i = 0; i < p->ninc; i++)
		if (strcmp(p->inc[i], incident) == 0)
			return 0;
	if (p->ninc == p->capinc) {
		size_t cap = p->capinc ? p->capinc * 2 : 2;
		char (*nv)[32] = realloc(p->inc, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		p->inc = nv;
		p->capinc = cap;
	}
	snprintf(p->inc[p->ninc++], sizeof(p->inc[0]), "%s", incident);
	return 0;
}

int blocked_add(struct sema *s, pid_t pid, uint64_t start, const char *incident)
{
	struct sema_blocked *b = s->blocked;
	struct blocked_proc *p;
	size_t i;

	if (!b) {
		b = s->blocked = calloc(1, sizeof(*b));
		if (!b)
			return -ENOMEM;
	}
	for (i = 0; i < b->n; i++)
		if (b->v[i].pid == pid) {
			if (b->v[i].start != start) {
				/* A stale entry of an earlier process with this PID. */
				b->v[i].start = start;
				b->v[i].ninc = 0;
			}
			return join(&b->v[i], incident);
		}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct blocked_proc *nv = realloc(b->v, cap * sizeof(*nv));

		if (!nv) {
			log_err("out of memory: PID %d not remembered as blocked", (int)pid);
			return -ENOMEM;
		}
		b->v = nv;
		b->cap = cap;
	}
	p = &b->v[b->n++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->start = start;
	return join(p, incident);
}

void blocked_del(struct sema *s, pid_t pid, uint64_t start)
{
	struct sema_blocked *b = s->blocked;
	size_t i;

	for (i = 0; b && i < b->n; i++)
		if (b->v[i].pid == pid && (!start || !b->v[i].start || b->v[i].start == start)) {
			free(b->v[i].inc);
			b->v[i] = b->v[--b->n];
			return;
		}
}

int blocked_has(struct sema *s, pid_t pid, uint64_t start)
{
	return find(s, pid, start) != NULL;
}

int blocked_in_incident(struct sema *s, pid_t pid, uint64_t start, const char *incident)
{
	struct blocked_proc *p = find(s, pid, start);
	size_t i;

	for (i = 0; p && incident && i < p->ninc; i++)
		if (strcmp(p->inc[i], incident) == 0)
			return 1;
	return 0;
}

void blocked_reset(struct sema *s)
{
	struct sema_blocked *b = s->blocked;
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n; i++)
		free(b->v[i].inc);
	free(b->v);
	free(b);
	s->blocked = NULL;
}

int engine_blocked(struct sema *s, pid_t pid)
{
	return blocked_has(s, pid, 0);
}

int engine_blocked_in(struct sema *s, pid_t pid, const char *incident)
{
	return blocked_in_incident(s, pid, 0, incident);
}
