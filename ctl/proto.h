/* The agent's local control protocol: framing, attribute codec, validation.
 *
 * Transport: AF_UNIX SOCK_SEQPACKET, one message per datagram, default path
 * IAS_CTL_DEFAULT_SOCKET (clients honour $IAS_SOCKET). The server learns the
 * caller from SO_PEERCRED; a PID is never taken from a message for
 * authorisation or QP ownership.
 *
 * Frame (big-endian, 24-byte header, then attributes):
 *   0 u32 magic "IASC"  4 u8 version  5 u8 kind  6 u16 op  8 u32 seq
 *  12 i32 status        16 u32 length (whole message)  20 u32 reserved (0)
 *  24 attributes: u16 type, u16 len, value[len]; no padding. Nested
 *     attributes carry a TLV list as their value.
 *
 * The full specification, the validation order and every op and attribute
 * are in docs/control-protocol.md. This library does no I/O, never prints and
 * never exits. */
#ifndef IAS_CTL_PROTO_H
#define IAS_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cursor.h"

#define IAS_CTL_MAGIC 0x49415343u /* "IASC" */
#define IAS_CTL_VERSION 1
#define IAS_CTL_HDR_LEN 24
#define IAS_CTL_ATTR_HDR_LEN 4
#define IAS_CTL_MAX_MSG 65536
#define IAS_CTL_MAX_DEPTH 4
#define IAS_CTL_DEFAULT_SOCKET "/run/ias/sema.sock"
#define IAS_CTL_MANAGER_SOCKET "/run/ias/sem.sock"
#define IAS_CTL_MANAGER_SOCKET_ENV "IAS_MANAGER_SOCKET"
#define IAS_CTL_SOCKET_ENV "IAS_SOCKET"
/* Group whose members (besides root) may call the privileged ops. */
#define IAS_CTL_GROUP "ias"

/* Header field offsets, pinned by _Static_assert in ctl/proto.c. */
#define IAS_CTL_OFF_MAGIC 0
#define IAS_CTL_OFF_VERSION 4
#define IAS_CTL_OFF_KIND 5
#define IAS_CTL_OFF_OP 6
#define IAS_CTL_OFF_SEQ 8
#define IAS_CTL_OFF_STATUS 12
#define IAS_CTL_OFF_LENGTH 16
#define IAS_CTL_OFF_RESERVED 20

enum ias_ctl_kind {
	IAS_CTL_REQUEST = 1,
	IAS_CTL_REPLY = 2,
	IAS_CTL_EVENT = 3,
};

/* Status codes. Carried negative in a reply's status field (0 = ok). They
 * live in their own range so they never collide with -errno values. */
enum ias_ctl_status {
	IAS_CTL_OK = 0,
	IAS_CTL_E_INVAL = -1001,      /* malformed request */
	IAS_CTL_E_PERM = -1002,       /* caller is neither root nor in group ias */
	IAS_CTL_E_NOENT = -1003,      /* no such process/block/incident/entry */
	IAS_CTL_E_NEVERBLOCK = -1004, /* target on the never-block list (needs override) */
	IAS_CTL_E_AGAIN = -1005,      /* nothing pending */
	IAS_CTL_E_EXIST = -1006,      /* already exists */
	IAS_CTL_E_BUSY = -1007,       /* busy, try again later */
	IAS_CTL_E_INTERNAL = -1008,   /* store failure: nothing was acknowledged */
	IAS_CTL_E_VERSION = -1009,    /* unsupported protocol version */
	IAS_CTL_E_TOOBIG = -1010,     /* message or reply would exceed the maximum */
};
#define IAS_CTL_E_FIRST IAS_CTL_E_TOOBIG
#define IAS_CTL_E_LAST IAS_CTL_E_INVAL

