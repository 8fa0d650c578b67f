/* SecMgt MAD header codec and authenticator: encode + tag, and the decoder's
 * fixed validation order (docs/secmgt-protocol.md, "Validation order"). */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/cursor.h"
#include "mad_defs/secmgt.h"

static const char *const reason_names[IAS_MAD_REASON_COUNT] = {
	[IAS_MAD_OK] = "ok",
	[IAS_MAD_TRUNCATED] = "truncated",
	[IAS_MAD_BAD_BASE_VERSION] = "bad base version",
	[IAS_MAD_BAD_CLASS] = "bad class",
	[IAS_MAD_BAD_CLASS_VERSION] = "bad class version",
	[IAS_MAD_BAD_OUI] = "bad OUI",
	[IAS_MAD_BAD_METHOD] = "bad method",
	[IAS_MAD_BAD_SECMGT_VERSION] = "bad SecMgt version",
	[IAS_MAD_BAD_LENGTH] = "bad length",
	[IAS_MAD_RESERVED_NONZERO] = "reserved field not zero",
	[IAS_MAD_UNKNOWN_KEY] = "unknown key id",
	[IAS_MAD_BAD_TAG] = "bad authentication tag",
	[IAS_MAD_STALE] = "timestamp outside window",
	[IAS_MAD_REPLAY] = "replayed nonce",
	[IAS_MAD_UNKNOWN_ATTR] = "unknown attribute",
	[IAS_MAD_BAD_ATTR_FOR_METHOD] = "attribute not valid for method",
	[IAS_MAD_BAD_VALUE] = "bad attribute value",
	[IAS_MAD_BAD_STRING] = "bad string",
};

const char *ias_mad_reason_str(enum ias_mad_reason r)
{
	if ((unsigned)r >= IAS_MAD_REASON_COUNT || !reason_names[r])
		return "unknown reason";
	return reason_names[r];
}

static int method_known(uint8_t m)
{
	return m == IAS_METHOD_GET || m == IAS_METHOD_SET ||
	       m == IAS_METHOD_GET_RESP || m == IAS_METHOD_REPORT ||
	       m == IAS_METHOD_REPORT_RESP;
}

static int is_response(uint8_t m)
{
	return m == IAS_METHOD_GET_RESP || m == IAS_METHOD_REPORT_RESP;
}

/* ---- Nonces ------------------------------------------------------------ */

/* OpenSSL's DRBG costs about as much per call as two HMACs, whatever the
 * size, so nonces are drawn from a per-thread pool refilled from RAND_bytes.
 * A forked child drops its copy of the pool, so parent and child never send
 * the same nonce. */
#define NONCE_POOL 64

static __thread uint64_t nonce_pool[NONCE_POOL];
static __thread unsigned nonce_left;
static pthread_once_t nonce_once = PTHREAD_ONCE_INIT;

static void nonce_child(void)
{
	OPENSSL_cleanse(nonce_pool, sizeof(nonce_pool));
	nonce_left = 0;
}

static void nonce_register(void)
{
	pthread_atfork(NULL, NULL, nonce_child);
}

static int draw_nonce(uint64_t *out)
{
	pthread_once(&nonce_once, nonce_register);
	if (nonce_left == 0) {
		if (RAND_bytes((unsigned char *)nonce_pool, sizeof(nonce_pool)) != 1)
			return -EIO;
		nonce_left = NONCE_POOL;
	}
	*out = nonce_pool[--nonce_left];
	nonce_pool[nonce_left] = 0;
	return 0;
}

/* ---- Encode ----------------------------------------------------------- */

