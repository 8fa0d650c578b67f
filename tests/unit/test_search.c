/* Unit tests for the analyzer's search levels on hand-built trees.
 *
 * tests/data/snapshots/tree.tsv (PIDs, parent in brackets):
 *   1 init [0]; 2 kthreadd [0] with kernel threads 10, 11 and kernel-spawned
 *   helpers 12, 13 (modprobe) under 10.
 *   100 sshd [1] -> 200 sshd session-1 -> 201 bash -> 202, 203, 205 agent,
 *                                                      204 vim
 *               -> 300 sshd session-2 -> 301 bash -> 302 agent
 *   400, 401 python3 [1] in two services.
 *   600 bash staff_t [1] -> 601 sudo staff_sudo_t -> 602, 603 agent staff_t,
 *                                                     604 passwd passwd_t
 *                        -> 605 less staff_t
 *                        -> 606 sudo staff_sudo_t -> 607 top staff_t
 *   700 cron (context and zone "-") [1] -> 701 sh, and a 200-deep chain
 *   1000 -> 1001 -> ... -> 1199 under 700, with 1300 -> 1301 under 1100. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/search.h"
#include "analyzer/snapshot.h"
#include "tests/unit/tap.h"

static struct ias_snapshot *tree;

/* Run a search and render it as "PID reason; PID reason; ..." (or
 * "error N"). */
static const char *run(struct ias_snapshot *s, const char *levels, const char *pids,
		       const char *excl)
{
	static char out[8192];
	pid_t in[64], ex[64];
	size_t nin = 0, nex = 0, i, off = 0;
	struct ias_search_result *res;
	unsigned lv;
	char *dup, *tok, *save;
	int r;

	if (ias_level_parse(levels, &lv))
		return "bad level";
	dup = strdup(pids);
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		in[nin++] = atoi(tok);
	free(dup);
	if (excl) {
		dup = strdup(excl);
		for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			ex[nex++] = atoi(tok);
		free(dup);
	}
	r = ias_search(s, lv, in, nin, ex, nex, &res, NULL);
	if (r) {
		snprintf(out, sizeof(out), "error %d", r);
		return out;
	}
	out[0] = '\0';
	for (i = 0; i < res->n; i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%d %s", i ? "; " : "",
					(int)res->c[i].pid, res->c[i].reason);
	ias_search_result_free(res);
	return out;
}

/* Only the new PIDs, "N,N,...". */
static const char *run_new(struct ias_snapshot *s, const char *levels, const char *pids)
{
	static char out[8192];
	pid_t in[64];
	size_t nin = 0, i, off = 0;
	struct ias_search_result *res;
	unsigned lv;
	char *dup, *tok, *save;

	if (ias_level_parse(levels, &lv))
		return "bad level";
	dup = strdup(pids);
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		in[nin++] = atoi(tok);
	free(dup);
	if (ias_search(s, lv, in, nin, NULL, 0, &res, NULL))
		return "error";
	out[0] = '\0';
	for (i = 0; i < res->n; i++)
		if (res->c[i].kind != IAS_WHY_REPORTED)
			off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%d", off ? "," : "",
						(int)res->c[i].pid);
	ias_search_result_free(res);
	return out;
}

static struct ias_snapshot *parse(const char *tsv)
{
	struct ias_snapshot *s = NULL;
	struct ias_snap_err err;

	if (ias_snapshot_parse_tsv(tsv, strlen(tsv), &s, &err))
		printf("# parse error line %lu: %s\n", err.line, err.msg);
	return s;
}

static void test_basic_and_input(void)
{
	struct ias_search_result *res = NULL;
	pid_t in[] = { 202, 1, 202, 203 }, bad[] = { 202, 99999 }, missing = 0;

	is_str(run(tree, "basic", "202", NULL), "202 reported", "basic: only the input");
	is_str(run(tree, "basic", "203,202", NULL), "202 reported; 203 reported",
	       "basic: input sorted by PID");
	is_int(ias_search(tree, 0, in, 4, NULL, 0, &res, NULL), 0, "duplicates and PID 1 accepted");
	if (res) {
		is_int(res->n_input, 3, "input deduplicated");
		is_int(res->n_ignored, 1, "PID 1 ignored");
		is_int(res->ignored[0], 1, "ignored[0] is 1");
		is_int(res->n, 2, "PID 1 is not a conspirator");
		ias_search_result_free(res);
	}
	is_int(ias_search(tree, IAS_LEVEL_LCA, bad, 2, NULL, 0, &res, &missing), -ESRCH,
	       "a PID not in the snapshot is an error");
	is_int(missing, 99999, "the missing PID is named");
	is_int(ias_search(tree, 1u << 9, in, 1, NULL, 0, &res, NULL), -EINVAL, "unknown level bit");
	in[0] = 0;
	is_int(ias_search(tree, 0, in, 1, NULL, 0, &res, NULL), -EINVAL, "PID 0 input rejected");
	is_str(run(tree, "lca", "202,302", "202"), "302 reported",
	       "an excluded reported PID is ignored and does not seed");
}

