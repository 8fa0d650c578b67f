/* SecMgt: the IAS management class on the wire, and its authenticator.
 *
 * A pure library: it encodes, authenticates, decodes and verifies the 256-byte
 * SecMgt MADs that the agent (sema), the manager (sem) and the test tools send
 * and receive through libibumad themselves. No I/O besides OpenSSL's CSPRNG;
 * it never prints and never exits. Functions return 0 / negative errno, or an
 * enum ias_mad_reason for the decoder.
 *
 * The wire format, the validation order and the reason codes are specified in
 * docs/secmgt-protocol.md; the API in mad_defs/ias_secmgt.3.
 *
 * Thread safety: a keyring or replay guard must not be used by two threads at
 * once (each key keeps a reusable HMAC context). Everything else is
 * reentrant. */
#ifndef IAS_MAD_DEFS_SECMGT_H
#define IAS_MAD_DEFS_SECMGT_H

#include <stddef.h>
#include <stdint.h>

/* ---- Fixed numbers --------------------------------------------------- */

#define IAS_MAD_SIZE              256
#define IAS_MAD_BASE_VERSION      1
#define IAS_SECMGT_CLASS          0x43     /* vendor range 2 (0x30-0x4f) */
#define IAS_SECMGT_CLASS_VERSION  1
#define IAS_SECMGT_OUI            0x0A1A5Cu /* locally administered */
#define IAS_SECMGT_VERSION        1        /* byte 40: SecMgt payload version */

/* Methods (common MAD header byte 3). */
#define IAS_METHOD_GET            0x01
#define IAS_METHOD_SET            0x02
#define IAS_METHOD_REPORT         0x06
#define IAS_METHOD_GET_RESP       0x81
#define IAS_METHOD_REPORT_RESP    0x86

/* Byte offsets in the 256-byte MAD. */
enum ias_mad_off {
	IAS_OFF_BASE_VERSION   = 0,
	IAS_OFF_CLASS          = 1,
	IAS_OFF_CLASS_VERSION  = 2,
	IAS_OFF_METHOD         = 3,
	IAS_OFF_STATUS         = 4,   /* u16 */
	IAS_OFF_CLASS_SPECIFIC = 6,   /* u16, zero */
	IAS_OFF_TID            = 8,   /* u64; bytes 8..11 not authenticated */
	IAS_OFF_ATTR_ID        = 16,  /* u16 */
	IAS_OFF_RESERVED1      = 18,  /* u16, zero */
	IAS_OFF_ATTR_MOD       = 20,  /* u32 */
	IAS_OFF_RMPP           = 24,  /* 12 bytes, zero (no RMPP) */
	IAS_OFF_RESERVED2      = 36,  /* u8, zero */
	IAS_OFF_OUI            = 37,  /* u24 */
	IAS_OFF_SECMGT_VERSION = 40,  /* u8 */
	IAS_OFF_FLAGS          = 41,  /* u8, zero */
	IAS_OFF_DATA_LEN       = 42,  /* u16 */
	IAS_OFF_KEY_ID         = 44,  /* u32 */
	IAS_OFF_TIMESTAMP      = 48,  /* u64, ms since the epoch (sender's clock) */
	IAS_OFF_NONCE          = 56,  /* u64 */
	IAS_OFF_ECHO_NONCE     = 64,  /* u64 */
	IAS_OFF_TAG            = 72,  /* 16 bytes */
	IAS_OFF_DATA           = 88,  /* attribute data */
};
#define IAS_RMPP_LEN       12
#define IAS_TAG_LEN        16
#define IAS_TID_UNAUTH_LEN 4      /* TID bytes 8..11: rewritten in flight */
#define IAS_SECMGT_DATA_MAX (IAS_MAD_SIZE - IAS_OFF_DATA) /* 168 */

/* Attribute ids (common MAD header bytes 16..17). */
enum ias_attr_id {
	IAS_ATTR_CLASS_PORT_INFO = 0x0001,
	IAS_ATTR_TRACE           = 0x0010,
	IAS_ATTR_TRACE_RESULT    = 0x0011,
	IAS_ATTR_BLOCK           = 0x0012,
	IAS_ATTR_RELEASE         = 0x0013,
	IAS_ATTR_POLICY          = 0x0014,
	IAS_ATTR_STATUS          = 0x0015,
	IAS_ATTR_REPORT          = 0x0016,
	IAS_ATTR_MIRROR          = 0x0017,
	IAS_ATTR_AGENT_LIST      = 0x0018,
};

