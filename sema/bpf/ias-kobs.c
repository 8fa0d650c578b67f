/* ias-kobs: load the kobs BPF programs (or find them pinned) and print what
 * the kernel recorded about RDMA QPs. See ias-kobs(8).
 *
 *   ias-kobs [-d PINDIR] load | dump [-j] [-a] | lookup DEV QPN [-j]
 *            | watch [-n COUNT] [-t SECONDS] [-j] | unload
 *
 * Text output, one QP per line:
 *   dev port qpn type state pid start cgroup dqpn dlid dgid sl avport comm
 * "-" for what the kernel has not set (no destination yet, no GRH). start is
 * in /proc/PID/stat field-22 clock ticks. Exit status: 0 ok, 1 error, 2 BPF
 * unavailable here (the reason on stderr), 3 lookup found nothing. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "sema/bpf/kobs.h"
#include "sema/rdmanl.h"

static int json_out;
static long clk_tck = 100;

static void dgid_str(const struct kobs_qp *q, char *buf, size_t len)
{
	if (!(q->flags & KOBS_QP_GRH) || !inet_ntop(AF_INET6, q->dgid, buf, (socklen_t)len))
		snprintf(buf, len, "-");
}

static void num_or_dash(char *buf, size_t len, int have, unsigned long long v)
{
	if (have)
		snprintf(buf, len, "%llu", v);
	else
		snprintf(buf, len, "-");
}

static json_object *to_json(const struct kobs_qp *q)
{
	json_object *o = json_object_new_object();
	char gid[64];

	json_object_object_add(o, "dev", json_object_new_string(q->dev));
	json_object_object_add(o, "dev_index", json_object_new_int64(q->dev_index));
	json_object_object_add(o, "port", json_object_new_int64(q->port));
	if (q->handle)
		json_object_object_add(o, "ah", json_object_new_boolean(1));
	else {
		json_object_object_add(o, "qpn", json_object_new_int64(q->qpn));
		json_object_object_add(o, "type", json_object_new_string(ias_kqp_type_str(q->type)));
		json_object_object_add(o, "state", json_object_new_string(ias_kqp_state_str(q->state)));
	}
	if (q->flags & KOBS_QP_DEST)
		json_object_object_add(o, "dest_qpn", json_object_new_int64(q->dest_qpn));
	if (q->flags & KOBS_QP_AV) {
		json_object_object_add(o, "dlid", json_object_new_int64(q->dlid));
		json_object_object_add(o, "sl", json_object_new_int64(q->sl));
		json_object_object_add(o, "av_port", json_object_new_int64(q->av_port));
		json_object_object_add(o, "av_type", json_object_new_int64(q->av_type));
	}
	if (q->flags & KOBS_QP_GRH) {
		dgid_str(q, gid, sizeof(gid));
		json_object_object_add(o, "dgid", json_object_new_string(gid));
		json_object_object_add(o, "sgid_index", json_object_new_int64(q->sgid_index));
	}
	if (q->flags & KOBS_QP_SQ_PSN)
		json_object_object_add(o, "sq_psn", json_object_new_int64(q->sq_psn));
	if (q->flags & KOBS_QP_RQ_PSN)
		json_object_object_add(o, "rq_psn", json_object_new_int64(q->rq_psn));
	json_object_object_add(o, "pid", json_object_new_int64(q->tgid));
	json_object_object_add(o, "start_ns", json_object_new_int64((int64_t)q->start_ns));
	json_object_object_add(o, "start_ticks",
			       json_object_new_int64((int64_t)kobs_start_ticks(q->start_ns, clk_tck)));
	json_object_object_add(o, "cgroup_id", json_object_new_int64((int64_t)q->cgroup_id));
	json_object_object_add(o, "comm", json_object_new_string(q->comm));
	json_object_object_add(o, "seen_at_create",
			       json_object_new_boolean(!!(q->flags & KOBS_QP_CREATE)));
	return o;
}

static void print_text(const char *prefix, const struct kobs_qp *q)
{
	char gid[64], dq[16], dlid[16], sl[8], avp[16];
	int av = !!(q->flags & KOBS_QP_AV);

	dgid_str(q, gid, sizeof(gid));
	num_or_dash(dq, sizeof(dq), q->flags & KOBS_QP_DEST, q->dest_qpn);
	num_or_dash(dlid, sizeof(dlid), av && q->av_type == KOBS_AV_IB, q->dlid);
	num_or_dash(sl, sizeof(sl), av, q->sl);
	num_or_dash(avp, sizeof(avp), av, q->av_port);
	printf("%s%s %u %u %s %s %u %llu %llu %s %s %s %s %s %s\n", prefix, q->dev, q->port, q->qpn,
	       q->handle ? "AH" : ias_kqp_type_str(q->type), q->handle ? "-" : ias_kqp_state_str(q->state),
	       q->tgid, (unsigned long long)kobs_start_ticks(q->start_ns, clk_tck),
	       (unsigned long long)q->cgroup_id, dq, dlid, gid, sl, avp, q->comm[0] ? q->comm : "-");
}

static int print_one(const struct kobs_qp *q, void *arg)
{
	json_object *arr = arg;

	if (arr)
		json_object_array_add(arr, to_json(q));
	else
		print_text("", q);
	return 0;
}

static const char *const ev_names[] = { "?", "create", "modify", "destroy", "ah_create",
					"ah_destroy" };

struct watch {
	long left;	/* events still wanted; 0: no limit */
	int done;
};