static void test_sibling(void)
{
	is_str(run(tree, "sibling", "202", NULL),
	       "202 reported; 203 sibling of 202 running the same program; "
	       "205 sibling of 202 running the same program",
	       "sibling: same parent and program, not the vim sibling");
	is_str(run(tree, "sibling", "204", NULL), "204 reported",
	       "sibling: a different program has no siblings");
	is_str(run(tree, "sibling", "203,205", NULL),
	       "202 sibling of 203 running the same program; 203 reported; 205 reported",
	       "sibling: reason names the lowest reported sibling");
	is_str(run(tree, "sibling", "400", NULL), "400 reported",
	       "sibling: children of PID 1 are never grouped");
	is_str(run(tree, "sibling", "12", NULL), "12 reported",
	       "sibling: children of a kernel thread are never grouped");
	is_str(run(tree, "sibling", "10", NULL), "10 reported",
	       "sibling: kernel threads (no exe) never match");
	is_str(run(tree, "sibling", "202", "205"),
	       "202 reported; 203 sibling of 202 running the same program",
	       "sibling: excluded PIDs are never reported");
	is_str(run(tree, "sibling", "200", NULL),
	       "200 reported; 300 sibling of 200 running the same program",
	       "sibling: sshd sessions of one master are siblings");
}

static void test_lca(void)
{
	is_str(run(tree, "lca", "202", NULL), "202 reported", "lca: a single conspirator adds nothing");
	is_str(run(tree, "lca", "202,203", NULL),
	       "201 LCA of 202 and 203; 202 reported; 203 reported; 204 child of LCA 201; "
	       "205 child of LCA 201", "lca: siblings' parent and its children");
	is_str(run(tree, "lca", "202,302", NULL),
	       "100 LCA of 202 and 302; 200 child of LCA 100; 202 reported; "
	       "300 child of LCA 100; 302 reported", "lca: conspirators in separate subtrees");
	is_str(run(tree, "lca", "202,302", "100"), "202 reported; 302 reported",
	       "lca: an excluded LCA and its children are skipped");
	is_str(run(tree, "lca", "202,400", NULL), "202 reported; 400 reported",
	       "lca: only common ancestor init gives nothing");
	is_str(run(tree, "lca", "202,12", NULL), "12 reported; 202 reported",
	       "lca: conspirators in different trees (init and kthreadd) give nothing");
	is_str(run(tree, "lca", "201,202", NULL),
	       "201 reported; 202 reported; 203 child of LCA 201; 204 child of LCA 201; "
	       "205 child of LCA 201", "lca: an ancestor conspirator is the LCA, its children join");
	is_str(run(tree, "lca", "100,202", NULL),
	       "100 reported; 200 child of LCA 100; 202 reported; 300 child of LCA 100",
	       "lca: ancestor two levels up");
	is_str(run(tree, "lca", "202,203,302", NULL),
	       "100 LCA of 202 and 302; 200 child of LCA 100; 201 LCA of 202 and 203; "
	       "202 reported; 203 reported; 204 child of LCA 201; 205 child of LCA 201; "
	       "300 child of LCA 100; 302 reported",
	       "lca: k=3 gives the LCA of every pair");
	is_str(run_new(tree, "lca", "203,302"), "100,200,300",
	       "lca: one round only (201's children are not added)");
	is_str(run(tree, "lca", "1199,1301", NULL),
	       "1100 LCA of 1199 and 1301; 1101 child of LCA 1100; 1199 reported; "
	       "1300 child of LCA 1100; 1301 reported", "lca: deep chain with a branch");
	is_str(run(tree, "lca", "1150,1199", NULL),
	       "1150 reported; 1151 child of LCA 1150; 1199 reported",
	       "lca: two PIDs on one deep chain");
	is_str(run(tree, "lca", "701,1000", NULL),
	       "700 LCA of 701 and 1000; 701 reported; 1000 reported",
	       "lca: the LCA's children may all be reported already");
	is_str(run_new(tree, "lca", "202"), "", "lca does not include sibling results");
	is_str(run(tree, "sibling,lca", "202,203", NULL),
	       "201 LCA of 202 and 203; 202 reported; 203 reported; 204 child of LCA 201; "
	       "205 sibling of 202 running the same program",
	       "sibling,lca: both rules, first rule's reason wins");
	is_str(run(tree, "lca", "400,401", NULL), "400 reported; 401 reported",
	       "lca: PID 1 is never an LCA");
}

