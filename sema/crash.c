/* See crash.h. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sema/crash.h"

void sema_crash_point(const char *step)
{
	static const char *at;
	static int read_env;

	if (!read_env) {
		at = getenv("IAS_TEST_CRASH_AT");
		read_env = 1;
	}
	if (at && *at && strcmp(at, step) == 0) {
		raise(SIGKILL);
		_exit(137);
	}
}