/* Ops. Requests and replies use 1..IAS_CTL_OP_MAX_REQ; events use 0x100+. */
enum ias_ctl_op {
	IAS_CTL_OP_STATUS = 1,
	IAS_CTL_OP_REPORT_ATTACK = 2,   /* R */
	IAS_CTL_OP_GET_ATTACK_PID = 3,  /* R */
	IAS_CTL_OP_RELEASE = 4,         /* R */
	IAS_CTL_OP_SUBSCRIBE = 5,       /* R */
	IAS_CTL_OP_QP_REGISTER = 6,
	IAS_CTL_OP_QP_UPDATE = 7,
	IAS_CTL_OP_QP_UNREGISTER = 8,
	IAS_CTL_OP_QPS_LIST = 9,
	IAS_CTL_OP_BLOCKS_LIST = 10,
	IAS_CTL_OP_BLOCK_INSPECT = 11,
	IAS_CTL_OP_INCIDENTS_LIST = 12,
	IAS_CTL_OP_INCIDENT_SHOW = 13,
	IAS_CTL_OP_ALLOW_LIST = 14,
	IAS_CTL_OP_ALLOW_ADD = 15,      /* R */
	IAS_CTL_OP_ALLOW_REMOVE = 16,   /* R */
	IAS_CTL_OP_POLICY_SHOW = 17,
	IAS_CTL_OP_POLICY_SET = 18,     /* R */
	/* Served by the manager (sem) only. */
	IAS_CTL_OP_FABRIC_STATUS = 19,
	/* Served by the agent. */
	IAS_CTL_OP_REPORT_QP = 20,      /* R: a local QP is under attack from its remote end */
	IAS_CTL_OP_MAX_REQ = 20,

	/* Events (kind 3), sent by the server unsolicited. */
	IAS_CTL_EV_ALERT = 0x100,       /* to SUBSCRIBE'd connections */
	IAS_CTL_EV_QP_ORDER = 0x101,    /* to a libias connection that registered the QP */
	IAS_CTL_EV_MAX = 0x101,
};

/* Attribute types: one namespace for the whole protocol; each type has one
 * wire form (see enum ias_ctl_wire) wherever it appears. */