/* MAD status (bytes 4..5). Requests carry 0. A response with a non-zero
 * status carries no attribute data (data_len 0). Bits 2..4 follow the common
 * MAD status codes; bits 8..15 are SecMgt's own. */
enum ias_mad_status {
	IAS_STATUS_OK                = 0x0000,
	IAS_STATUS_BUSY              = 0x0001, /* try again later */
	IAS_STATUS_BAD_VERSION       = 0x0004, /* class/secmgt version unsupported */
	IAS_STATUS_METHOD_UNSUPP     = 0x0008,
	IAS_STATUS_METHOD_ATTR_UNSUPP = 0x000C,
	IAS_STATUS_INVALID_VALUE     = 0x001C, /* attribute field out of range */
	IAS_STATUS_STALE             = 0x0100, /* timestamp outside the window */
	IAS_STATUS_INTERNAL          = 0x0200, /* responder failed (store, ...) */
	IAS_STATUS_NOT_FOUND         = 0x0300, /* no such PID/incident/block */
	IAS_STATUS_REFUSED           = 0x0400, /* refused by policy/allowlist */
	IAS_STATUS_WRONG_ROLE        = 0x0500, /* this node does not serve that */
};

/* ---- Attribute enums ------------------------------------------------- */

enum ias_role { IAS_ROLE_AGENT = 1, IAS_ROLE_MANAGER = 2 };

/* ClassPortInfo capability bits (unknown bits are ignored by receivers). */
#define IAS_CAP_TRACE    (1u << 0)
#define IAS_CAP_BLOCK    (1u << 1)
#define IAS_CAP_RELEASE  (1u << 2)
#define IAS_CAP_POLICY   (1u << 3)
#define IAS_CAP_STATUS   (1u << 4)
#define IAS_CAP_REPORT   (1u << 5)   /* accepts Report (manager) */

enum ias_search_level {
	IAS_SEARCH_BASIC   = 0,
	IAS_SEARCH_SIBLING = 1,
	IAS_SEARCH_LCA     = 2,
	IAS_SEARCH_SELINUX = 3,
	IAS_SEARCH_ZONE    = 4,
};
#define IAS_SEARCH_MAX IAS_SEARCH_ZONE

enum ias_block_mode {
	IAS_BLOCK_PAUSE  = 0,
	IAS_BLOCK_CUT    = 1,
	IAS_BLOCK_FREEZE = 2,
	IAS_BLOCK_KILL   = 3,
};
#define IAS_BLOCK_MODE_MAX IAS_BLOCK_KILL

/* Why a trace was sent. */
enum ias_trace_reason {
	IAS_TREASON_ATTACK_REPORTED = 1, /* the origin's analyzer reported it */
	IAS_TREASON_TRACE_HOP       = 2, /* forwarded along a conspirator's QP */
	IAS_TREASON_MANUAL          = 3, /* an operator asked */
	IAS_TREASON_MANAGER         = 4, /* the manager asked */
};
#define IAS_TREASON_MAX IAS_TREASON_MANAGER

#define IAS_TRACE_F_DRY_RUN   (1u << 0)
#define IAS_TRACE_F_MASK      IAS_TRACE_F_DRY_RUN

enum ias_trace_result_code {
	IAS_TRESULT_BLOCKED     = 1,
	IAS_TRESULT_DUPLICATE   = 2, /* incident already handled here */
	IAS_TRESULT_NO_OWNER    = 3, /* no process owns DestinationQP */
	IAS_TRESULT_ALLOWLISTED = 4,
	IAS_TRESULT_DRY_RUN     = 5, /* would have blocked */
	IAS_TRESULT_HOP_LIMIT   = 6,
	IAS_TRESULT_ERROR       = 7,
	IAS_TRESULT_NOT_CONNECTED = 8, /* DestinationQP is not connected to the sender */
};
#define IAS_TRESULT_MAX IAS_TRESULT_NOT_CONNECTED

#define IAS_TRESULT_F_TRUNCATED (1u << 0) /* lists did not hold everything */
#define IAS_TRESULT_F_MASK      IAS_TRESULT_F_TRUNCATED

