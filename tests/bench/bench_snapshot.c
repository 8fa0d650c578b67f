/* Benchmark: live snapshot time with N extra sleeping processes, against
 * "ps -e -o pid,ppid" on the same system. Five snapshots per round: full
 * (flags 0, what "ias-analyzer snapshot" takes), the columns the zone level
 * needs (no contexts) and those sibling/lca need (no zones, no contexts),
 * and the full and sibling/lca ones again in one thread
 * (IAS_SNAP_LIVE_SERIAL). Wall time and CPU time (user + system, all
 * threads) are medians; the load average is printed at the end, since the
 * wall times depend on it.
 *
 * Usage: bench_snapshot N [ROUNDS]   (N <= 20000)
 *
 * The N processes are forked children of one holder process in its own
 * process group; they only pause, die with the holder (PR_SET_PDEATHSIG)
 * and the whole group is killed at the end. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/snapshot.h"

static const struct {
	const char *name;
	unsigned flags;
} modes[] = {
	{ "full", 0 },
	{ "zone (no contexts)", IAS_SNAP_LIVE_NO_CONTEXT },
	{ "sibling/lca", IAS_SNAP_LIVE_NO_ZONE | IAS_SNAP_LIVE_NO_CONTEXT },
	{ "full, 1 thread", IAS_SNAP_LIVE_SERIAL },
	{ "sibling/lca, 1 thread",
	  IAS_SNAP_LIVE_NO_ZONE | IAS_SNAP_LIVE_NO_CONTEXT | IAS_SNAP_LIVE_SERIAL },
};
#define NMODES ((int)(sizeof(modes) / sizeof(modes[0])))

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec +
	       u.ru_stime.tv_usec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	int rounds = argc > 2 ? atoi(argv[2]) : 11, r, pfd[2], ret = 1;
	double *ts[NMODES] = { 0 }, *tc[NMODES] = { 0 }, *tp = NULL;
	int m;
	pid_t holder;
	size_t count = 0;
	char c;

	if (n < 0 || n > 20000 || rounds < 1) {
		fprintf(stderr, "usage: bench_snapshot N<=20000 [ROUNDS]\n");
		return 2;
	}
	if (pipe(pfd))
		return 1;
	holder = fork();
	if (holder == 0) {
		long i;

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (i = 0; i < n; i++) {
			pid_t k = fork();

			if (k == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				for (;;)
					pause();
			}
			if (k < 0)
				break;
		}
		c = i == n ? 'y' : 'n';
		if (write(pfd[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1 || c != 'y') {
		fprintf(stderr, "could not start %ld processes\n", n);
		goto out;
	}
	for (m = 0; m < NMODES; m++) {
		ts[m] = calloc((size_t)rounds, sizeof(double));
		tc[m] = calloc((size_t)rounds, sizeof(double));
		if (!ts[m] || !tc[m])
			goto out;
	}
	tp = calloc((size_t)rounds, sizeof(double));
	if (!tp)
		goto out;
	for (r = 0; r < rounds; r++) {
		double t0, c0;

		for (m = 0; m < NMODES; m++) {
			struct ias_snapshot *s = NULL;

			c0 = cpu_us();
			t0 = now_us();
			if (ias_snapshot_live(NULL, modes[m].flags, &s)) {
				fprintf(stderr, "snapshot failed\n");
				goto out;
			}
			ts[m][r] = now_us() - t0;
			tc[m][r] = cpu_us() - c0;
			count = ias_snapshot_count(s);
			ias_snapshot_free(s);
		}
		t0 = now_us();
		if (system("ps -e -o pid,ppid >/dev/null") != 0) {
			fprintf(stderr, "ps failed\n");
			goto out;
		}
		tp[r] = now_us() - t0;
	}
	{
		double mp = median(tp, rounds);

		printf("extra=%ld processes=%zu rounds=%d  ps -e -o pid,ppid %8.2f ms\n", n, count,
		       rounds, mp / 1e3);
		for (m = 0; m < NMODES; m++) {
			double ms = median(ts[m], rounds);

			printf("  snapshot %-22s %8.2f ms  ratio to ps %.2f  cpu %8.2f ms\n",
			       modes[m].name, ms / 1e3, ms / mp, median(tc[m], rounds) / 1e3);
		}
	}
	{
		FILE *f = fopen("/proc/loadavg", "r");
		char la[128];

		if (f && fgets(la, sizeof(la), f))
			printf("  load average after the run: %s", la);
		if (f)
			fclose(f);
	}
	ret = 0;
out:
	for (m = 0; m < NMODES; m++) {
		free(ts[m]);
		free(tc[m]);
	}
	free(tp);
	kill(-holder, SIGKILL);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	return ret;
}
