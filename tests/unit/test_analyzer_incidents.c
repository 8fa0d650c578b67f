/* The analyzer daemon's per-incident bookkeeping (one round per report,
 * its own reports never seed) and its exclusion set. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/incidents.h"
#include "analyzer/search.h"
#include "analyzer/snapshot.h"
#include "tests/unit/tap.h"

static const char tsv[] =
	"pid\tppid\texe\tcontext\tzone\n"
	"1\t0\t/sbin/init\t-\t/\n"
	"50\t1\t/usr/sbin/sshd\t-\t/\n"
	"60\t50\t/usr/bin/bash\t-\t/\n"	/* the shell that runs the analyzer */
	"70\t60\t/usr/sbin/ias-analyzer\t-\t/\n"
	"80\t1\t/usr/sbin/sema\t-\t/\n"
	"100\t60\t/usr/bin/bash\t-\t/\n"	/* a dedicated root */
	"110\t100\t/usr/bin/bash\t-\t/\n"
	"111\t110\t/opt/w\t-\t/\n"
	"112\t110\t/opt/w\t-\t/\n"
	"120\t100\t/usr/bin/bash\t-\t/\n"
	"121\t120\t/opt/w\t-\t/\n"
	"130\t50\t/usr/sbin/sshd (deleted)\t-\t/\n"
	"140\t60\t/opt/w\t-\t/\n";	/* another child of the analyzer's shell */

static void test_rounds(void)
{
	struct az_incidents t = { 0 };
	struct az_incident *a, *b;
	bool created = false;

	a = az_inc_get(&t, "I-n-1", 1000, &created);
	ok(a && created, "a new incident is created");
	ok(az_inc_get(&t, "I-n-1", 1001, &created) == a && !created, "and found again");
	errno = 0;
	ok(!az_inc_get(&t, "", 1, NULL) && errno == EINVAL, "an empty id is refused");
	ok(!az_inc_get(&t, "I-0123456789012345678901234567890", 1, NULL) && errno == EINVAL,
	   "a 33-byte id is refused");

	is_int(az_inc_alert(a, 111, false, 1002), 1, "an operator's alert is a new seed");
	ok(a->dirty, "which makes the incident dirty");
	is_int(az_inc_alert(a, 111, false, 1003), 0, "the same alert again changes nothing");
	a->dirty = false;	/* the round ran */
	ok(az_inc_is_new(a, 112) && !az_inc_is_new(a, 111), "a seed is not new, a sibling is");
	is_int(az_inc_mark_ours(a, 112, 1004), 0, "the analyzer reports 112");
	ok(!az_inc_is_new(a, 112), "112 is no longer new");
	is_int(az_inc_alert(a, 112, false, 1005), 0,
	       "its alert coming back starts no round (even if its origin is not known)");
	ok(!a->dirty && !a->rereported, "the incident stays clean");
	is_int(az_inc_alert(a, 200, true, 1006), 0, "an alert blocked by an analyzer is no seed");
	ok(!az_inc_is_new(a, 200) && !a->dirty, "but it is remembered");
	is_int(az_inc_alert(a, 121, false, 1007), 1, "a second reported process is a seed");
	ok(a->dirty && a->rereported, "after the analyzer reported: re-reported (no auto-release)");
	is_int((int)a->seeds.n, 2, "two seeds");
	is_int(az_inc_alert(a, 0, false, 1), -EINVAL, "PID 0 is refused");

	b = az_inc_get(&t, "I-n-2", 5000, NULL);
	ok(b && b != a, "another incident");
	ok(az_inc_is_new(b, 112), "the sets are per incident");
	is_int((int)az_inc_forget(&t, 2000, 16), 1, "an idle incident is forgotten");
	ok(!az_inc_find(&t, "I-n-1") && az_inc_find(&t, "I-n-2"), "the older one");
	az_inc_get(&t, "I-n-3", 6000, NULL);
	az_inc_get(&t, "I-n-4", 7000, NULL);
	is_int((int)az_inc_forget(&t, 0, 2), 1, "over the cap: the least recent goes");
	ok(!az_inc_find(&t, "I-n-2") && az_inc_find(&t, "I-n-4"), "and it is I-n-2");
	az_incidents_free(&t);
	is_int((int)t.n, 0, "freed");
}

static void test_exclusions(void)
{
	static const char *const exes[] = { "/usr/sbin/sshd", "/usr/sbin/sema" };
	struct ias_search_result *res = NULL;
	struct ias_snapshot *s = NULL;
	struct ias_snap_err err;
	pid_t *x = NULL, self = 70, agent = 80, seeds[2] = { 111, 121 }, known[2];
	size_t n = 0, i;
	char buf[160] = "";

	if (ias_snapshot_parse_tsv(tsv, sizeof(tsv) - 1, &s, &err)) {
		ok(0, "test snapshot parses: line %lu: %s", err.line, err.msg);
		return;
	}
	known[0] = self;
	known[1] = agent;
	is_int(az_exclusions(s, self, known, 2, exes, 2, &x, &n), 0, "exclusions computed");
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%d", i ? "," : "",
			 (int)x[i]);
	is_str(buf, "1,50,60,70,80,130",
	       "init, self, agent, self's ancestors, listed programs (also deleted)");

	/* The exclusions keep an LCA round inside the dedicated root. */
	is_int(ias_search(s, IAS_LEVEL_LCA, seeds, 2, x, n, &res, NULL), 0, "lca search");
	if (res) {
		buf[0] = '\0';
		for (i = 0; i < res->n; i++)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%d", i ? "," : "",
				 (int)res->c[i].pid);
		is_str(buf, "100,110,111,120,121", "LCA 100 and its children, nothing above");
	}
	ias_search_result_free(res);
	res = NULL;
	/* A seed under the analyzer's own shell: the shell is excluded. */
	seeds[0] = 111;
	seeds[1] = 140;
	is_int(ias_search(s, IAS_LEVEL_LCA, seeds, 2, x, n, &res, NULL), 0, "lca search 2");
	ok(res && res->n_new == 0, "the analyzer's ancestors are never an LCA");
	ias_search_result_free(res);
	free(x);

	is_int(az_exclusions(s, 9999, NULL, 0, NULL, 0, &x, &n), 0, "self not in snapshot");
	ok(n == 1 && x[0] == 1, "only init then");
	free(x);
	ias_snapshot_free(s);
}

static void test_reason(void)
{
	char out[8];

	az_reason_copy(out, sizeof(out), "a\tb\x7f" "cdefgh");
	is_str(out, "a?b?cde", "control bytes become '?', truncated to the cap");
}

int main(void)
{
	test_rounds();
	test_exclusions();
	test_reason();
	return tap_done();
}