static int print_event(enum kobs_ev_kind kind, const struct kobs_qp *q, void *arg)
{
	struct watch *w = arg;
	const char *name = (unsigned)kind < 6 ? ev_names[kind] : "?";
	char prefix[32];

	if (json_out) {
		json_object *o = to_json(q);

		json_object_object_add(o, "event", json_object_new_string(name));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		snprintf(prefix, sizeof(prefix), "%s ", name);
		print_text(prefix, q);
	}
	fflush(stdout);
	if (w->left > 0 && --w->left == 0)
		w->done = 1;
	return w->done;
}

static int usage(void)
{
	fprintf(stderr, "usage: ias-kobs [-d PINDIR] load | dump [-j] [-a] | lookup DEV QPN [-j]\n"
			"                | watch [-n COUNT] [-t SECONDS] [-j] | unload\n");
	return 1;
}

static int cmd_watch(struct kobs *k, long count, long secs)
{
	struct pollfd pfd = { .fd = kobs_fd(k), .events = POLLIN };
	time_t end = secs > 0 ? time(NULL) + secs : 0;
	struct watch w = { .left = count > 0 ? count : 0 };

	if (pfd.fd < 0)
		return 1;
	for (;;) {
		if (kobs_consume(k, print_event, &w) < 0)
			return 1;
		if (w.done)
			return 0;
		if (end && time(NULL) >= end)
			return 0;
		if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
			return 1;
	}
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *cmd;
	char why[256];
	struct kobs *k = NULL;
	struct kobs_qp q;
	long count = 0, secs = 0;
	int c, ah = 0, rc = 0, err;
	json_object *arr;

	while ((c = getopt(argc, argv, "+d:")) != -1) {
		if (c != 'd')
			return usage();
		dir = optarg;
	}
	if (optind >= argc)
		return usage();
	cmd = argv[optind];
	optind++;
	while ((c = getopt(argc, argv, "jan:t:")) != -1) {
		switch (c) {
		case 'j': json_out = 1; break;
		case 'a': ah = 1; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 't': secs = strtol(optarg, NULL, 10); break;
		default: return usage();
		}
	}
	if (sysconf(_SC_CLK_TCK) > 0)
		clk_tck = sysconf(_SC_CLK_TCK);
	if (strcmp(cmd, "unload") == 0) {
		err = kobs_unpin(dir, why, sizeof(why));
		if (err)
			fprintf(stderr, "ias-kobs: %s\n", why);
		return err ? 1 : 0;
	}
	err = kobs_open(dir, &k, why, sizeof(why));
	if (err) {
		fprintf(stderr, "ias-kobs: %s\n", why);
		return 2;
	}
	if (strcmp(cmd, "load") == 0) {
		printf("%s %s\n", kobs_loaded_here(k) ? "loaded" : "pinned", dir ? dir : KOBS_PIN_DIR);
	} else if (strcmp(cmd, "dump") == 0) {
		arr = json_out ? json_object_new_array() : NULL;
		err = ah ? kobs_foreach_ah(k, print_one, arr) : kobs_foreach(k, print_one, arr);
		if (arr) {
			printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
			json_object_put(arr);
		}
		rc = err < 0 ? 1 : 0;
	} else if (strcmp(cmd, "lookup") == 0 && optind + 2 == argc) {
		err = kobs_lookup(k, argv[optind], (uint32_t)strtoul(argv[optind + 1], NULL, 0), &q);
		if (err == 0 && !json_out)
			print_one(&q, NULL);
		else if (json_out)
			printf("null\n");
		rc = err == 0 ? 0 : err == -ENOENT ? 3 : 1;
		if (err == 0 && json_out) {
			json_object *o = to_json(&q);

			printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
		}
	} else if (strcmp(cmd, "watch") == 0) {
		rc = cmd_watch(k, count, secs);
	} else {
		rc = usage();
	}
	kobs_close(k);
	return rc;
}