enum ias_ctl_attr_type {
	IAS_CTL_A_MESSAGE = 1,          /* str: human explanation of a status != 0 */
	IAS_CTL_A_PID = 2,              /* u32 */
	IAS_CTL_A_REASON = 3,           /* str */
	IAS_CTL_A_OVERRIDE = 4,         /* u8 */
	IAS_CTL_A_DURATION_S = 5,       /* u32 */
	IAS_CTL_A_BLOCK = 6,            /* nested */
	IAS_CTL_A_INCIDENT_ID = 7,      /* str */
	IAS_CTL_A_BLOCK_ID = 8,         /* u64 */
	IAS_CTL_A_DRY_RUN = 9,          /* u8 */
	IAS_CTL_A_COUNT = 10,           /* u32 */
	IAS_CTL_A_RELEASE_NOTE = 11,    /* str */
	IAS_CTL_A_NODE = 12,            /* str */
	IAS_CTL_A_ORIGIN = 13,          /* str */
	IAS_CTL_A_TS_MS = 14,           /* u64 */
	IAS_CTL_A_QPN = 15,             /* u32 */
	IAS_CTL_A_QP_TYPE = 16,         /* u8, IBV_QPT_* numbering */
	IAS_CTL_A_QP_STATE = 17,        /* u8, IBV_QPS_* numbering */
	IAS_CTL_A_DEVICE = 18,          /* str */
	IAS_CTL_A_PORT = 19,            /* u32: port number of a QP */
	IAS_CTL_A_REMOTE_LID = 20,      /* u32 */
	IAS_CTL_A_REMOTE_GID = 21,      /* bytes[16] */
	IAS_CTL_A_REMOTE_QPN = 22,      /* u32 */
	IAS_CTL_A_SIMULATED = 23,       /* u8 */
	IAS_CTL_A_DEST = 24,            /* nested: REMOTE_LID, REMOTE_GID, REMOTE_QPN, TS_MS */
	IAS_CTL_A_QP = 25,              /* nested */
	IAS_CTL_A_COMM = 26,            /* str */
	IAS_CTL_A_SOURCE = 27,          /* str: kernel|libias|kernel+libias|simulated */
	IAS_CTL_A_BLOCKED = 28,         /* u8 */
	IAS_CTL_A_ALL = 29,             /* u8 */
	IAS_CTL_A_UID = 30,             /* u32 */
	IAS_CTL_A_EXE = 31,             /* str */
	IAS_CTL_A_MECHANISM = 32,       /* str */
	IAS_CTL_A_CREATED_MS = 33,      /* u64 */
	IAS_CTL_A_UNTIL_MS = 34,        /* u64, 0 = no end */
	IAS_CTL_A_RELEASED_MS = 35,     /* u64, 0 = active */
	IAS_CTL_A_OFFENCE = 36,         /* u32 */
	IAS_CTL_A_AUDIT = 37,           /* nested: TS_MS, ACTOR, ACTION, DETAIL */
	IAS_CTL_A_ACTOR = 38,           /* str */
	IAS_CTL_A_ACTION = 39,          /* str */
	IAS_CTL_A_DETAIL = 40,          /* str */
	IAS_CTL_A_INCIDENT = 41,        /* nested */
	IAS_CTL_A_OPENED_MS = 42,       /* u64 */
	IAS_CTL_A_ROOT_PID = 43,        /* u32 */
	IAS_CTL_A_STATE = 44,           /* str (incident state; in a status: the agent's readiness) */
	IAS_CTL_A_CLOSED_MS = 45,       /* u64, 0 = open */
	IAS_CTL_A_EVENT = 46,           /* nested: TS_MS, NODE, PID, QPN, KIND, TEXT */
	IAS_CTL_A_KIND = 47,            /* str */
	IAS_CTL_A_TEXT = 48,            /* str */
	IAS_CTL_A_ALLOW = 49,           /* nested */
	IAS_CTL_A_ALLOW_ID = 50,        /* u64 */
	IAS_CTL_A_VALUE = 51,           /* str */
	IAS_CTL_A_NOTE = 52,            /* str */
	IAS_CTL_A_POLICY = 53,          /* nested */
	IAS_CTL_A_LEVEL = 54,           /* str: basic|sibling|lca|selinux|zone */
	IAS_CTL_A_BLOCK_MODE = 55,      /* str: pause|cut|freeze|kill */
	IAS_CTL_A_BASE_DURATION_S = 56, /* u32 */
	IAS_CTL_A_MAX_DURATION_S = 57,  /* u32 */
	IAS_CTL_A_ESCALATION = 58,      /* u32 */
	IAS_CTL_A_HOP_LIMIT = 59,       /* u32 */
	IAS_CTL_A_FANOUT_LIMIT = 60,    /* u32 */
	IAS_CTL_A_POLICY_VERSION = 61,  /* u32 */
	IAS_CTL_A_STATUS = 62,          /* nested */
	IAS_CTL_A_AGENT_VERSION = 63,   /* str */
	IAS_CTL_A_UPTIME_S = 64,        /* u64 */
	IAS_CTL_A_BLOCKS_ACTIVE = 65,   /* u32 */
	IAS_CTL_A_BLOCKS_TOTAL = 66,    /* u32 */
	IAS_CTL_A_QPS_BLOCKED = 67,     /* u32 */
	IAS_CTL_A_QPS_KNOWN = 68,       /* u32 */
	IAS_CTL_A_INCIDENTS = 69,       /* u32 */
	IAS_CTL_A_ALERTS_PENDING = 70,  /* u32 */
	IAS_CTL_A_PORT_STATE = 71,      /* str: STATUS's "PORT", e.g. "mlx5_0/1 lid 3" */
	IAS_CTL_A_PEERS_REACHABLE = 72, /* u32 */
	IAS_CTL_A_PEERS_KNOWN = 73,     /* u32 */
	IAS_CTL_A_MADS_REJECTED = 74,   /* u64 */
	IAS_CTL_A_PEER = 75,            /* str: authenticated peer identity (e.g. TLS certificate subject) */
	/* The manager's fabric view (FABRIC_STATUS). */
	IAS_CTL_A_NODE_GUID = 76,       /* u64 */
	IAS_CTL_A_LID = 77,             /* u32 */
	IAS_CTL_A_AGENT = 78,           /* u8: an IAS agent answers on the node */
	IAS_CTL_A_REACHABLE = 79,       /* u8 */
	IAS_CTL_A_LAST_REPORT_MS = 80,  /* u64, 0 = none */
	IAS_CTL_A_FABRIC_NODE = 81,     /* nested: one node of the fabric */
	IAS_CTL_A_ROLE = 82,            /* str: manager role, active|standby */
	IAS_CTL_A_SM_LID = 83,          /* u32: the master SM's LID */
	IAS_CTL_A_SM_GUID = 84,         /* u64: the master SM's port GUID */
	IAS_CTL_A_NODE_TYPE = 85,       /* str: ca|switch|router */
	IAS_CTL_A_POLICY_STATE = 86,    /* str: current|pending|refused|unknown */
	IAS_CTL_A_REPORTS = 87,         /* u64: reports held */
	IAS_CTL_A_PEER_NODE = 88,       /* str: the node an EVENT's trace went to */
	IAS_CTL_A_REMOTE_SOURCE = 89,   /* str: where a QP's remote end was learned (qpt_remote_src_str) */
	IAS_CTL_A_TRACES_REFUSED = 90,  /* u64: traces refused as not bound to a connection */
	IAS_CTL_A_TRACE_WHERE = 91,     /* str: REPORT_QP's answer, where the trace went or why not */
	IAS_CTL_A_KERNEL_OBS = 92,      /* str: kernel observation (eBPF): active, off or why unavailable */
	IAS_CTL_A_MAX = 92,
};

