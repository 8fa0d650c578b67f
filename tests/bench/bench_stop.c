/* Time to stop one process on one node (benchmark, not a test).
 *
 *   bench_stop floor  CGROOT N MB   a bare cgroup.freeze write: the floor
 *   bench_stop report CGROOT N MB   ReportAttack through the agent's real
 *                                   socket (IAS_SOCKET), block mode freeze
 *
 * Each sample starts a victim process of MB MiB (touched, so resident) that
 * keeps running (it touches a page and sleeps 1 ms in a loop), then times:
 *  floor:  the victim already sits alone in a cgroup of its own; from the
 *          write of "1" to its cgroup.freeze until its cgroup.events says
 *          "frozen 1";
 *  report: from the ReportAttack call until the cgroup the victim is in
 *          (read from /proc/PID/cgroup, so the agent's own block cgroup)
 *          says "frozen 1", seen by a watcher thread running beside the
 *          call (the agent may freeze before it answers). The call's own
 *          return time is printed too.
 * Waiting for "frozen 1" uses inotify on cgroup.events (the kernel signals
 * every change of that file), so no polling interval is added.
 * Prints one line per sample: "<mode> <us to frozen> <us until the call
 * returned>" (the floor's second field is 0). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "verbs_ext/ias.h"

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static pid_t victim(size_t mb)
{
	pid_t p = fork();

	if (p == 0) {
		size_t len = mb << 20, i;
		volatile char *m = len ? mmap(NULL, len, PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : NULL;
		struct timespec ms = { 0, 1000000 };

		if (m == MAP_FAILED)
			_exit(1);
		for (i = 0; i < len; i += 4096)
			m[i] = 1;
		for (i = 0;; i++) {
			if (len)
				m[(i * 4096) % len]++;
			nanosleep(&ms, NULL);
		}
	}
	return p;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* 1 when the events file says "frozen 1". */
static int is_frozen(const char *events)
{
	char buf[256];
	int fd = open(events, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return strstr(buf, "frozen 1") != NULL;
}

/* Waits (up to 10 s) until events says frozen; 0 or -ETIMEDOUT. */
static int wait_frozen(const char *events)
{
	int in = inotify_init1(IN_CLOEXEC), r = -ETIMEDOUT;
	int64_t end = now_us() + 10000000;

	if (in < 0)
		return -errno;
	if (inotify_add_watch(in, events, IN_MODIFY) < 0) {
		close(in);
		return -errno;
	}
	while (now_us() < end) {
		struct pollfd pfd = { .fd = in, .events = POLLIN };
		char ev[4096];

		if (is_frozen(events) == 1) {
			r = 0;
			break;
		}
		if (poll(&pfd, 1, 100) > 0 && read(in, ev, sizeof(ev)) < 0 && errno != EAGAIN)
			break;
	}
	close(in);
	return r;
}

/* The victim's own cgroup directory (from /proc/PID/cgroup): with no
 * block_cgroup_parent configured the agent makes its block cgroup as a child
 * of it, so that is where the watcher looks for the new ias-block-*
 * directory. */
static int victim_cgdir(const char *root, pid_t pid, char *out, size_t len)
{
	char path[64], buf[PATH_MAX];
	FILE *f;
	int r = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (!(f = fopen(path, "re")))
		return -errno;
	while (fgets(buf, sizeof(buf), f))
		if (strncmp(buf, "0::", 3) == 0) {
			buf[strcspn(buf, "\n")] = '\0';
			r = (size_t)snprintf(out, len, "%s%s", root, buf + 3) >= len ? -ENAMETOOLONG : 0;
			break;
		}
	fclose(f);
	return r;
}

/* Waits on inotify descriptor in (watching dir for IN_CREATE) until an
 * ias-block-* directory appears there; its cgroup.events path into out.
 * Up to 10 s; no polling. */
static int block_events(int in, const char *dir, char *out, size_t len)
{
	int64_t end = now_us() + 10000000;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (now_us() < end) {
		struct pollfd pfd = { .fd = in, .events = POLLIN };
		ssize_t n;
		char *p;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = read(in, buf, sizeof(buf))) <= 0)
			continue;
		for (p = buf; p < buf + n;) {
			struct inotify_event ev;

			memcpy(&ev, p, sizeof(ev));
			if (ev.len && strncmp(p + sizeof(ev), "ias-block", 9) == 0) {
				if ((size_t)snprintf(out, len, "%s/%s/cgroup.events", dir, p + sizeof(ev)) >= len)
					return -ENAMETOOLONG;
				return 0;
			}
			p += sizeof(ev) + ev.len;
		}
	}
	return -ETIMEDOUT;
}

