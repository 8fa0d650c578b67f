/* ReportAttack -> block committed, through a running agent's real control
 * socket and store, against the storage floor: one SQLite WAL transaction
 * with synchronous=FULL inserting one row (what a block must at least cost
 * to be durable). Prints percentiles of both and the ratio of medians.
 *
 *   bench_report N DBDIR     (IAS_SOCKET names the agent's socket)
 *
 * Spawns N sleeping children to report, releases them all afterwards, and
 * kills them. Not part of the test suite. */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "verbs_ext/ias.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, double p)
{
	int i = (int)(p * (n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

static void show(const char *name, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%-32s n=%d  p50 %8.1f us  p90 %8.1f us  p99 %8.1f us  max %8.1f us\n", name, n,
	       pct(v, n, 0.5), pct(v, n, 0.9), pct(v, n, 0.99), v[n - 1]);
}

struct floor {
	sqlite3 *db;
	sqlite3_stmt *st;
	char path[4096];
};

static int floor_open(struct floor *f, const char *dir)
{
	snprintf(f->path, sizeof(f->path), "%s/floor.db", dir);
	unlink(f->path);
	if (sqlite3_open(f->path, &f->db) != SQLITE_OK)
		return -1;
	sqlite3_exec(f->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		     "CREATE TABLE t (id INTEGER PRIMARY KEY, pid INTEGER, reason TEXT)",
		     NULL, NULL, NULL);
	return sqlite3_prepare_v2(f->db, "INSERT INTO t (pid, reason) VALUES (?1, 'bench')",
				  -1, &f->st, NULL) == SQLITE_OK ? 0 : -1;
}

/* One durable commit of one row: the least a recorded block costs. */
static double floor_once(struct floor *f, int i)
{
	double t0 = now_us();

	sqlite3_exec(f->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	sqlite3_bind_int(f->st, 1, i);
	sqlite3_step(f->st);
	sqlite3_reset(f->st);
	sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL);
	return now_us() - t0;
}

static void floor_close(struct floor *f)
{
	sqlite3_finalize(f->st);
	sqlite3_close(f->db);
	unlink(f->path);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200, i, r, failed = 0;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	double *rep = calloc((size_t)n, sizeof(double)), *flo = calloc((size_t)n, sizeof(double));
	pid_t *kids = calloc((size_t)n, sizeof(pid_t));
	struct floor fl;

	if (n < 10 || !rep || !flo || !kids) {
		fprintf(stderr, "usage: bench_report N>=10 DBDIR\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			pause();
			_exit(0);
		}
	}
	usleep(100000);
	if (floor_open(&fl, dir))
		return 1;
	/* Interleaved, so both see the same load on a shared machine. */
	for (i = 0; i < n; i++) {
		double t0 = now_us();

		r = ias_report_attack_reason(kids[i], "benchmark");
		rep[i] = now_us() - t0;
		if (r) {
			failed++;
			fprintf(stderr, "report %d: %s\n", (int)kids[i], ias_strerror(r));
		}
		flo[i] = floor_once(&fl, i);
	}
	floor_close(&fl);
	for (i = 0; i < n; i++)
		ias_release_block(kids[i]);
	for (i = 0; i < n; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	show("ReportAttack -> block committed", rep, n - failed > 0 ? n : 1);
	show("floor: one durable SQLite commit", flo, n);
	printf("ratio of medians (agent / floor): %.2f\n", pct(rep, n, 0.5) / pct(flo, n, 0.5));
	return failed ? 1 : 0;
}
