/* Incident ids: one codec for every component.
 *
 * On the wire (SecMgt Trace, TraceResult, Report) an incident is a u64:
 * tag << 40 | seq, where tag is 24 bits derived from the name of the node
 * that opened it (unique across the fabric without coordination) and seq its
 * 40-bit sequence number on that node (1, 2, 3, ...). In records, logs and
 * the control protocol it is the text "I-<tag as 6 hex digits>-<seq>",
 * e.g. "I-0a1b2c-17". */
#ifndef IAS_MAD_DEFS_INCIDENT_H
#define IAS_MAD_DEFS_INCIDENT_H

#include <stddef.h>
#include <stdint.h>

#define IAS_INCIDENT_SEQ_BITS 40
#define IAS_INCIDENT_SEQ_MAX  ((UINT64_C(1) << IAS_INCIDENT_SEQ_BITS) - 1)
#define IAS_INCIDENT_TAG_MAX  UINT32_C(0xffffff)
/* "I-" + 6 + "-" + 13 digits + NUL fits. */
#define IAS_INCIDENT_STR_LEN  32

/* The node tag: FNV-1a of the name folded to 24 bits. */
uint32_t ias_incident_tag(const char *node_name);
/* tag << 40 | seq; 0 when tag > 0xffffff, seq 0 or seq > IAS_INCIDENT_SEQ_MAX. */
uint64_t ias_incident_make(uint32_t tag, uint64_t seq);
/* The text form of id into out. 0, or -EINVAL (id has no sequence number),
 * -ENOSPC (out too small; out is then ""). */
int ias_incident_format(uint64_t id, char *out, size_t outlen);
/* Strict parse of "I-<6 lower-case hex digits>-<decimal seq 1..2^40-1, no sign, no
 * leading zero>"; nothing else is accepted (no spaces, no trailing bytes).
 * 0 with *id set, or -EINVAL with *id = 0. */
int ias_incident_parse(const char *text, uint64_t *id);
/* Same, for len bytes that need not be NUL-terminated (outside input). */
int ias_incident_parse_n(const char *text, size_t len, uint64_t *id);

#endif