int ias_secmgt_encode(struct ias_secmgt_msg *m, const struct ias_keyring *kr,
		      uint64_t now_ms, uint8_t out[IAS_MAD_SIZE])
{
	uint8_t tag[IAS_TAG_LEN];
	struct ias_wr w;
	size_t dlen = 0;
	int r;

	memset(out, 0, IAS_MAD_SIZE);
	if (!kr || kr->active_id == 0)
		return -ENOKEY;
	if (!method_known(m->method))
		return -EINVAL;
	if (!is_response(m->method) && (m->status || m->echo_nonce))
		return -EINVAL;
	r = ias_secmgt_encode_attr(m->method, m->status, m->attr_id, &m->u,
				   out + IAS_OFF_DATA, IAS_SECMGT_DATA_MAX, &dlen);
	if (r)
		goto fail;
	r = draw_nonce(&m->nonce);
	if (r)
		goto fail;
	m->key_id = kr->active_id;
	m->timestamp_ms = now_ms;
	m->data_len = (uint16_t)dlen;

	ias_wr_init(&w, out, IAS_OFF_DATA);
	r = ias_wr_u8(&w, IAS_MAD_BASE_VERSION) ?:
	    ias_wr_u8(&w, IAS_SECMGT_CLASS) ?:
	    ias_wr_u8(&w, IAS_SECMGT_CLASS_VERSION) ?:
	    ias_wr_u8(&w, m->method) ?:
	    ias_wr_u16(&w, m->status) ?:
	    ias_wr_zero(&w, 2) ?:                    /* class specific */
	    ias_wr_u64(&w, m->tid) ?:
	    ias_wr_u16(&w, m->attr_id) ?:
	    ias_wr_zero(&w, 2) ?:                    /* reserved */
	    ias_wr_u32(&w, m->attr_mod) ?:
	    ias_wr_zero(&w, IAS_RMPP_LEN + 1) ?:     /* RMPP, reserved */
	    ias_wr_u24(&w, IAS_SECMGT_OUI) ?:
	    ias_wr_u8(&w, IAS_SECMGT_VERSION) ?:
	    ias_wr_u8(&w, 0) ?:                      /* flags */
	    ias_wr_u16(&w, m->data_len) ?:
	    ias_wr_u32(&w, m->key_id) ?:
	    ias_wr_u64(&w, m->timestamp_ms) ?:
	    ias_wr_u64(&w, m->nonce) ?:
	    ias_wr_u64(&w, m->echo_nonce) ?:
	    ias_wr_zero(&w, IAS_TAG_LEN);
	if (r || w.off != IAS_OFF_DATA) {
		r = -EINVAL;
		goto fail;
	}
	r = ias_secmgt_compute_tag(kr, m->key_id, out, tag);
	if (r) {
		r = r == -ENOENT ? -ENOKEY : r;
		goto fail;
	}
	memcpy(out + IAS_OFF_TAG, tag, IAS_TAG_LEN);
	return 0;
fail:
	memset(out, 0, IAS_MAD_SIZE);
	return r;
}

/* ---- Decode ----------------------------------------------------------- */

struct hdr {
	uint8_t base_version, mclass, class_version, method;
	uint16_t status, class_specific, attr_id, reserved1, data_len;
	uint64_t tid, timestamp, nonce, echo_nonce;
	uint32_t attr_mod, oui, key_id;
	uint8_t reserved2, secmgt_version, flags;
	const uint8_t *rmpp, *tag;
};

static int read_hdr(const uint8_t *buf, struct hdr *h)
{
	struct ias_rd r;

	ias_rd_init(&r, buf, IAS_MAD_SIZE);
	return ias_rd_u8(&r, &h->base_version) ?:
	       ias_rd_u8(&r, &h->mclass) ?:
	       ias_rd_u8(&r, &h->class_version) ?:
	       ias_rd_u8(&r, &h->method) ?:
	       ias_rd_u16(&r, &h->status) ?:
	       ias_rd_u16(&r, &h->class_specific) ?:
	       ias_rd_u64(&r, &h->tid) ?:
	       ias_rd_u16(&r, &h->attr_id) ?:
	       ias_rd_u16(&r, &h->reserved1) ?:
	       ias_rd_u32(&r, &h->attr_mod) ?:
	       ias_rd_ptr(&r, &h->rmpp, IAS_RMPP_LEN) ?:
	       ias_rd_u8(&r, &h->reserved2) ?:
	       ias_rd_u24(&r, &h->oui) ?:
	       ias_rd_u8(&r, &h->secmgt_version) ?:
	       ias_rd_u8(&r, &h->flags) ?:
	       ias_rd_u16(&r, &h->data_len) ?:
	       ias_rd_u32(&r, &h->key_id) ?:
	       ias_rd_u64(&r, &h->timestamp) ?:
	       ias_rd_u64(&r, &h->nonce) ?:
	       ias_rd_u64(&r, &h->echo_nonce) ?:
	       ias_rd_ptr(&r, &h->tag, IAS_TAG_LEN) ?:
	       (r.off == IAS_OFF_DATA ? 0 : -EBADMSG);
}

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static enum ias_mad_reason decode(const uint8_t *buf, size_t len,
				  const struct ias_keyring *kr,
				  struct ias_replay *rp, uint64_t now_ms,
				  struct ias_secmgt_msg *out)
{
	uint8_t tag[IAS_TAG_LEN];
	enum ias_mad_reason why;
	struct hdr h;