enum ias_scope {
	IAS_SCOPE_PID      = 1,
	IAS_SCOPE_INCIDENT = 2,
	IAS_SCOPE_BLOCK    = 3, /* Release only: one block record id */
};

#define IAS_BLOCK_F_DRY_RUN   (1u << 0)
#define IAS_BLOCK_F_OVERRIDE  (1u << 1) /* block even an allowlisted target */
#define IAS_BLOCK_F_MASK      (IAS_BLOCK_F_DRY_RUN | IAS_BLOCK_F_OVERRIDE)

#define IAS_RELEASE_F_DRY_RUN (1u << 0)
#define IAS_RELEASE_F_MASK    IAS_RELEASE_F_DRY_RUN

#define IAS_POLICY_F_DRY_RUN  (1u << 0)
#define IAS_POLICY_F_MASK     IAS_POLICY_F_DRY_RUN

enum ias_report_kind {
	IAS_REPORT_BLOCK       = 1,
	IAS_REPORT_RELEASE     = 2,
	IAS_REPORT_UNREACHABLE = 3, /* a trace hop did not answer */
	IAS_REPORT_HOP         = 4, /* a trace hop was sent */
};
#define IAS_REPORT_KIND_MAX IAS_REPORT_HOP

#define IAS_QPN_MAX 0xFFFFFFu

/* ---- Attribute layouts ------------------------------------------------
 * All big-endian; every size and offset pinned in secmgt.c. A QPN is a u32
 * whose top byte is reserved (zero). Strings are fixed-size, NUL-padded,
 * contain a NUL, and hold only printable ASCII (0x20..0x7e) before it. */

/* ClassPortInfo (IAS_ATTR_CLASS_PORT_INFO): Get -> GetResp. */
enum ias_cpi_off {
	IAS_CPI_PROTO_VERSION = 0,  /* u8 */
	IAS_CPI_ROLE          = 1,  /* u8 enum ias_role */
	IAS_CPI_RESP_TIME     = 2,  /* u8, 0..31: 4.096 us * 2^v */
	IAS_CPI_RESERVED      = 3,  /* u8 */
	IAS_CPI_CAP_MASK      = 4,  /* u32 */
	IAS_CPI_NODE_GUID     = 8,  /* u64 */
	IAS_CPI_NODE_DESC     = 16, /* char[65] */
	IAS_CPI_RESERVED2     = 81, /* 3 bytes */
	IAS_CPI_SIZE          = 84,
};
#define IAS_NODE_DESC_SIZE 65 /* up to 64 characters + NUL */
#define IAS_RESP_TIME_MAX  31

struct ias_attr_cpi {
	uint8_t proto_version;
	uint8_t role;
	uint8_t resp_time_value;
	uint32_t cap_mask;
	uint64_t node_guid;
	char node_desc[IAS_NODE_DESC_SIZE];
};

/* Trace (IAS_ATTR_TRACE): Set -> GetResp carrying TraceResult. */
enum ias_trace_off {
	IAS_TRACE_INCIDENT    = 0,  /* u64 */
	IAS_TRACE_ORIGIN_GUID = 8,  /* u64 */
	IAS_TRACE_SENDER_GUID = 16, /* u64 */
	IAS_TRACE_DEST_QPN    = 24, /* qpn: on the receiver, traced from */
	IAS_TRACE_SENDER_QPN  = 28, /* qpn: the sender's end it arrived through */
	IAS_TRACE_HOP_COUNT   = 32, /* u8 */
	IAS_TRACE_HOP_LIMIT   = 33, /* u8 */
	IAS_TRACE_FANOUT      = 34, /* u8 */
	IAS_TRACE_SEARCH      = 35, /* u8 enum ias_search_level */
	IAS_TRACE_FLAGS       = 36, /* u16 IAS_TRACE_F_* */
	IAS_TRACE_REASON      = 38, /* u16 enum ias_trace_reason */
	IAS_TRACE_SIZE        = 40,
};

struct ias_attr_trace {
	uint64_t incident_id;
	uint64_t origin_guid;
	uint64_t sender_guid;
	uint32_t dest_qpn;
	uint32_t sender_qpn;
	uint8_t hop_count;
	uint8_t hop_limit;
	uint8_t fanout_limit;
	uint8_t search_level;
	uint16_t flags;
	uint16_t reason;
};

