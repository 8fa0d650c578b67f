/* What the agent and the manager share about MADs in flight, apart from the
 * port itself (common/umad.h): the transaction-id generator (the one place
 * TIDs come from), the table of requests waiting for an answer (keyed by
 * TID, with a deadline and a try count), and the decoding of the common MAD
 * header through the bounds-checked cursor. Pure: no I/O, the caller passes
 * the clock; unit-tested without a port.
 *
 * Only the low 32 bits of a TID are ours: the kernel's MAD layer writes its
 * agent number into the high 32 bits of a request's TID (and SecMgt leaves
 * them out of the authenticated bytes), so TIDs here are 32-bit and never 0. */
#ifndef IAS_COMMON_UMAD_TRACK_H
#define IAS_COMMON_UMAD_TRACK_H

#include <stddef.h>
#include <stdint.h>

/* ---- transaction ids ---------------------------------------------------- */

struct ias_tid_gen {
	uint32_t last;
};

/* Start after seed (any value; a clock-derived seed keeps a restarted
 * daemon's TIDs away from answers still addressed to its predecessor). */
void ias_tid_init(struct ias_tid_gen *g, uint32_t seed);
/* The next TID: never 0, and no TID repeats within 2^32 - 1 calls. */
uint32_t ias_tid_next(struct ias_tid_gen *g);

/* ---- requests in flight --------------------------------------------------- */

struct ias_pend_ent {
	uint32_t tid;		/* 0: free slot */
	uint32_t kind;		/* the caller's: what was asked */
	uint64_t key;		/* the caller's: of whom (a GUID, a LID) */
	uint64_t nonce;		/* the SecMgt nonce an answer must echo (0: none) */
	int64_t deadline_ms;
	unsigned tries;		/* sends so far (1 after add) */
	void *data;		/* the caller's */
};

struct ias_pend {
	struct ias_pend_ent *e;
	size_t cap;
	size_t n;		/* slots in use */
	struct ias_tid_gen tids;
};

#define IAS_PEND_ANY UINT32_MAX	/* ias_pend_count: every kind */

/* 0 or -ENOMEM / -EINVAL (cap 0). */
int ias_pend_init(struct ias_pend *p, size_t cap, uint32_t tid_seed);
void ias_pend_free(struct ias_pend *p);
/* A new entry with a fresh TID and tries = 1; NULL when the table is full. */
struct ias_pend_ent *ias_pend_add(struct ias_pend *p, uint32_t kind, uint64_t key,
				  int64_t deadline_ms);
/* Another try of e: a fresh TID (a late answer to the earlier try no longer
 * matches), tries + 1, a new deadline. Returns the new TID. */
uint32_t ias_pend_retry(struct ias_pend *p, struct ias_pend_ent *e, int64_t deadline_ms);
/* The entry waiting for tid, or NULL (tid 0 never matches). */
struct ias_pend_ent *ias_pend_find(struct ias_pend *p, uint32_t tid);
void ias_pend_del(struct ias_pend *p, struct ias_pend_ent *e);
/* One entry whose deadline is at or before now, or NULL. The caller retries
 * or deletes it before asking again. */
struct ias_pend_ent *ias_pend_expired(struct ias_pend *p, int64_t now_ms);
/* The earliest deadline, or INT64_MAX when nothing waits. */
int64_t ias_pend_next_deadline(const struct ias_pend *p);
size_t ias_pend_count(const struct ias_pend *p, uint32_t kind);

/* ---- the common MAD header (bytes 0..23) -------------------------------- */

#define IAS_MAD_HDR_LEN 24

struct ias_mad_hdr {
	uint8_t base_version;
	uint8_t mgmt_class;
	uint8_t class_version;
	uint8_t method;
	uint16_t status;
	uint16_t class_specific;
	uint64_t tid;		/* all 64 bits as received */
	uint16_t attr_id;
	uint32_t attr_mod;
};

/* 0, or -EBADMSG when len is shorter than the header. */
int ias_mad_hdr_decode(const uint8_t *mad, size_t len, struct ias_mad_hdr *h);
/* The low 32 bits of a TID: ours (see above). */
static inline uint32_t ias_mad_tid32(uint64_t tid)
{
	return (uint32_t)tid;
}

#endif
