/* The manager's SQLite store, state_dir/sem.db: the fabric's nodes as last
 * discovered, the fabric policy, and every report an agent sent, each
 * (node GUID, seq) exactly once. WAL, synchronous=FULL, versioned
 * migrations (PRAGMA user_version), application_id "IASM".
 *
 * Everything here is a cache the manager can rebuild from the agents (they
 * are the source of truth); the store makes restarts cheap and exact.
 * Functions return 0 (or a count) / negative errno; semstore_errmsg() says
 * what SQLite said. Never prints, never exits. */
#ifndef IAS_SEM_SEMSTORE_H
#define IAS_SEM_SEMSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "mad_defs/secmgt.h"

struct semstore;

#define SEM_NAME_MAX 65

/* How a report row came to be. */
enum sem_report_via {
	SEM_VIA_REPORT = 1,	/* the agent sent it (Report) */
	SEM_VIA_FETCH = 2,	/* the manager fetched it (Get(Report)) */
	SEM_VIA_LOST = 3,	/* the agent no longer has it: a placeholder */
};

struct sem_report_rec {
	struct ias_attr_report r;
	int64_t received_ms;
	int via;		/* enum sem_report_via */
};

struct sem_node_rec {
	uint64_t guid;
	uint64_t port_guid;
	uint16_t lid;
	uint8_t node_type;	/* 1 CA, 2 switch, 3 router */
	char name[SEM_NAME_MAX];
	int agent;		/* answered ClassPortInfo as an agent */
	int64_t first_seen_ms, last_seen_ms;
};

struct sem_policy_rec {
	struct ias_attr_policy p;
	int64_t updated_ms;
};

int semstore_open(const char *dir, struct semstore **out, char *err, size_t errlen);
void semstore_close(struct semstore *st);
const char *semstore_errmsg(const struct semstore *st);

/* 1 stored, 0 already there (duplicate: nothing changed), negative errno.
 * A real report replaces a SEM_VIA_LOST placeholder. */
int semstore_report_add(struct semstore *st, const struct ias_attr_report *r,
			int64_t received_ms, int via);
/* Mark seq of node as lost (the agent answered NOT_FOUND): 1 / 0 / -errno. */
int semstore_report_lost(struct semstore *st, uint64_t node_guid, uint64_t seq,
			 int64_t now_ms);
/* Highest seq stored for node (0 if none) and how many rows (lost ones
 * included). */
int semstore_report_span(struct semstore *st, uint64_t node_guid, uint64_t *max_seq,
			 uint64_t *count);
/* The first missing seqs of node in 1..upto, ascending, at most max of them;
 * returns how many were written to out. */
int semstore_report_missing(struct semstore *st, uint64_t node_guid, uint64_t upto,
			    uint64_t *out, size_t max);
/* Reports (lost placeholders excluded), ordered by event time then node and
 * seq; incident 0 means all. cb returning non-zero stops (and is returned). */
int semstore_reports_foreach(struct semstore *st, uint64_t incident,
			     int (*cb)(const struct sem_report_rec *, void *), void *arg);
/* Latest report time of a node (0 if none). */
int semstore_report_last_ms(struct semstore *st, uint64_t node_guid, int64_t *ms);

int semstore_node_put(struct semstore *st, const struct sem_node_rec *n);
int semstore_nodes_foreach(struct semstore *st,
			   int (*cb)(const struct sem_node_rec *, void *), void *arg);

/* 0 loaded, -ENOENT none stored. */
int semstore_policy_get(struct semstore *st, struct sem_policy_rec *p);
int semstore_policy_put(struct semstore *st, const struct sem_policy_rec *p);

#endif