/* TraceResult (IAS_ATTR_TRACE_RESULT): GetResp to a Trace. */
#define IAS_TRACE_MAX_QPNS 16
#define IAS_TRACE_MAX_HOPS 12
#define IAS_HOP_SIZE       6  /* u16 lid, qpn */
enum ias_tresult_off {
	IAS_TRES_INCIDENT    = 0,  /* u64 */
	IAS_TRES_RESPONDER   = 8,  /* u64 GUID */
	IAS_TRES_RESULT      = 16, /* u8 enum ias_trace_result_code */
	IAS_TRES_FLAGS       = 17, /* u8 IAS_TRESULT_F_* */
	IAS_TRES_N_QPNS      = 18, /* u8 <= IAS_TRACE_MAX_QPNS */
	IAS_TRES_N_HOPS      = 19, /* u8 <= IAS_TRACE_MAX_HOPS */
	IAS_TRES_OWNER_PID   = 20, /* u32 */
	IAS_TRES_QPS_BLOCKED = 24, /* u32: total, may exceed the list */
	IAS_TRES_QPNS        = 28, /* qpn[16]; unused entries zero */
	IAS_TRES_HOPS        = 92, /* {u16 lid, qpn}[12]; unused entries zero */
	IAS_TRES_SIZE        = 164,
};

struct ias_hop {
	uint16_t lid;
	uint32_t qpn;
};

struct ias_attr_trace_result {
	uint64_t incident_id;
	uint64_t responder_guid;
	uint8_t result;
	uint8_t flags;
	uint8_t n_qpns;
	uint8_t n_hops;
	uint32_t owner_pid;
	uint32_t qps_blocked;
	uint32_t qpns[IAS_TRACE_MAX_QPNS];
	struct ias_hop hops[IAS_TRACE_MAX_HOPS];
};

/* Block (IAS_ATTR_BLOCK): Set -> GetResp (echo, block_id filled in). */
#define IAS_REASON_TEXT_SIZE 64
enum ias_block_off {
	IAS_BLOCK_SCOPE     = 0,  /* u8 IAS_SCOPE_PID or _INCIDENT */
	IAS_BLOCK_FLAGS     = 1,  /* u8 IAS_BLOCK_F_* */
	IAS_BLOCK_RESERVED  = 2,  /* u16 */
	IAS_BLOCK_PID       = 4,  /* u32; non-zero for PID scope */
	IAS_BLOCK_INCIDENT  = 8,  /* u64; non-zero for incident scope */
	IAS_BLOCK_ID        = 16, /* u64; 0 in a Set, assigned id in GetResp */
	IAS_BLOCK_DURATION  = 24, /* u32 seconds, 0 = policy's choice */
	IAS_BLOCK_RESERVED2 = 28, /* u32 */
	IAS_BLOCK_REASON    = 32, /* char[64] */
	IAS_BLOCK_SIZE      = 96,
};

struct ias_attr_block {
	uint8_t scope;
	uint8_t flags;
	uint32_t pid;
	uint64_t incident_id;
	uint64_t block_id;
	uint32_t duration_s;
	char reason[IAS_REASON_TEXT_SIZE];
};

/* Release (IAS_ATTR_RELEASE): Set -> GetResp (echo, released filled in). */
enum ias_release_off {
	IAS_REL_SCOPE    = 0,  /* u8 enum ias_scope */
	IAS_REL_FLAGS    = 1,  /* u8 IAS_RELEASE_F_* */
	IAS_REL_RESERVED = 2,  /* u16 */
	IAS_REL_RELEASED = 4,  /* u32; 0 in a Set, count released in GetResp */
	IAS_REL_ID       = 8,  /* u64 PID / incident id / block id, non-zero */
	IAS_REL_SIZE     = 16,
};

struct ias_attr_release {
	uint8_t scope;
	uint8_t flags;
	uint32_t released;
	uint64_t id;
};