	/* 1. length */
	if (!buf || len < IAS_MAD_SIZE)
		return IAS_MAD_TRUNCATED;
	if (len > IAS_MAD_SIZE)
		return IAS_MAD_BAD_LENGTH;
	if (read_hdr(buf, &h))
		return IAS_MAD_TRUNCATED;
	/* 2-6. common header identity, cheapest first */
	if (h.base_version != IAS_MAD_BASE_VERSION)
		return IAS_MAD_BAD_BASE_VERSION;
	if (h.mclass != IAS_SECMGT_CLASS)
		return IAS_MAD_BAD_CLASS;
	if (h.class_version != IAS_SECMGT_CLASS_VERSION)
		return IAS_MAD_BAD_CLASS_VERSION;
	if (h.oui != IAS_SECMGT_OUI)
		return IAS_MAD_BAD_OUI;
	if (!method_known(h.method))
		return IAS_MAD_BAD_METHOD;
	/* 7-8. SecMgt header */
	if (h.secmgt_version != IAS_SECMGT_VERSION)
		return IAS_MAD_BAD_SECMGT_VERSION;
	if (h.data_len > IAS_SECMGT_DATA_MAX)
		return IAS_MAD_BAD_LENGTH;
	/* 9. reserved fields and padding */
	if (h.class_specific || h.reserved1 || h.reserved2 || h.flags ||
	    !all_zero(h.rmpp, IAS_RMPP_LEN) ||
	    !all_zero(buf + IAS_OFF_DATA + h.data_len,
		      IAS_SECMGT_DATA_MAX - h.data_len))
		return IAS_MAD_RESERVED_NONZERO;
	if (!is_response(h.method) && (h.status || h.echo_nonce))
		return IAS_MAD_RESERVED_NONZERO;
	/* 10-11. key and tag */
	if (!kr || h.key_id == 0)
		return IAS_MAD_UNKNOWN_KEY;
	switch (ias_secmgt_compute_tag(kr, h.key_id, buf, tag)) {
	case 0:
		break;
	case -ENOENT:
		return IAS_MAD_UNKNOWN_KEY;
	default:
		return IAS_MAD_BAD_TAG; /* cannot verify: never accept */
	}
	if (CRYPTO_memcmp(tag, h.tag, IAS_TAG_LEN) != 0)
		return IAS_MAD_BAD_TAG;
	/* 12-13. freshness; remembers the nonce */
	if (rp) {
		why = ias_replay_check_and_remember(rp, h.timestamp, h.nonce, now_ms);
		if (why != IAS_MAD_OK)
			return why;
	}
	/* 14-16. attribute id for the method, data_len, fields */
	why = ias_secmgt_decode_attr(h.method, h.status, h.attr_id,
				     buf + IAS_OFF_DATA, h.data_len, &out->u);
	if (why != IAS_MAD_OK)
		return why;
	out->method = h.method;
	out->status = h.status;
	out->tid = h.tid;
	out->attr_id = h.attr_id;
	out->attr_mod = h.attr_mod;
	out->key_id = h.key_id;
	out->timestamp_ms = h.timestamp;
	out->nonce = h.nonce;
	out->echo_nonce = h.echo_nonce;
	out->data_len = h.data_len;
	return IAS_MAD_OK;
}

enum ias_mad_reason ias_secmgt_decode(const uint8_t *buf, size_t len,
				      const struct ias_keyring *kr,
				      struct ias_replay *rp, uint64_t now_ms,
				      struct ias_secmgt_msg *out)
{
	enum ias_mad_reason why;

	memset(out, 0, sizeof(*out));
	why = decode(buf, len, kr, rp, now_ms, out);
	if (why != IAS_MAD_OK)
		memset(out, 0, sizeof(*out));
	return why;
}

int ias_secmgt_init_response(const struct ias_secmgt_msg *req, uint16_t attr_id,
			     struct ias_secmgt_msg *resp)
{
	uint8_t method;

	switch (req->method) {
	case IAS_METHOD_GET:
	case IAS_METHOD_SET:
		method = IAS_METHOD_GET_RESP;
		break;
	case IAS_METHOD_REPORT:
		method = IAS_METHOD_REPORT_RESP;
		break;
	default:
		return -EINVAL;
	}
	memset(resp, 0, sizeof(*resp));
	resp->method = method;
	resp->tid = req->tid;
	resp->attr_id = attr_id;
	resp->attr_mod = req->attr_mod;
	resp->echo_nonce = req->nonce;
	return 0;
}

/* ---- Unauthenticated peeks -------------------------------------------- */

static int peek(const uint8_t *buf, size_t len, uint8_t *method, uint64_t *tid)
{
	struct hdr h;

	if (!buf || len != IAS_MAD_SIZE || read_hdr(buf, &h))
		return -EBADMSG;
	if (h.base_version != IAS_MAD_BASE_VERSION ||
	    h.mclass != IAS_SECMGT_CLASS ||
	    h.class_version != IAS_SECMGT_CLASS_VERSION ||
	    h.oui != IAS_SECMGT_OUI)
		return -EBADMSG;
	*method = h.method;
	*tid = h.tid;
	return 0;
}

int ias_secmgt_peek_tid_unauth(const uint8_t *buf, size_t len, uint64_t *tid)
{
	uint8_t method;

	*tid = 0;
	return peek(buf, len, &method, tid);
}

int ias_secmgt_peek_method_unauth(const uint8_t *buf, size_t len,
				  uint8_t *method)
{
	uint64_t tid;

	*method = 0;
	return peek(buf, len, method, &tid);
}