static void test_selinux(void)
{
	is_str(run(tree, "selinux", "602,603", NULL),
	       "600 LCA of 602 and 603 in context staff_u:staff_r:staff_t:s0; "
	       "602 reported; 603 reported; "
	       "605 child of LCA 600 in context staff_u:staff_r:staff_t:s0; "
	       "607 child of LCA 600 in context staff_u:staff_r:staff_t:s0",
	       "selinux: LCA and children in the induced forest skip other contexts");
	is_str(run(tree, "lca", "602,603", NULL),
	       "601 LCA of 602 and 603; 602 reported; 603 reported; 604 child of LCA 601",
	       "lca on the same input, for contrast");
	is_str(run(tree, "selinux", "202,302", NULL), "202 reported; 302 reported",
	       "selinux: no common ancestor in the conspirators' context");
	is_str(run(tree, "selinux", "602,604", NULL), "602 reported; 604 reported",
	       "selinux: conspirators of different contexts do not pair");
	is_str(run(tree, "selinux", "701,1000", NULL), "701 reported; 1000 reported",
	       "selinux: context - never groups");
	is_str(run(tree, "selinux", "1199,1301", NULL),
	       "1100 LCA of 1199 and 1301 in context system_u:system_r:chain_t:s0; "
	       "1101 child of LCA 1100 in context system_u:system_r:chain_t:s0; 1199 reported; "
	       "1300 child of LCA 1100 in context system_u:system_r:chain_t:s0; 1301 reported",
	       "selinux: same as lca when the whole branch shares the context");
	is_str(run(tree, "selinux", "600,602", NULL),
	       "600 reported; 602 reported; "
	       "603 child of LCA 600 in context staff_u:staff_r:staff_t:s0; "
	       "605 child of LCA 600 in context staff_u:staff_r:staff_t:s0; "
	       "607 child of LCA 600 in context staff_u:staff_r:staff_t:s0",
	       "selinux: an ancestor conspirator is the induced LCA");
}

static void test_zone(void)
{
	is_str(run(tree, "zone", "202", NULL),
	       "200 same zone as 202 (/user.slice/session-1.scope); "
	       "201 same zone as 202 (/user.slice/session-1.scope); 202 reported; "
	       "203 same zone as 202 (/user.slice/session-1.scope); "
	       "204 same zone as 202 (/user.slice/session-1.scope); "
	       "205 same zone as 202 (/user.slice/session-1.scope)",
	       "zone: everything in the conspirator's cgroup");
	is_str(run(tree, "zone", "12", NULL), "12 reported", "zone: the root cgroup never groups");
	is_str(run(tree, "zone", "701", NULL), "701 reported", "zone: - never groups");
	is_str(run_new(tree, "zone", "400,1000"), "1001,1002,1003,1004,1005,1006,1007,1008,1009,"
	       "1010,1011,1012,1013,1014,1015,1016,1017,1018,1019,1020,1021,1022,1023,1024,1025,"
	       "1026,1027,1028,1029,1030,1031,1032,1033,1034,1035,1036,1037,1038,1039,1040,1041,"
	       "1042,1043,1044,1045,1046,1047,1048,1049,1050,1051,1052,1053,1054,1055,1056,1057,"
	       "1058,1059,1060,1061,1062,1063,1064,1065,1066,1067,1068,1069,1070,1071,1072,1073,"
	       "1074,1075,1076,1077,1078,1079,1080,1081,1082,1083,1084,1085,1086,1087,1088,1089,"
	       "1090,1091,1092,1093,1094,1095,1096,1097,1098,1099,1100,1101,1102,1103,1104,1105,"
	       "1106,1107,1108,1109,1110,1111,1112,1113,1114,1115,1116,1117,1118,1119,1120,1121,"
	       "1122,1123,1124,1125,1126,1127,1128,1129,1130,1131,1132,1133,1134,1135,1136,1137,"
	       "1138,1139,1140,1141,1142,1143,1144,1145,1146,1147,1148,1149,1150,1151,1152,1153,"
	       "1154,1155,1156,1157,1158,1159,1160,1161,1162,1163,1164,1165,1166,1167,1168,1169,"
	       "1170,1171,1172,1173,1174,1175,1176,1177,1178,1179,1180,1181,1182,1183,1184,1185,"
	       "1186,1187,1188,1189,1190,1191,1192,1193,1194,1195,1196,1197,1198,1199,1300,1301",
	       "zone: a service alone in its cgroup adds nothing; the chain's cgroup adds all");
	is_str(run(tree, "zone", "602", "600,601"),
	       "602 reported; 603 same zone as 602 (/user.slice/session-3.scope); "
	       "604 same zone as 602 (/user.slice/session-3.scope); "
	       "605 same zone as 602 (/user.slice/session-3.scope); "
	       "606 same zone as 602 (/user.slice/session-3.scope); "
	       "607 same zone as 602 (/user.slice/session-3.scope)",
	       "zone: exclusions hold");
}

