/* ias-analyzer: the per-node attack analyzer. This file holds the offline
 * subcommands (snapshot, search); they run the same library code as the
 * daemon mode. Exit status: 0 success, 1 bad input or failure, 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <selinux/selinux.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "analyzer/daemon.h"
#include "analyzer/search.h"
#include "analyzer/snapshot.h"

#define EXIT_INPUT 1
#define EXIT_USAGE 2

static const char prog[] = "ias-analyzer";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [--help] [--version] COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  daemon [--config FILE] [--set KEY=VALUE]... [--foreground] [--print-config]\n"
		"                          (also --daemon) subscribe to the local agent's\n"
		"                          alerts and report the conspirators found\n"
		"  snapshot [-o FILE]      write this node's process table as TSV\n"
		"  search [--snapshot FILE] --level LEVEL --pids P1,P2,...\n"
		"         [--exclude P1,P2,...] [-o json|human]\n"
		"                          find the conspirators of the given PIDs\n"
		"\n"
		"LEVEL is basic, sibling, lca, selinux or zone, or a comma-separated\n"
		"list of the last four. Without --snapshot the search runs on a live\n"
		"snapshot of this node. See ias-analyzer(8).\n",
		prog);
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try '%s --help')\n", prog);
	return EXIT_USAGE;
}

/* "P1,P2,..." into a fresh array. 0 or -EINVAL. */
static int parse_pids(const char *s, pid_t **out, size_t *n)
{
	size_t cap = 1, i;
	const char *p;
	pid_t *v;

	*out = NULL;
	*n = 0;
	for (p = s; *p; p++)
		if (*p == ',')
			cap++;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0, p = s;; i++) {
		size_t len = strcspn(p, ","), k;
		long x = 0;

		if (len == 0 || len > 7)
			goto bad;
		for (k = 0; k < len; k++) {
			if (p[k] < '0' || p[k] > '9')
				goto bad;
			x = x * 10 + (p[k] - '0');
		}
		if (x < 1 || x > IAS_SNAP_PID_MAX)
			goto bad;
		v[i] = (pid_t)x;
		if (!p[len])
			break;
		p += len + 1;
	}
	*out = v;
	*n = i + 1;
	return 0;
bad:
	free(v);
	return -EINVAL;
}

static int cmd_snapshot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct ias_snapshot *s = NULL;
	FILE *f = stdout;
	int c, r, ret = EXIT_INPUT;

	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("snapshot: bad option");
		}
	}
	if (optind != argc)
		return usage_error("snapshot: unexpected argument '%s'", argv[optind]);
	r = ias_snapshot_live(NULL, 0, &s);
	if (r) {
		fprintf(stderr, "%s: cannot read /proc: %s\n", prog, strerror(-r));
		return EXIT_INPUT;
	}
	if (path && strcmp(path, "-") != 0) {
		f = fopen(path, "we");
		if (!f) {
			fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
			goto out;
		}
	}
	r = ias_snapshot_write_tsv(s, f);
	if (f != stdout) {
		if (fclose(f) == EOF && !r)
			r = -errno;
	} else if (fflush(stdout) == EOF && !r) {
		r = -EIO;
	}
	if (r) {
		fprintf(stderr, "%s: %s: write failed: %s\n", prog, path ? path : "stdout",
			strerror(-r));
		goto out;
	}
	ret = 0;
out:
	ias_snapshot_free(s);
	return ret;
}

static int print_json(const struct ias_search_result *res)
{
	json_object *o = json_object_new_object(), *in, *cs, *nw;
	char lv[64];
	size_t i;
	int r = 0;

	in = json_object_new_array();
	cs = json_object_new_array();
	nw = json_object_new_array();
	if (!o || !in || !cs || !nw) {
		json_object_put(in);
		json_object_put(cs);
		json_object_put(nw);
		r = -ENOMEM;
		goto out;
	}
	json_object_object_add(o, "level",
			       json_object_new_string(ias_level_format(res->levels, lv, sizeof(lv))));
	json_object_object_add(o, "input", in);
	json_object_object_add(o, "conspirators", cs);
	json_object_object_add(o, "new", nw);
	for (i = 0; i < res->n_input; i++)
		json_object_array_add(in, json_object_new_int(res->input[i]));
	for (i = 0; i < res->n; i++) {
		json_object *e = json_object_new_object();

		if (!e) {
			r = -ENOMEM;
			goto out;
		}
		json_object_object_add(e, "pid", json_object_new_int(res->c[i].pid));
		json_object_object_add(e, "reason", json_object_new_string(res->c[i].reason));
		json_object_array_add(cs, e);
		if (res->c[i].kind != IAS_WHY_REPORTED)
			json_object_array_add(nw, json_object_new_int(res->c[i].pid));
	}
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(o);
	return r;
}

