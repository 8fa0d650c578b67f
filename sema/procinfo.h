/* What the agent learns about a process from /proc. Never from the process's
 * own claims: these are the kernel's files. */
#ifndef IAS_SEMA_PROCINFO_H
#define IAS_SEMA_PROCINFO_H

#include <stdint.h>
#include <sys/types.h>

struct proc_info {
	pid_t pid;
	pid_t ppid;
	uid_t uid;
	char comm[32];
	char exe[256];		/* "" when unreadable (kernel thread, gone) */
	char cgroup[256];	/* cgroup v2 path, "" when unknown */
	uint64_t starttime;	/* clock ticks since boot: tells PID reuse apart */
};

/* 0, or -ESRCH when the process does not exist, -errno otherwise. */
int proc_info_get(pid_t pid, struct proc_info *pi);
/* 1 if pid still names the same process (same start time), else 0. */
int proc_same(pid_t pid, uint64_t starttime);
/* An open /proc/PID/stat: the descriptor stays bound to that process, so
 * reading it later answers for the same process even if the PID is reused.
 * proc_stat_open: the descriptor or -errno. proc_stat_same: 1 if the process
 * behind fd is still there with that start time, else 0 (one pread). */
int proc_stat_open(pid_t pid);
int proc_stat_same(int fd, uint64_t starttime);
/* The systemd unit (last ".service"/".scope" component of the cgroup path)
 * into out; "" when none. */
void proc_unit(const char *cgroup, char *out, size_t outlen);

#endif