static void reap(pid_t p)
{
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

static int floor_sample(const char *root, size_t mb)
{
	char dir[PATH_MAX], f[PATH_MAX + 32], pidtxt[24];
	pid_t p = victim(mb);
	int64_t t0, t1;
	int r;

	if (p < 0)
		return -errno;
	snprintf(dir, sizeof(dir), "%s/ias-bench-floor-%d", root, (int)p);
	if (mkdir(dir, 0755) < 0) {
		r = -errno;
		reap(p);
		return r;
	}
	snprintf(f, sizeof(f), "%s/cgroup.procs", dir);
	snprintf(pidtxt, sizeof(pidtxt), "%d", (int)p);
	r = write_file(f, pidtxt);
	usleep(20000);	/* let the victim settle, as in the report case */
	snprintf(f, sizeof(f), "%s/cgroup.freeze", dir);
	t0 = now_us();
	if (r == 0)
		r = write_file(f, "1");
	snprintf(f, sizeof(f), "%s/cgroup.events", dir);
	if (r == 0)
		r = wait_frozen(f);
	t1 = now_us();
	reap(p);
	rmdir(dir);
	if (r < 0)
		return r;
	printf("floor %lld 0\n", (long long)(t1 - t0));
	return 0;
}

/* The watcher: from the moment the victim is in an agent block cgroup until
 * that cgroup says frozen; runs beside the report call, which may return
 * before or after the freeze. */
struct watch {
	int in;			/* inotify on the victim's cgroup directory */
	const char *dir;
	int r;
	int64_t t1;
};

static void *watch_run(void *arg)
{
	struct watch *w = arg;
	char events[PATH_MAX];

	w->r = block_events(w->in, w->dir, events, sizeof(events));
	if (w->r == 0)
		w->r = wait_frozen(events);
	w->t1 = now_us();
	return NULL;
}

static int report_sample(const char *root, size_t mb)
{
	char dir[PATH_MAX];
	struct watch w = { .dir = dir };
	pthread_t th;
	int64_t t0, tr;
	pid_t pid;
	int r;

	pid = victim(mb);
	if (pid < 0)
		return -errno;
	usleep(20000);
	if ((r = victim_cgdir(root, pid, dir, sizeof(dir))) < 0 ||
	    (w.in = inotify_init1(IN_CLOEXEC)) < 0 ||
	    inotify_add_watch(w.in, dir, IN_CREATE | IN_ONLYDIR) < 0 ||
	    (r = -pthread_create(&th, NULL, watch_run, &w)) < 0) {
		r = r < 0 ? r : -errno;
		reap(pid);
		return r;
	}
	t0 = now_us();
	r = ias_report_attack_reason(pid, "benchmark");
	tr = now_us();
	if (r < 0)
		fprintf(stderr, "bench_stop: report %d: %s\n", (int)pid, ias_strerror(r));
	pthread_join(th, NULL);
	close(w.in);
	ias_release_block(pid);
	reap(pid);
	if (r < 0)
		return r;
	if (w.r < 0) {
		fprintf(stderr, "bench_stop: victim %d never frozen: %s\n", (int)pid, strerror(-w.r));
		return w.r;
	}
	printf("report %lld %lld\n", (long long)(w.t1 - t0), (long long)(tr - t0));
	return 0;
}

int main(int argc, char **argv)
{
	int n, i, fails = 0;
	size_t mb;

	if (argc != 5 || (strcmp(argv[1], "floor") && strcmp(argv[1], "report")) ||
	    (n = atoi(argv[3])) < 1 || atoi(argv[4]) < 0) {
		fprintf(stderr, "usage: bench_stop floor|report CGROOT N MB\n");
		return 2;
	}
	mb = (size_t)atoi(argv[4]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++) {
		int r = argv[1][0] == 'f' ? floor_sample(argv[2], mb) : report_sample(argv[2], mb);

		if (r < 0 && ++fails > 3) {
			fprintf(stderr, "bench_stop: too many failures (%s)\n", strerror(-r));
			return 1;
		}
	}
	return 0;
}