/* Policy (IAS_ATTR_POLICY): Get -> GetResp, Set -> GetResp. */
enum ias_policy_off {
	IAS_POL_VERSION      = 0,  /* u32 */
	IAS_POL_SEARCH       = 4,  /* u8 enum ias_search_level */
	IAS_POL_BLOCK_MODE   = 5,  /* u8 enum ias_block_mode */
	IAS_POL_FLAGS        = 6,  /* u8 IAS_POLICY_F_* */
	IAS_POL_HOP_LIMIT    = 7,  /* u8 */
	IAS_POL_FANOUT       = 8,  /* u8 */
	IAS_POL_RESERVED     = 9,  /* u8 */
	IAS_POL_ESCALATION   = 10, /* u16 factor x100, >= 100 */
	IAS_POL_BASE_DUR     = 12, /* u32 s, > 0 */
	IAS_POL_MAX_DUR      = 16, /* u32 s, >= base */
	IAS_POL_RESERVED2    = 20, /* u32 */
	IAS_POL_SIZE         = 24,
};

struct ias_attr_policy {
	uint32_t policy_version;
	uint8_t search_level;
	uint8_t block_mode;
	uint8_t flags;
	uint8_t hop_limit;
	uint8_t fanout_limit;
	uint16_t escalation_x100;
	uint32_t base_duration_s;
	uint32_t max_duration_s;
};

/* Status (IAS_ATTR_STATUS): Get -> GetResp. */
enum ias_status_off {
	IAS_ST_NODE_GUID     = 0,  /* u64 */
	IAS_ST_UPTIME        = 8,  /* u64 s */
	IAS_ST_ACTIVE_BLOCKS = 16, /* u32 */
	IAS_ST_POLICY_VER    = 20, /* u32 */
	IAS_ST_TOTAL_BLOCKS  = 24, /* u64 */
	IAS_ST_QPS_KNOWN     = 32, /* u32 */
	IAS_ST_QPS_BLOCKED   = 36, /* u32 */
	IAS_ST_INCIDENTS     = 40, /* u64 */
	IAS_ST_MADS_REJECTED = 48, /* u64 */
	IAS_ST_SIZE          = 56,
};

struct ias_attr_status {
	uint64_t node_guid;
	uint64_t uptime_s;
	uint32_t active_blocks;
	uint32_t policy_version;
	uint64_t total_blocks;
	uint32_t qps_known;
	uint32_t qps_blocked;
	uint64_t incidents;
	uint64_t mads_rejected;
};

/* Report (IAS_ATTR_REPORT): Report -> ReportResp (echo), agent -> manager. */
#define IAS_COMM_SIZE 16
enum ias_report_off {
	IAS_REP_SEQ        = 0,  /* u64, per-agent, for exactly-once delivery */
	IAS_REP_INCIDENT   = 8,  /* u64 */
	IAS_REP_NODE_GUID  = 16, /* u64 */
	IAS_REP_EVENT_MS   = 24, /* u64 ms since the epoch */
	IAS_REP_BLOCK_ID   = 32, /* u64; block/release: the record, else 0 */
	IAS_REP_KIND       = 40, /* u8 enum ias_report_kind */
	IAS_REP_RESERVED   = 41, /* u8 */
	IAS_REP_PEER_LID   = 42, /* u16; unreachable/hop: the peer, else 0 */
	IAS_REP_PEER_QPN   = 44, /* qpn; unreachable/hop: the peer's QP */
	IAS_REP_PID        = 48, /* u32 */
	IAS_REP_QP_COUNT   = 52, /* u32 */
	IAS_REP_COMM       = 56, /* char[16] */
	IAS_REP_SIZE       = 72,
};

struct ias_attr_report {
	uint64_t seq;
	uint64_t incident_id;
	uint64_t node_guid;
	uint64_t event_time_ms;
	uint64_t block_id;
	uint8_t kind;
	uint16_t peer_lid;
	uint32_t peer_qpn;
	uint32_t pid;
	uint32_t qp_count;
	char comm[IAS_COMM_SIZE];
};

/* Mirror (IAS_ATTR_MIRROR): Get -> GetResp, agent -> agent. The one Get
 * that carries data: the asker's QP pair. The answer says whether the
 * responder holds the mirror QP (QPN remote_qpn whose remote QPN is
 * asker_qpn) and how well it matched (docs/secmgt-protocol.md). */
