/* Test-only crash points. When the environment variable IAS_TEST_CRASH_AT
 * names a step, the agent kills itself with SIGKILL (kill -9 semantics: no
 * handler, no flush, no rollback) when a unit of work reaches that step.
 * Steps of a report: "decide" (decided, nothing written), "rows" (rows
 * written in the open transaction), "enforce" (enforced, traces sent, not
 * committed), "commit" (committed, nothing acknowledged), "reply" (the
 * caller was answered). Used by tests/daemon/test_crash.sh; never set it in
 * production (sema.8 says so). */
#ifndef IAS_SEMA_CRASH_H
#define IAS_SEMA_CRASH_H

void sema_crash_point(const char *step);

#endif
