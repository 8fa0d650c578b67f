/* See procinfo.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sema/procinfo.h"

static int read_small(const char *path, char *buf, size_t cap)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	if (n < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	buf[n] = '\0';
	return (int)n;
}

/* /proc/PID/stat: "pid (comm) state ppid ... starttime(22)". comm may hold
 * spaces and parentheses, so parse from the last ')'. */
static int parse_stat(const char *buf, pid_t *ppid, uint64_t *starttime)
{
	const char *p = strrchr(buf, ')');
	unsigned long long st = 0;
	int field = 2, pp = 0;
	char *end;

	if (!p)
		return -EBADMSG;
	p++;
	while (*p && field < 22) {
		while (*p == ' ')
			p++;
		field++;
		if (field == 4)
			pp = (int)strtol(p, NULL, 10);
		if (field == 22) {
			st = strtoull(p, &end, 10);
			if (end == p)
				return -EBADMSG;
			break;
		}
		while (*p && *p != ' ')
			p++;
	}
	if (field != 22)
		return -EBADMSG;
	*ppid = pp;
	*starttime = st;
	return 0;
}

int proc_info_get(pid_t pid, struct proc_info *pi)
{
	char path[64], buf[4096];
	struct stat sb;
	ssize_t n;
	int r;

	memset(pi, 0, sizeof(*pi));
	if (pid <= 0)
		return -ESRCH;
	pi->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	r = parse_stat(buf, &pi->ppid, &pi->starttime);
	if (r)
		return r;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &sb) < 0)
		return -ESRCH;
	pi->uid = sb.st_uid;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_small(path, pi->comm, sizeof(pi->comm)) > 0)
		pi->comm[strcspn(pi->comm, "\n")] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, pi->exe, sizeof(pi->exe) - 1);
	pi->exe[n > 0 ? n : 0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_small(path, buf, sizeof(buf)) > 0) {
		char *line = strstr(buf, "0::");

		if (line) {
			line += 3;
			line[strcspn(line, "\n")] = '\0';
			snprintf(pi->cgroup, sizeof(pi->cgroup), "%s", line);
		}
	}
	return 0;
}

int proc_stat_open(pid_t pid)
{
	char path[64];
	int fd;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int proc_stat_same(int fd, uint64_t starttime)
{
	char buf[2048];
	uint64_t st;
	pid_t ppid;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;	/* the process is gone (ESRCH), or unreadable */
	buf[n] = '\0';
	return parse_stat(buf, &ppid, &st) == 0 && st == starttime;
}

int proc_same(pid_t pid, uint64_t starttime)
{
	char path[64], buf[2048];
	uint64_t st;
	pid_t ppid;

	/* Only /proc/PID/stat: this guards cached verdicts on hot paths. */
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0 || parse_stat(buf, &ppid, &st))
		return 0;
	return starttime == 0 || st == starttime;
}

void proc_unit(const char *cgroup, char *out, size_t outlen)
{
	const char *p = cgroup, *best = NULL, *best_end = NULL;

	out[0] = '\0';
	while (p && *p) {
		const char *start = (*p == '/') ? p + 1 : p;
		const char *end = strchr(start, '/');
		size_t len = end ? (size_t)(end - start) : strlen(start);

		if ((len > 8 && strncmp(start + len - 8, ".service", 8) == 0) ||
		    (len > 6 && strncmp(start + len - 6, ".scope", 6) == 0)) {
			best = start;
			best_end = start + len;
		}
		p = end;
	}
	if (best)
		snprintf(out, outlen, "%.*s", (int)(best_end - best), best);
}
