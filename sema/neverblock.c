/* The never-block list: PID 1, the agent itself, the configured lists
 * (executables, commands, users, systemd units) and the stored allow-list.
 * Verdicts are cached per process (PID and start time), keyed by the
 * allow-list generation and the configured lists, so that the trace fast
 * path answers from memory (one /proc/PID/stat read). */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>

#include "common/log.h"
#include "sema/engine_int.h"

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static int list_has(const struct ias_cfg_list *l, const char *v)
{
	unsigned i;

	if (!v || !*v)
		return 0;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->item[i], v) == 0)
			return 1;
	return 0;
}

struct allow_match {
	const struct proc_info *pi;
	const char *user;
	const char *unit;
	char *why;
	size_t whylen;
	int hit;
};

static int allow_cb(const struct ias_allow_rec *a, void *arg)
{
	struct allow_match *m = arg;
	char pidbuf[16];
	const char *have = NULL;

	if (strcmp(a->kind, "exe") == 0)
		have = m->pi->exe;
	else if (strcmp(a->kind, "comm") == 0)
		have = m->pi->comm;
	else if (strcmp(a->kind, "user") == 0)
		have = m->user;
	else if (strcmp(a->kind, "unit") == 0)
		have = m->unit;
	else if (strcmp(a->kind, "pid") == 0) {
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)m->pi->pid);
		have = pidbuf;
	}
	if (have && *have && strcmp(have, a->value) == 0) {
		snprintf(m->why, m->whylen, "%s %s is on the allowlist (entry %lld)",
			 a->kind, a->value, (long long)a->id);
		m->hit = 1;
		return 1;
	}
	return 0;
}

/* The unit of pi that the never-block lists may count: systemd's answer
 * (sd_pid_get_unit), where systemd runs, else the cgroup path; either way
 * only a component of the path's root-owned part (enforce_own.c): a cgroup
 * named sshd.service that a user made in a delegated subtree is not a unit
 * of the system. */
static void trusted_unit(const struct sema *s, const struct proc_info *pi, char *out, size_t len)
{
	char *sd = NULL;

	out[0] = '\0';
	if (sd_booted() > 0 && sd_pid_get_unit(pi->pid, &sd) < 0)
		sd = NULL;
	if (sd_booted() > 0 && !sd)
		return;		/* systemd does not know it: no unit */
	if (eproc_trusted_unit(s->cfg.cgroup_root, pi->cgroup, sd, out, len) < 0)
		out[0] = '\0';
	free(sd);
}

int never_block_pi(struct sema *s, const struct proc_info *pi, char *why, size_t whylen)
{
	struct allow_match m = { .pi = pi, .why = why, .whylen = whylen };
	char user[64] = "", unit[256] = "";
	struct passwd pw, *pwp = NULL;
	char pwbuf[1024];

	if (pi->pid == 1) {
		snprintf(why, whylen, "PID 1 (init) is never blocked");
		return 1;
	}
	if (pi->pid == getpid()) {
		snprintf(why, whylen, "PID %d is this agent", (int)pi->pid);
		return 1;
	}
	if (getpwuid_r(pi->uid, &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 && pwp)
		copy(user, sizeof(user), pw.pw_name);
	trusted_unit(s, pi, unit, sizeof(unit));
	if (list_has(&s->cfg.never_block_exe, pi->exe)) {
		snprintf(why, whylen, "executable %s is on the never-block list", pi->exe);
		return 1;
	}
	if (list_has(&s->cfg.never_block_comm, pi->comm)) {
		snprintf(why, whylen, "command %s is on the never-block list", pi->comm);
		return 1;
	}
	if (list_has(&s->cfg.never_block_user, user)) {
		snprintf(why, whylen, "user %s is on the never-block list", user);
		return 1;
	}
	if (list_has(&s->cfg.never_block_unit, unit)) {
		snprintf(why, whylen, "unit %s is on the never-block list", unit);
		return 1;
	}
	m.user = user;
	m.unit = unit;
	/* The walk returns the callback's non-zero stop value on a hit. */
	if (ias_store_allow_foreach(s->store, allow_cb, &m) < 0)
		log_warn("allowlist not readable: %s", ias_store_errmsg(s->store));
	return m.hit;
}

#define NBCACHE 256
static struct nb_entry {
	pid_t pid;
	uint64_t starttime;
	uint64_t allow_gen;
	uint64_t cfg_hash;
	int verdict;
	int statfd;		/* its /proc/PID/stat + 1; 0: none */
	char why[160];
} nbcache[NBCACHE];


static uint64_t hash_list(uint64_t h, const struct ias_cfg_list *l)
{
	unsigned i;
	const char *p;

	for (i = 0; i < l->n; i++) {
		for (p = l->item[i]; *p; p++)
			h = (h ^ (uint8_t)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return (h ^ 0xfe) * 1099511628211ull;
}

static uint64_t never_block_cfg_hash(const struct sema *s)
{
	uint64_t h = 14695981039346656037ull;

	h = hash_list(h, &s->cfg.never_block_exe);
	h = hash_list(h, &s->cfg.never_block_comm);
	h = hash_list(h, &s->cfg.never_block_user);
	return hash_list(h, &s->cfg.never_block_unit);
}

/* The cached verdict still holds: same process (checked through the
 * descriptor bound to it: one pread), same allow-list and configuration. */
static bool nb_valid(struct sema *s, const struct nb_entry *e, pid_t pid)
{
	return pid > 0 && e->pid == pid && e->statfd > 0 &&
	       e->allow_gen == ias_store_allow_gen(s->store) &&
	       e->cfg_hash == never_block_cfg_hash(s) &&
	       proc_stat_same(e->statfd - 1, e->starttime);
}

/* Computes and caches the verdict for pi. */
static int nb_fill(struct sema *s, const struct proc_info *pi, char *why, size_t whylen)
{
	struct nb_entry *e = &nbcache[(unsigned)pi->pid % NBCACHE];
	uint64_t gen = ias_store_allow_gen(s->store), h = never_block_cfg_hash(s);

	int fd;

	e->pid = 0;
	e->why[0] = '\0';
	if (e->statfd > 0)
		close(e->statfd - 1);
	fd = proc_stat_open(pi->pid);
	e->statfd = fd >= 0 ? fd + 1 : 0;
	e->verdict = never_block_pi(s, pi, e->why, sizeof(e->why));
	e->pid = pi->pid;
	e->starttime = pi->starttime;
	e->allow_gen = gen;
	e->cfg_hash = h;
	if (why && whylen)
		snprintf(why, whylen, "%s", e->why);
	return e->verdict;
}

void engine_never_block_prime(struct sema *s, pid_t pid)
{
	struct nb_entry *e = &nbcache[(unsigned)pid % NBCACHE];
	struct proc_info pi;

	if (pid <= 0 || nb_valid(s, e, pid))
		return;
	if (proc_info_get(pid, &pi) == 0)
		nb_fill(s, &pi, NULL, 0);
}

int engine_never_block(struct sema *s, pid_t pid, char *why, size_t whylen)
{
	struct nb_entry *e = &nbcache[(unsigned)pid % NBCACHE];
	struct proc_info pi;

	if (nb_valid(s, e, pid)) {
		snprintf(why, whylen, "%s", e->why);
		return e->verdict;
	}
	if (proc_info_get(pid, &pi))
		return 0;
	return nb_fill(s, &pi, why, whylen);
}