/* The wire form of an attribute type. */
enum ias_ctl_wire {
	IAS_CTL_W_UNKNOWN = 0,
	IAS_CTL_W_U8,
	IAS_CTL_W_U32,
	IAS_CTL_W_U64,
	IAS_CTL_W_STR,
	IAS_CTL_W_GID,      /* exactly 16 bytes */
	IAS_CTL_W_NESTED,
};

/* String caps (bytes, excluding the terminating NUL a reader adds). Every
 * string attribute is capped at IAS_CTL_STR_MAX unless listed here. */
#define IAS_CTL_STR_MAX 4095
#define IAS_CTL_REASON_MAX 255
#define IAS_CTL_INCIDENT_ID_MAX 31
#define IAS_CTL_NODE_MAX 63
#define IAS_CTL_ORIGIN_MAX 15
#define IAS_CTL_DEVICE_MAX 63
#define IAS_CTL_COMM_MAX 15
#define IAS_CTL_MESSAGE_MAX 1023
#define IAS_CTL_PEER_MAX 255
#define IAS_CTL_NAME_MAX 63 /* KIND, LEVEL, BLOCK_MODE, MECHANISM, SOURCE, ACTION, STATE, ACTOR */

struct ias_ctl_hdr {
	uint8_t version, kind;
	uint16_t op;
	uint32_t seq;
	int32_t status;
	uint32_t length;
};

/* A message being built in a caller-supplied buffer. Errors are sticky: the
 * first failure (-ENOSPC out of room, -EINVAL misuse such as nesting deeper
 * than IAS_CTL_MAX_DEPTH or an attribute longer than 65535 bytes) is kept in
 * err, later puts are ignored, and ias_ctl_msg_finish returns it. */
struct ias_ctl_msg {
	uint8_t *buf;
	size_t cap, len;
	size_t nest_at[IAS_CTL_MAX_DEPTH];
	int depth;
	int err;
};

/* Start a message: writes the header (length patched by finish). cap is
 * clamped to IAS_CTL_MAX_MSG; cap < IAS_CTL_HDR_LEN sets err = -ENOSPC. */
void ias_ctl_msg_init(struct ias_ctl_msg *m, void *buf, size_t cap, uint8_t kind,
		      uint16_t op, uint32_t seq, int32_t status);
void ias_ctl_put_u8(struct ias_ctl_msg *m, uint16_t type, uint8_t v);
void ias_ctl_put_u32(struct ias_ctl_msg *m, uint16_t type, uint32_t v);
void ias_ctl_put_u64(struct ias_ctl_msg *m, uint16_t type, uint64_t v);
/* Writes strlen(s) bytes, no NUL. s == NULL writes nothing. */
void ias_ctl_put_str(struct ias_ctl_msg *m, uint16_t type, const char *s);
void ias_ctl_put_bytes(struct ias_ctl_msg *m, uint16_t type, const void *p, size_t n);
void ias_ctl_nest_begin(struct ias_ctl_msg *m, uint16_t type);
void ias_ctl_nest_end(struct ias_ctl_msg *m);
/* Patches the length field. Returns 0, or m->err, or -EINVAL if a nest is
 * still open. The message is m->buf[0..m->len). */
