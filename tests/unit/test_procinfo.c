/* sema/procinfo: what the agent reads of a process, and the cheap PID-reuse
 * check that guards cached verdicts. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sema/procinfo.h"
#include "tests/unit/tap.h"

int main(void)
{
	struct proc_info pi, child;
	pid_t pid;
	int st, fd;

	ok(proc_info_get(getpid(), &pi) == 0, "proc_info_get on ourselves");
	is_int(pi.pid, getpid(), "its pid");
	is_int(pi.ppid, getppid(), "its parent");
	ok(pi.starttime > 0, "a start time");
	is_str(pi.comm, "test_procinfo", "comm");
	ok(strstr(pi.exe, "test_procinfo") != NULL, "exe names the binary (%s)", pi.exe);
	ok(proc_info_get(0, &pi) == -ESRCH && proc_info_get(-5, &pi) == -ESRCH, "no such PID");

	proc_info_get(getpid(), &pi);
	ok(proc_same(getpid(), pi.starttime), "proc_same: same process");
	ok(proc_same(getpid(), 0), "proc_same: start time 0 means any");
	ok(!proc_same(getpid(), pi.starttime + 1), "proc_same: another start time is another process");
	ok(!proc_same(0, 0) && !proc_same(-1, 0), "proc_same: no PID");

	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	ok(pid > 0 && proc_info_get(pid, &child) == 0, "a child");
	ok(proc_same(pid, child.starttime), "proc_same on the live child");
	fd = proc_stat_open(pid);
	ok(fd >= 0, "proc_stat_open on the child");
	ok(proc_stat_same(fd, child.starttime), "proc_stat_same: the same process");
	ok(proc_stat_same(fd, child.starttime), "... again (pread from the start)");
	ok(!proc_stat_same(fd, child.starttime + 1), "proc_stat_same: another start time");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	ok(!proc_same(pid, child.starttime), "proc_same on the reaped child: gone");
	ok(!proc_stat_same(fd, child.starttime),
	   "proc_stat_same through the old descriptor: gone, whatever takes the PID");
	close(fd);
	ok(proc_stat_open(0) == -ESRCH, "proc_stat_open: no PID");
	return tap_done();
}