static void print_human(const struct ias_snapshot *s, const struct ias_search_result *res)
{
	size_t i, w = strlen("REASON");
	char lv[64];

	for (i = 0; i < res->n; i++)
		if (strlen(res->c[i].reason) > w)
			w = strlen(res->c[i].reason);
	printf("%-8s %-8s %-*s  %s\n", "PID", "PPID", (int)w, "REASON", "EXE");
	for (i = 0; i < res->n; i++) {
		long x = ias_snapshot_index(s, res->c[i].pid);
		struct ias_proc p = { .exe = "-" };

		if (x >= 0)
			ias_snapshot_get(s, (size_t)x, &p);
		printf("%-8d %-8d %-*s  %s\n", (int)res->c[i].pid, (int)p.ppid, (int)w,
		       res->c[i].reason, p.exe);
	}
	printf("%zu conspirator%s: %zu reported, %zu new (level %s)\n", res->n,
	       res->n == 1 ? "" : "s", res->n - res->n_new, res->n_new,
	       ias_level_format(res->levels, lv, sizeof(lv)));
}

static int cmd_search(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "snapshot", required_argument, NULL, 's' },
		{ "level", required_argument, NULL, 'l' },
		{ "pids", required_argument, NULL, 'p' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *snap_path = NULL, *level = NULL, *pids_arg = NULL, *excl_arg = NULL;
	pid_t *pids = NULL, *excl = NULL, missing = 0;
	size_t npids = 0, nexcl = 0, i;
	struct ias_search_result *res = NULL;
	struct ias_snapshot *s = NULL;
	struct ias_snap_err err;
	unsigned levels = 0;
	int json = 0, c, r, ret = EXIT_INPUT;

	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': snap_path = optarg; break;
		case 'l': level = optarg; break;
		case 'p': pids_arg = optarg; break;
		case 'x': excl_arg = optarg; break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				json = 1;
			else if (strcmp(optarg, "human") == 0)
				json = 0;
			else
				return usage_error("search: -o must be json or human");
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("search: bad option");
		}
	}
	if (optind != argc)
		return usage_error("search: unexpected argument '%s'", argv[optind]);
	if (!level || !pids_arg)
		return usage_error("search: --level and --pids are required");
	if (ias_level_parse(level, &levels))
		return usage_error("search: unknown level '%s'", level);
	if (parse_pids(pids_arg, &pids, &npids))
		return usage_error("search: --pids takes PIDs 1..%d separated by commas",
				   IAS_SNAP_PID_MAX);
	if (excl_arg && parse_pids(excl_arg, &excl, &nexcl)) {
		free(pids);
		return usage_error("search: --exclude takes PIDs 1..%d separated by commas",
				   IAS_SNAP_PID_MAX);
	}

	if (snap_path) {
		r = ias_snapshot_load_tsv(snap_path, &s, &err);
		if (r == -EINVAL || (r == -EFBIG && err.msg[0])) {
			if (err.line)
				fprintf(stderr, "%s:%lu: %s\n", snap_path, err.line, err.msg);
			else
				fprintf(stderr, "%s: %s\n", snap_path, err.msg);
			goto out;
		}
		if (r) {
			fprintf(stderr, "%s: %s: %s\n", prog, snap_path, strerror(-r));
			goto out;
		}
	} else {
		if ((levels & IAS_LEVEL_SELINUX) && is_selinux_enabled() <= 0) {
			fprintf(stderr, "%s: the selinux level needs SELinux, which is not enabled "
				"on this system\n", prog);
			goto out;
		}
		r = ias_snapshot_live(NULL, ias_level_snapshot_flags(levels), &s);
		if (r) {
			fprintf(stderr, "%s: cannot read /proc: %s\n", prog, strerror(-r));
			goto out;
		}
	}
	r = ias_search(s, levels, pids, npids, excl, nexcl, &res, &missing);
	if (r == -ESRCH) {
		fprintf(stderr, "%s: PID %d is not in the snapshot%s%s\n", prog, (int)missing,
			snap_path ? " " : "", snap_path ? snap_path : "");
		goto out;
	}
	if (r == -EOPNOTSUPP) {
		fprintf(stderr, "%s: the selinux level needs SELinux contexts, which this "
			"snapshot does not have\n", prog);
		goto out;
	}
	if (r) {
		fprintf(stderr, "%s: search failed: %s\n", prog, strerror(-r));
		goto out;
	}
	for (i = 0; i < res->n_ignored; i++)
		fprintf(stderr, "%s: warning: PID %d is %s and never a conspirator; ignored\n",
			prog, (int)res->ignored[i], res->ignored[i] == 1 ? "init" : "excluded");
	if (json) {
		if (print_json(res)) {
			fprintf(stderr, "%s: out of memory\n", prog);
			goto out;
		}
	} else {
		print_human(s, res);
	}
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "%s: write failed: %s\n", prog, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	ias_search_result_free(res);
	ias_snapshot_free(s);
	free(pids);
	free(excl);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("missing command");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("%s %s\n", prog, PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "daemon") == 0 || strcmp(argv[1], "--daemon") == 0)
		return az_daemon_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "snapshot") == 0)
		return cmd_snapshot(argc - 1, argv + 1);
	if (strcmp(argv[1], "search") == 0)
		return cmd_search(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", argv[1]);
}
