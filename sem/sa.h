/* Subnet administration (SA) NodeRecord queries: building the request MAD
 * and decoding the answer. Pure (no I/O); all decoding goes through the
 * bounds-checked cursor.
 *
 * The manager asks OpenSM's SA for NodeRecords: one SubnAdmGetTable for the
 * whole fabric (answered with RMPP, reassembled by the kernel), or, when the
 * table comes back truncated (a transport without RMPP, such as the ibsim
 * shim), one SubnAdmGet per LID. */
#ifndef IAS_SEM_SA_H
#define IAS_SEM_SA_H

#include <stddef.h>
#include <stdint.h>

#include "sem/semstore.h"

#define SA_CLASS 0x03
#define SA_CLASS_VERSION 2
#define SA_METHOD_GET 0x01
#define SA_METHOD_GET_RESP 0x81
#define SA_METHOD_GET_TABLE 0x12
#define SA_METHOD_GET_TABLE_RESP 0x92
#define SA_ATTR_NODE_RECORD 0x0011
#define SA_STATUS_NO_RECORDS 0x0300	/* ERR_NO_RECORDS, in bits 8..15 */

/* SA MAD layout (offsets in the 256-byte MAD). */
enum sa_off {
	SA_OFF_RMPP_VERSION = 24,
	SA_OFF_RMPP_TYPE = 25,
	SA_OFF_RMPP_FLAGS = 26,	/* low 3 bits: active, first, last */
	SA_OFF_RMPP_PAYLEN = 32,	/* first segment: SA header + data bytes */
	SA_OFF_SM_KEY = 36,
	SA_OFF_ATTR_OFFSET = 44,	/* record stride in 8-byte words */
	SA_OFF_COMP_MASK = 48,
	SA_OFF_DATA = 56,
};
#define SA_HDR_LEN 20		/* SM_Key .. ComponentMask: counted in paylen */
#define SA_RMPP_ACTIVE 0x01
#define SA_RMPP_LAST 0x04

/* NodeRecord: LID, reserved, NodeInfo (40), NodeDescription (64). */
enum sa_nr_off {
	SA_NR_LID = 0,
	SA_NR_NODE_INFO = 4,
	SA_NR_NODE_TYPE = 4 + 2,
	SA_NR_NODE_GUID = 4 + 12,
	SA_NR_PORT_GUID = 4 + 20,
	SA_NR_DESC = 44,
	SA_NR_SIZE = 108,
};

/* A NodeRecord query: method SA_METHOD_GET_TABLE (lid ignored, every
 * record) or SA_METHOD_GET (the record of one LID). */
void sa_build_node_query(uint8_t mad[256], uint8_t method, uint16_t lid, uint64_t tid);

/* Decode an SA response. Returns 0 and the records (up to max; those with
 * LID 0 skipped) in out and their count in *n, with *status the MAD status (records only when
 * it is 0) and *truncated set when an RMPP answer holds only its first
 * segment. -EBADMSG if the buffer is not an SA NodeRecord response. */
int sa_parse_node_records(const uint8_t *buf, size_t len, struct sem_node_rec *out,
			  size_t max, size_t *n, uint16_t *status, int *truncated);

#endif
