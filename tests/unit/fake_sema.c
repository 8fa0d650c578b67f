/* See fake_sema.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sema/engine.h"
#include "sema/store.h"
#include "tests/unit/fake_sema.h"

struct fake_fx fake = { .ready = -1 };
struct fake_mad_req fake_mad_reqs[FAKE_MAX];
unsigned fake_mad_nreqs;

static int f_order(void *ctx, uint64_t client_id, uint32_t qpn, const char *device,
		   const char *action)
{
	(void)ctx;
	(void)device;
	if (fake.norders < FAKE_MAX) {
		fake.orders[fake.norders].client_id = client_id;
		fake.orders[fake.norders].qpn = qpn;
		snprintf(fake.orders[fake.norders].action, sizeof(fake.orders[0].action), "%s", action);
		fake.norders++;
	}
	return 0;
}

static void f_alert(void *ctx, const struct ias_alert_rec *a, const char *node, const char *origin)
{
	(void)ctx;
	(void)node;
	(void)origin;
	fake.alerts++;
	snprintf(fake.last_alert_incident, sizeof(fake.last_alert_incident), "%s", a->incident);
}

static unsigned f_traces(void *ctx, const char *incident, pid_t pid, uint8_t hop,
			 uint32_t except_qpn, unsigned flags)
{
	(void)ctx;
	(void)except_qpn;
	if (fake.ntraces < FAKE_MAX) {
		struct fake_trace *t = &fake.traces[fake.ntraces++];

		snprintf(t->incident, sizeof(t->incident), "%s", incident);
		t->pid = pid;
		t->hop = hop;
		t->flags = flags;
	}
	return 1;
}

static void f_kick(void *ctx)
{
	(void)ctx;
	fake.kicks++;
}

static void f_ready(void *ctx, bool ready, const char *why)
{
	(void)ctx;
	(void)why;
	fake.ready = ready;
	fake.readiness_calls++;
}

const struct sema_effects fake_effects = {
	.send_order = f_order,
	.broadcast_alert = f_alert,
	.send_traces = f_traces,
	.kick_outbox = f_kick,
	.readiness = f_ready,
};

void fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.ready = -1;
	fake_mad_nreqs = 0;
}

unsigned fake_orders(const char *action)
{
	unsigned i, n = 0;

	for (i = 0; i < fake.norders; i++)
		n += strcmp(fake.orders[i].action, action) == 0;
	return n;
}

int fake_sema_open(struct sema *s, char *dir, size_t dirlen)
{
	char err[256];

	snprintf(dir, dirlen, "/tmp/ias-test-core-XXXXXX");
	if (!mkdtemp(dir))
		return -errno;
	memset(s, 0, sizeof(*s));
	snprintf(s->cfg.node_name, sizeof(s->cfg.node_name), "node-test");
	snprintf(s->cfg.cgroup_root, sizeof(s->cfg.cgroup_root), "%s/no-cgroup", dir);
	s->cfg.offence_window = 3600 * 1000;
	s->cfg.mad_retries = 1;
	s->policy.version = 1;
	s->policy.block_mode = IAS_MODE_PAUSE;
	s->policy.base_duration_ms = 60 * 1000;
	s->policy.max_duration_ms = 3600 * 1000;
	s->policy.escalation = 2;
	s->policy.hop_limit = 4;
	s->policy.fanout_limit = 8;
	s->fx = &fake_effects;
	s->control_gid = (gid_t)-1;
	qpt_init(&s->qps);
	if (ias_store_open(dir, &s->store, err, sizeof(err)) < 0) {
		fprintf(stderr, "store: %s\n", err);
		return -EIO;
	}
	return 0;
}

void fake_sema_close(struct sema *s, const char *dir)
{
	char cmd[512];

	ias_store_close(s->store);
	engine_free(s);
	qpt_free(&s->qps);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

pid_t fake_victim(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

void fake_victim_end(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
