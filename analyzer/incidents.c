/* Per-incident bookkeeping and exclusions of the analyzer daemon. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/incidents.h"

bool az_pidset_has(const struct az_pidset *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == pid)
			return true;
	return false;
}

int az_pidset_add(struct az_pidset *s, pid_t pid)
{
	if (az_pidset_has(s, pid))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		pid_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = pid;
	return 1;
}

static void inc_free(struct az_incident *inc)
{
	if (!inc)
		return;
	free(inc->seeds.v);
	free(inc->ours.v);
	free(inc);
}

struct az_incident *az_inc_find(struct az_incidents *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i]->id, id) == 0)
			return t->v[i];
	return NULL;
}

struct az_incident *az_inc_get(struct az_incidents *t, const char *id, uint64_t now_ms,
			       bool *created)
{
	struct az_incident *inc = az_inc_find(t, id);
	size_t len = strlen(id);

	if (created)
		*created = false;
	if (inc)
		return inc;
	if (len == 0 || len > AZ_INCIDENT_ID_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct az_incident **v = realloc(t->v, cap * sizeof(*v));

		if (!v) {
			errno = ENOMEM;
			return NULL;
		}
		t->v = v;
		t->cap = cap;
	}
	inc = calloc(1, sizeof(*inc));
	if (!inc) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(inc->id, id, len + 1);
	inc->last_ms = now_ms;
	t->v[t->n++] = inc;
	if (created)
		*created = true;
	return inc;
}

int az_inc_alert(struct az_incident *inc, pid_t pid, bool by_analyzer, uint64_t now_ms)
{
	int r;

	if (pid <= 0)
		return -EINVAL;
	inc->last_ms = now_ms;
	if (az_pidset_has(&inc->ours, pid) || az_pidset_has(&inc->seeds, pid))
		return 0;
	if (by_analyzer) {
		r = az_pidset_add(&inc->ours, pid);
		return r < 0 ? r : 0;
	}
	r = az_pidset_add(&inc->seeds, pid);
	if (r < 0)
		return r;
	inc->dirty = true;
	if (inc->reported_any)
		inc->rereported = true;
	return 1;
}

int az_inc_mark_ours(struct az_incident *inc, pid_t pid, uint64_t now_ms)
{
	int r = az_pidset_add(&inc->ours, pid);

	if (r < 0)
		return r;
	inc->last_ms = now_ms;
	inc->reported_any = true;
	return 0;
}

bool az_inc_is_new(const struct az_incident *inc, pid_t pid)
{
	return !az_pidset_has(&inc->seeds, pid) && !az_pidset_has(&inc->ours, pid);
}

size_t az_inc_forget(struct az_incidents *t, uint64_t cutoff_ms, size_t max)
{
	size_t i, j, dropped = 0;

	for (i = j = 0; i < t->n; i++) {
		if (t->v[i]->last_ms < cutoff_ms) {
			inc_free(t->v[i]);
			dropped++;
		} else {
			t->v[j++] = t->v[i];
		}
	}
	t->n = j;
	while (t->n > max) {
		size_t old = 0;

		for (i = 1; i < t->n; i++)
			if (t->v[i]->last_ms < t->v[old]->last_ms)
				old = i;
		inc_free(t->v[old]);
		memmove(&t->v[old], &t->v[old + 1], (t->n - old - 1) * sizeof(t->v[0]));
		t->n--;
		dropped++;
	}
	return dropped;
}

void az_incidents_free(struct az_incidents *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		inc_free(t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static bool exe_listed(const char *exe, const char *const *exes, size_t nexes)
{
	static const char deleted[] = " (deleted)";
	size_t i, len = strlen(exe), dl = sizeof(deleted) - 1;

	if (len > dl && strcmp(exe + len - dl, deleted) == 0)
		len -= dl;
	for (i = 0; i < nexes; i++)
		if (strlen(exes[i]) == len && memcmp(exes[i], exe, len) == 0)
			return true;
	return false;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int az_exclusions(const struct ias_snapshot *s, pid_t self_pid, const pid_t *pids, size_t npids,
		  const char *const *exes, size_t nexes, pid_t **out, size_t *nout)
{
	struct az_pidset set = { 0 };
	struct ias_proc p;
	size_t i, n = ias_snapshot_count(s), hops;
	long x;
	int r;

	*out = NULL;
	*nout = 0;
	if ((r = az_pidset_add(&set, 1)) < 0)
		goto fail;
	for (i = 0; i < npids; i++)
		if (pids[i] > 0 && (r = az_pidset_add(&set, pids[i])) < 0)
			goto fail;
	/* The ancestors of self; bounded in case of a malformed chain. */
	x = self_pid > 0 ? ias_snapshot_index(s, self_pid) : -1;
	for (hops = 0; x >= 0 && hops < n; hops++) {
		if (ias_snapshot_get(s, (size_t)x, &p) || p.ppid <= 0)
			break;
		if ((r = az_pidset_add(&set, p.ppid)) < 0)
			goto fail;
		x = ias_snapshot_index(s, p.ppid);
	}
	if (nexes) {
		for (i = 0; i < n; i++) {
			if (ias_snapshot_get(s, i, &p))
				break;
			if (exe_listed(p.exe, exes, nexes) && (r = az_pidset_add(&set, p.pid)) < 0)
				goto fail;
		}
	}
	if (set.n > 1)
		qsort(set.v, set.n, sizeof(set.v[0]), cmp_pid);
	*out = set.v;
	*nout = set.n;
	return 0;
fail:
	free(set.v);
	return r;
}

void az_reason_copy(char *dst, size_t cap, const char *src)
{
	size_t i;

	if (!cap)
		return;
	for (i = 0; i + 1 < cap && src[i]; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[i] = '\0';
}