enum ias_mirq_off {
	IAS_MIRQ_ASKER_GUID  = 0,  /* u64: the asker's node GUID */
	IAS_MIRQ_ASKER_QPN   = 8,  /* qpn L, non-zero: the asker's QP */
	IAS_MIRQ_REMOTE_QPN  = 12, /* qpn R, non-zero: its remote QPN */
	IAS_MIRQ_SIZE        = 16,
};

struct ias_attr_mirror_q {
	uint64_t asker_guid;
	uint32_t asker_qpn;
	uint32_t remote_qpn;
};

enum ias_mirror_match {
	IAS_MIRROR_NOT_FOUND = 0, /* no QP R with remote QPN L here */
	IAS_MIRROR_QPN       = 1, /* QP R has remote QPN L; its remote address
				   * is unknown or not the asker's */
	IAS_MIRROR_EXACT     = 2, /* ... and its remote LID/GID is the Get's source */
};
#define IAS_MIRROR_MATCH_MAX IAS_MIRROR_EXACT

enum ias_mira_off {
	IAS_MIRA_RESPONDER   = 0,  /* u64: the responder's node GUID */
	IAS_MIRA_ASKER_GUID  = 8,  /* u64: echo */
	IAS_MIRA_ASKER_QPN   = 16, /* qpn: echo of L */
	IAS_MIRA_QPN         = 20, /* qpn: R when found, else 0 */
	IAS_MIRA_MATCH       = 24, /* u8 enum ias_mirror_match */
	IAS_MIRA_RESERVED    = 25, /* 3 bytes */
	IAS_MIRA_SIZE        = 28,
};

struct ias_attr_mirror_a {
	uint64_t responder_guid;
	uint64_t asker_guid;
	uint32_t asker_qpn;
	uint32_t qpn;
	uint8_t match;
};

/* AgentList (IAS_ATTR_AGENT_LIST): Set -> GetResp (echo), manager -> agent.
 * One segment of the manager's list of agents: entries first..first+count-1
 * of total, all of generation `generation`. */
#define IAS_AGENT_LIST_PER_MAD 5
#define IAS_AGENT_LIST_MAX     4096 /* agents in one list at most */
#define IAS_AGENT_ENTRY_SIZE   28   /* u64 guid, u16 lid, u16 rsv, gid[16] */
enum ias_alist_off {
	IAS_AL_GENERATION = 0,  /* u32, non-zero */
	IAS_AL_TOTAL      = 4,  /* u16 <= IAS_AGENT_LIST_MAX */
	IAS_AL_FIRST      = 6,  /* u16: index of entries[0] in the list */
	IAS_AL_COUNT      = 8,  /* u8 <= IAS_AGENT_LIST_PER_MAD */
	IAS_AL_FLAGS      = 9,  /* u8, zero */
	IAS_AL_RESERVED   = 10, /* u16 */
	IAS_AL_ENTRIES    = 12, /* entry[5]; unused entries zero */
	IAS_AL_SIZE       = 152,
};

struct ias_agent_entry {
	uint64_t node_guid;
	uint16_t lid;		/* 0: reached by GID only */
	uint8_t gid[16];	/* all zero: no GID (InfiniBand) */
};

struct ias_attr_agent_list {
	uint32_t generation;
	uint16_t total;
	uint16_t first;
	uint8_t count;
	struct ias_agent_entry e[IAS_AGENT_LIST_PER_MAD];
};

union ias_secmgt_attr {
	struct ias_attr_cpi cpi;
	struct ias_attr_trace trace;
	struct ias_attr_trace_result tres;
	struct ias_attr_block block;
	struct ias_attr_release release;
	struct ias_attr_policy policy;
	struct ias_attr_status status;
	struct ias_attr_report report;
	struct ias_attr_mirror_q mirq;
	struct ias_attr_mirror_a mira;
	struct ias_attr_agent_list alist;
};

/* A decoded (or to-be-encoded) SecMgt MAD, host order. */
struct ias_secmgt_msg {
	uint8_t method;
	uint16_t status;
	uint64_t tid;          /* as on the wire; top 32 bits unauthenticated */
	uint16_t attr_id;
	uint32_t attr_mod;
	uint32_t key_id;       /* set by encode */
	uint64_t timestamp_ms; /* set by encode */
	uint64_t nonce;        /* set by encode */
	uint64_t echo_nonce;   /* response: the request's nonce; request: 0 */
	uint16_t data_len;     /* set by encode and decode */
	union ias_secmgt_attr u;
};

