/* bench_psnwatch: time from a command (a ReportAttack) to the last send-PSN
 * change of the RC QPs of some processes, read from the kernel over rdma
 * netlink (one QP dump per poll).
 *
 *   bench_psnwatch [-q QUIET_MS] [-t MAX_MS] [-i POLL_US] [-n MINQ] -r RPID PID...
 *
 * 1. Polls until the PIDs own at least MINQ (default 1) RC QPs and every one
 *    of them has moved its send PSN (at most MAX_MS): traffic must flow
 *    before anything is measured.
 * 2. Notes t0 and reports RPID to the agent ($IAS_SOCKET) through libias
 *    (ias_report_attack_reason) from a second thread, while this one keeps
 *    polling every POLL_US (default 1000) until no watched PSN has changed
 *    for QUIET_MS (default 1000) or MAX_MS (default 20000) passed.
 * Prints, one "key value" per line: "qps N", "moving N", then per QP
 * "qp DEV LQPN PID LAST_MS", and "stop MS" (the latest last change over all
 * QPs, relative to t0: the poll at which the final value was first seen),
 * "report MS RESULT" (the report call's own time and result), "poll MS"
 * (median interval between two polls: the resolution), "timeout 0|1".
 * Exit status 0, or 1 on error.
 * Not part of the test suite. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "sema/rdmanl.h"
#include "verbs_ext/ias.h"

#define MAXQ 64
#define MAXPID 16
#define MAXPOLL 200000

struct wq {
	char dev[64];
	uint32_t lqpn, pid, psn;
	int moved, seen;
	double last;
};

static struct wq q[MAXQ];
static int nq;
static uint32_t pids[MAXPID];
static int npid;
static double now_ms_cur;

struct rep {
	pid_t pid;
	int result;
	double t0, ms;
	volatile int done;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int watched(uint32_t pid)
{
	int i;

	for (i = 0; i < npid; i++)
		if (pids[i] == pid)
			return 1;
	return 0;
}

/* arg != NULL: collect the QP list; else update PSNs. */
static int on_qp(const struct ias_kqp *k, void *arg)
{
	int i;

	if (k->type != 2 || !k->has_pid || !watched(k->pid))
		return 0;
	for (i = 0; i < nq; i++)
		if (q[i].lqpn == k->lqpn && strcmp(q[i].dev, k->dev_name) == 0)
			break;
	if (i == nq) {
		if (!arg || nq == MAXQ)
			return 0;
		snprintf(q[nq].dev, sizeof(q[nq].dev), "%s", k->dev_name);
		q[nq].lqpn = k->lqpn;
		q[nq].pid = k->pid;
		q[nq].psn = k->sq_psn;
		q[nq].last = now_ms_cur;
		nq++;
		return 0;
	}
	q[i].seen = 1;
	if (q[i].psn != k->sq_psn) {
		q[i].psn = k->sq_psn;
		q[i].moved = 1;
		q[i].last = now_ms_cur;
	}
	return 0;
}

static void *report_thread(void *arg)
{
	struct rep *r = arg;

	r->result = ias_report_attack_reason(r->pid, "benchmark");
	r->ms = now_ms() - r->t0;
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int poll_once(int collect)
{
	int r;

	now_ms_cur = now_ms();
	r = ias_rdmanl_dump_qps(on_qp, collect ? (void *)1 : NULL);
	if (r < 0)
		fprintf(stderr, "bench_psnwatch: dump: %s\n", strerror(-r));
	return r;
}

int main(int argc, char **argv)
{
	double quiet = 1000, maxms = 20000, t0, tend, last, stop = 0;
	double *iv = NULL, prev;
	long poll_us = 1000;
	int c, i, minq = 1, moving = 0, npoll = 0, timed_out = 0, ret = 1;
	struct rep rep = { .pid = 0 };
	pthread_t th;

	while ((c = getopt(argc, argv, "q:t:i:n:r:")) != -1) {
		switch (c) {
		case 'q': quiet = atof(optarg); break;
		case 't': maxms = atof(optarg); break;
		case 'i': poll_us = atol(optarg); break;
		case 'n': minq = atoi(optarg); break;
		case 'r': rep.pid = (pid_t)atoi(optarg); break;
		default: goto usage;
		}
	}
	for (; optind < argc; optind++)
		if (npid < MAXPID)
			pids[npid++] = (uint32_t)strtoul(argv[optind], NULL, 10);
	if (npid == 0 || rep.pid <= 0)
		goto usage;
	iv = calloc(MAXPOLL, sizeof(*iv));
	if (!iv)
		return 1;
	/* 1. The QPs exist and every PSN moves. */
	tend = now_ms() + maxms;
	while (now_ms() < tend) {
		if (poll_once(1) < 0)
			goto out;
		for (moving = 0, i = 0; i < nq; i++)
			moving += q[i].moved;
		if (nq >= minq && moving == nq)
			break;
		usleep((useconds_t)poll_us);
	}
	printf("qps %d\nmoving %d\n", nq, moving);
	if (nq < minq || moving != nq)
		goto out;
	/* 2. The report, and the polls until all is quiet. */
	fflush(stdout);
	t0 = rep.t0 = now_ms();
	for (i = 0; i < nq; i++)
		q[i].last = t0;
	if (pthread_create(&th, NULL, report_thread, &rep) != 0)
		goto out;
	tend = t0 + maxms;
	prev = t0;
	for (;;) {
		usleep((useconds_t)poll_us);
		if (poll_once(0) < 0)
			break;
		if (npoll < MAXPOLL)
			iv[npoll++] = now_ms_cur - prev;
		prev = now_ms_cur;
		for (last = t0, i = 0; i < nq; i++)
			if (q[i].last > last)
				last = q[i].last;
		if (now_ms_cur - last >= quiet && __atomic_load_n(&rep.done, __ATOMIC_ACQUIRE))
			break;
		if (now_ms_cur >= tend) {
			timed_out = 1;
			break;
		}
	}
	pthread_join(th, NULL);
	for (i = 0; i < nq; i++) {
		printf("qp %s %u %u %.1f\n", q[i].dev, q[i].lqpn, q[i].pid, q[i].last - t0);
		if (q[i].last - t0 > stop)
			stop = q[i].last - t0;
	}
	qsort(iv, (size_t)npoll, sizeof(*iv), cmpd);
	printf("stop %.1f\nreport %.1f %d\npoll %.2f\ntimeout %d\n", stop, rep.ms, rep.result,
	       npoll ? iv[npoll / 2] : 0.0, timed_out);
	ret = 0;
out:
	free(iv);
	return ret;
usage:
	fprintf(stderr, "usage: %s [-q QUIET_MS] [-t MAX_MS] [-i POLL_US] [-n MINQ] -r RPID PID...\n",
		argv[0]);
	return 1;
}