/* Inline trees: file order does not matter, exe identity, parse edge cases. */
static void test_inline(void)
{
	struct ias_snapshot *s;
	struct ias_proc p;

	s = parse("pid\tppid\texe\tcontext\tzone\n"
		  "30\t20\t/bin/a\t-\t-\n"
		  "20\t1\t/bin/p\t-\t-\n"
		  "1\t0\t/sbin/init\t-\t-\n"
		  "31\t20\t/bin/a\t-\t-\n"
		  "32\t20\t/bin/a (deleted)\t-\t-");	/* no final newline */
	ok(s != NULL, "shuffled lines, no final newline: parsed");
	if (s) {
		is_int(ias_snapshot_count(s), 5, "5 processes");
		is_int(ias_snapshot_get(s, 0, &p), 0, "get 0");
		is_int(p.pid, 1, "sorted by PID");
		is_int(ias_snapshot_index(s, 31), 3, "index of 31");
		is_int(ias_snapshot_index(s, 33), -ESRCH, "unknown PID");
		is_int(ias_snapshot_get(s, 5, &p), -ERANGE, "get past the end");
		is_str(run(s, "sibling", "30", NULL),
		       "30 reported; 31 sibling of 30 running the same program",
		       "same path = same program; a deleted binary is another program");
		ias_snapshot_free(s);
	}

	s = parse("pid\tppid\texe\tcontext\tzone\n"
		  "1\t0\t/sbin/init\t-\t-\n"
		  "5\t1\t/bin/tab\\there\\\\x\\x01\t-\t/a b\\nc\n");
	ok(s != NULL, "escapes parsed");
	if (s) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		struct ias_snapshot *s2 = NULL;
		struct ias_snap_err err;

		ias_snapshot_get(s, 1, &p);
		is_str(p.exe, "/bin/tab\there\\x\x01", "exe unescaped");
		is_str(p.zone, "/a b\nc", "zone unescaped");
		is_int(ias_snapshot_write_tsv(s, f), 0, "written");
		fclose(f);
		is_str(buf, "pid\tppid\texe\tcontext\tzone\n1\t0\t/sbin/init\t-\t-\n"
		       "5\t1\t/bin/tab\\there\\\\x\\x01\t-\t/a b\\nc\n", "escaped again on output");
		is_int(ias_snapshot_parse_tsv(buf, len, &s2, &err), 0, "output parses");
		if (s2) {
			ias_snapshot_get(s2, 1, &p);
			is_str(p.exe, "/bin/tab\there\\x\x01", "round trip keeps the exe");
			ias_snapshot_free(s2);
		}
		free(buf);
		ias_snapshot_free(s);
	}

	/* Kernel threads may have parent 0; PID 1's parent need not be 0. */
	s = parse("pid\tppid\texe\tcontext\tzone\n"
		  "1\t0\t-\t-\t-\n2\t0\t-\t-\t-\n3\t2\t-\t-\t-\n");
	ok(s != NULL, "kernel threads with parent 0 accepted");
	ias_snapshot_free(s);
}

static void test_levels(void)
{
	unsigned lv = 99;
	char buf[64];

	is_int(ias_level_parse("basic", &lv), 0, "parse basic");
	is_int(lv, 0, "basic = 0");
	is_int(ias_level_parse("zone,sibling", &lv), 0, "parse a list");
	is_int(lv, IAS_LEVEL_ZONE | IAS_LEVEL_SIBLING, "list bits");
	is_str(ias_level_format(lv, buf, sizeof(buf)), "sibling,zone", "canonical order");
	is_int(ias_level_parse("lca,", &lv), -EINVAL, "trailing comma rejected");
	is_int(ias_level_parse("", &lv), -EINVAL, "empty rejected");
	is_int(ias_level_parse("basic,lca", &lv), -EINVAL, "basic does not mix");
	is_int(ias_level_parse("LCA", &lv), -EINVAL, "names are lower case");
	is_str(ias_level_format(0, buf, sizeof(buf)), "basic", "format basic");
}

int main(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	struct ias_snap_err err;
	int r;

	snprintf(path, sizeof(path), "%s/tests/data/snapshots/tree.tsv", top ? top : ".");
	r = ias_snapshot_load_tsv(path, &tree, &err);
	if (!ok(r == 0, "load %s", path)) {
		printf("# %lu: %s (%d)\n", err.line, err.msg, r);
		return tap_done();
	}
	is_int(ias_snapshot_count(tree), 230, "230 processes");
	ok(ias_snapshot_has_contexts(tree), "TSV snapshots carry contexts");
	test_basic_and_input();
	test_sibling();
	test_lca();
	test_selinux();
	test_zone();
	test_inline();
	test_levels();
	ias_snapshot_free(tree);
	return tap_done();
}