/* ---- Reasons --------------------------------------------------------- */

/* Why the decoder accepted or rejected a buffer (see the validation order in
 * docs/secmgt-protocol.md). Stable numbers: daemons count them. */
enum ias_mad_reason {
	IAS_MAD_OK = 0,
	IAS_MAD_TRUNCATED,          /* shorter than 256 bytes */
	IAS_MAD_BAD_BASE_VERSION,
	IAS_MAD_BAD_CLASS,
	IAS_MAD_BAD_CLASS_VERSION,
	IAS_MAD_BAD_OUI,
	IAS_MAD_BAD_METHOD,         /* not one of the five SecMgt methods */
	IAS_MAD_BAD_SECMGT_VERSION,
	IAS_MAD_BAD_LENGTH,         /* longer than 256, or data_len wrong */
	IAS_MAD_RESERVED_NONZERO,   /* reserved, padding or request-only zeros */
	IAS_MAD_UNKNOWN_KEY,
	IAS_MAD_BAD_TAG,
	IAS_MAD_STALE,              /* timestamp outside now +- window */
	IAS_MAD_REPLAY,             /* nonce already seen */
	IAS_MAD_UNKNOWN_ATTR,
	IAS_MAD_BAD_ATTR_FOR_METHOD, /* known attribute, wrong method */
	IAS_MAD_BAD_VALUE,          /* attribute field out of range */
	IAS_MAD_BAD_STRING,         /* string without NUL / not printable */
	IAS_MAD_REASON_COUNT
};

const char *ias_mad_reason_str(enum ias_mad_reason r);

/* ---- Keyring --------------------------------------------------------- */

#define IAS_KEYRING_MAX 16
#define IAS_KEY_MIN_LEN 32
#define IAS_KEY_MAX_LEN 64

struct ias_keyslot {
	uint32_t id;           /* non-zero when the slot is used */
	void *mac_ctx;         /* EVP_MAC_CTX keyed with this key */
};

struct ias_keyring {
	struct ias_keyslot keys[IAS_KEYRING_MAX];
	uint32_t active_id;    /* 0: no active key */
	void *mac;             /* EVP_MAC (HMAC) */
};

/* 0, -ENOMEM or -EIO (OpenSSL could not provide HMAC-SHA256). */
int ias_keyring_init(struct ias_keyring *kr);
/* Add key `id` (non-zero) of 32..64 bytes. 0, -EINVAL, -EEXIST, -ENOSPC,
 * -ENOMEM/-EIO. The key bytes are copied into OpenSSL's HMAC context; the
 * caller should cleanse its own copy. */
int ias_keyring_add(struct ias_keyring *kr, uint32_t id, const uint8_t *key,
		    size_t len);
/* Choose the key used for sending. 0 or -ENOENT. */
int ias_keyring_set_active(struct ias_keyring *kr, uint32_t id);
/* Drop one key (end of a rotation). 0, -ENOENT; dropping the active key
 * leaves no active key. */
int ias_keyring_remove(struct ias_keyring *kr, uint32_t id);
/* Wipe every key (OPENSSL_cleanse) and free everything; kr can be re-inited. */
void ias_keyring_wipe(struct ias_keyring *kr);

/* ---- Replay guard ----------------------------------------------------
 * Fixed memory, no allocation per message. A message whose timestamp is
 * outside now +- window is STALE; a nonce remembered is a REPLAY. Only nonces
 * of messages whose tag verified are remembered. When more than
 * IAS_REPLAY_SLOTS messages arrive within one window, the oldest nonce is
 * forgotten and every message not newer than it becomes STALE ("floor"), so
 * no replay is ever accepted; the window just shrinks under that load. */
#define IAS_REPLAY_SLOTS   4096
#define IAS_REPLAY_BUCKETS 1024
#define IAS_REPLAY_NONE    0xFFFFu

struct ias_replay {
	uint64_t window_ms;
	uint64_t floor_ms;     /* messages with timestamp < floor are STALE */
	uint64_t seed;         /* bucket hash key */
	uint32_t head;         /* oldest slot in insertion order */
	uint32_t count;
	uint64_t forced;       /* evictions before expiry (load indicator) */
	uint16_t bucket[IAS_REPLAY_BUCKETS];
	uint16_t next[IAS_REPLAY_SLOTS];
	uint64_t nonce[IAS_REPLAY_SLOTS];
	uint64_t ts[IAS_REPLAY_SLOTS];
};