int ias_ctl_msg_finish(struct ias_ctl_msg *m);
/* Set the seq of an already built message (e.g. a client assigning seq at
 * send time). */
void ias_ctl_msg_set_seq(struct ias_ctl_msg *m, uint32_t seq);

/* Parse and check the header (validation steps 1-8 of the documented order:
 * IAS_CTL_HDR_LEN <= size <= IAS_CTL_MAX_MSG, magic, version, kind, reserved
 * zero, length == len, op known for the kind, status (0 in requests and
 * events, <= 0 in replies)). On return h holds every field that could be read
 * (zeroed otherwise), so a server can echo seq/op in an error reply whenever
 * len >= IAS_CTL_HDR_LEN. attrs (may be NULL) is set to the attribute area.
 * Returns 0, IAS_CTL_E_TOOBIG (size > IAS_CTL_MAX_MSG), IAS_CTL_E_VERSION
 * (bad version) or IAS_CTL_E_INVAL. */
int ias_ctl_parse_hdr(const void *buf, size_t len, struct ias_ctl_hdr *h, struct ias_rd *attrs);

struct ias_ctl_attr {
	uint16_t type;
	uint16_t len;
	const uint8_t *val;
};

/* Next attribute of a TLV list: 1 got one, 0 end, IAS_CTL_E_INVAL when the
 * attribute header or value runs past the end. */
int ias_ctl_next(struct ias_rd *r, struct ias_ctl_attr *a);
/* Fixed-width getters: exact length required; 0 or IAS_CTL_E_INVAL (out is
 * zeroed on error). */
int ias_ctl_get_u8(const struct ias_ctl_attr *a, uint8_t *out);
int ias_ctl_get_u32(const struct ias_ctl_attr *a, uint32_t *out);
int ias_ctl_get_u64(const struct ias_ctl_attr *a, uint64_t *out);
/* Exactly n bytes (e.g. a GID). */
int ias_ctl_get_bytes(const struct ias_ctl_attr *a, void *out, size_t n);
/* Copies a string attribute NUL-terminated into out. Validates it (no NUL,
 * no control character < 0x20 or 0x7f) and fails with IAS_CTL_E_INVAL if it
 * does not fit in outlen (len + 1 > outlen); out is "" on error. */
int ias_ctl_get_str(const struct ias_ctl_attr *a, char *out, size_t outlen);
/* Reader over a nested attribute's TLV list. */
void ias_ctl_attr_nested(const struct ias_ctl_attr *a, struct ias_rd *inner);

/* Full structural validation (header, then every attribute recursively, with
 * the per-op rules). Requests are strict: only the op's attributes, each at
 * most once at top level, required ones present, RELEASE has exactly one
 * selector. Replies and events are lenient about unknown attribute types
 * (skipped, for forward compatibility) but known types must have their exact
 * wire form and caps. Returns 0 or the code of ias_ctl_parse_hdr. */
int ias_ctl_validate(const void *buf, size_t len);
/* Same, and writes a human explanation of the first failure into why
 * (may be NULL), suitable for a reply's MESSAGE attribute. */
int ias_ctl_validate_msg(const void *buf, size_t len, char *why, size_t whylen);

/* Build a complete error reply (status != 0 plus MESSAGE) into buf. Returns
 * the message length (> 0) or -ENOSPC. */
int ias_ctl_build_error(void *buf, size_t cap, uint16_t op, uint32_t seq, int32_t status,
			const char *message);

/* Fixed text for a status code ("unknown status" if not one). */
const char *ias_ctl_strerror(int status);
/* "STATUS", "REPORT_ATTACK", ..., "ALERT", "QP_ORDER"; NULL if unknown. */
const char *ias_ctl_op_name(uint16_t op);
/* "BLOCK_ID", ...; NULL if unknown. */
const char *ias_ctl_attr_name(uint16_t type);
/* Wire form of a type; IAS_CTL_W_UNKNOWN if unknown. */
enum ias_ctl_wire ias_ctl_attr_wire(uint16_t type);
/* Does the op require root or group ias? (false for unknown ops) */
bool ias_ctl_op_privileged(uint16_t op);

#endif