/* 0, -EINVAL (window 0 or over a day), -EIO (no CSPRNG). */
int ias_replay_init(struct ias_replay *rp, uint64_t window_ms);
/* The timestamp window and replay check that ias_secmgt_decode() applies
 * after the tag verified: IAS_MAD_OK (and the nonce is now remembered),
 * IAS_MAD_STALE or IAS_MAD_REPLAY. Call it only for verified messages. */
enum ias_mad_reason ias_replay_check_and_remember(struct ias_replay *rp,
						  uint64_t ts_ms, uint64_t nonce,
						  uint64_t now_ms);

/* ---- Encode / decode ------------------------------------------------- */

/* Fill key_id (the active key), timestamp_ms = now_ms, a fresh CSPRNG nonce
 * and data_len into *m, then write the authenticated MAD into out. The
 * attribute is checked with the decoder's rules first. Returns 0, -ENOKEY (no
 * active key), -EINVAL (method/attribute/field not valid), -EIO (OpenSSL). */
int ias_secmgt_encode(struct ias_secmgt_msg *m, const struct ias_keyring *kr,
		      uint64_t now_ms, uint8_t out[IAS_MAD_SIZE]);

/* Validate and decode one received MAD. out is zeroed first and stays zeroed
 * unless the result is IAS_MAD_OK. rp may be NULL: then neither the
 * timestamp window nor replays are checked (for tools and tests). */
enum ias_mad_reason ias_secmgt_decode(const uint8_t *buf, size_t len,
				      const struct ias_keyring *kr,
				      struct ias_replay *rp, uint64_t now_ms,
				      struct ias_secmgt_msg *out);

/* Start a response to req: GetResp for Get/Set, ReportResp for Report, same
 * TID and attr_mod, echo_nonce = req->nonce, status 0, attribute zeroed.
 * 0, or -EINVAL if req is itself a response. */
int ias_secmgt_init_response(const struct ias_secmgt_msg *req, uint16_t attr_id,
			     struct ias_secmgt_msg *resp);

/* Whether (method, attr_id) is a valid pairing: 1 or 0. */
int ias_secmgt_method_allowed(uint8_t method, uint16_t attr_id);

/* UNAUTHENTICATED peeks at a raw buffer for transport bookkeeping only
 * (matching a TID, choosing a queue). Nothing is verified beyond the length
 * and the class/OUI. Never act on these values. 0 or -EBADMSG. */
int ias_secmgt_peek_tid_unauth(const uint8_t *buf, size_t len, uint64_t *tid);
int ias_secmgt_peek_method_unauth(const uint8_t *buf, size_t len,
				  uint8_t *method);

/* ---- Internal, for tests and fuzzers --------------------------------- */

/* Encoded size of an attribute for the given method/status: 0 for Get
 * requests (but Get(Mirror), which carries the asked QP pair) and error
 * responses, else the fixed layout size; -1 if the pair is
 * not allowed. */
int ias_secmgt_attr_len(uint8_t method, uint16_t status, uint16_t attr_id);
/* Decode attribute data (exactly len bytes) without any tag: checks every
 * field. out is zeroed first. */
enum ias_mad_reason ias_secmgt_decode_attr(uint8_t method, uint16_t status,
					   uint16_t attr_id, const uint8_t *data,
					   size_t len,
					   union ias_secmgt_attr *out);
/* Encode attribute data into out (cap bytes); *len gets the size. 0,
 * -EINVAL (pair not allowed or a field the decoder would reject), -ENOSPC. */
int ias_secmgt_encode_attr(uint8_t method, uint16_t status, uint16_t attr_id,
			   const union ias_secmgt_attr *a, uint8_t *out,
			   size_t cap, size_t *len);
/* The tag of a raw 256-byte MAD under key key_id (TID bytes 8..11 and the
 * tag field taken as zero). 0, -ENOENT, -EIO. */
int ias_secmgt_compute_tag(const struct ias_keyring *kr, uint32_t key_id,
			   const uint8_t mad[IAS_MAD_SIZE],
			   uint8_t tag[IAS_TAG_LEN]);

#endif
