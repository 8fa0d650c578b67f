/* Fuzz harness for the secured-channel exchange message decoder
 * (ias_sc_hdr_check, ias_sc_msg_decode).
 *
 * Invariants on every input:
 *  - decode returns 0 or one of the documented errors, and zeroes its output
 *    on failure;
 *  - the header check agrees with decode about the header, and a message
 *    decodes only when its length is header + the announced body;
 *  - decode -> encode gives back exactly the input bytes (the encoding is
 *    canonical), and decoding that again gives the same message;
 *  - decoding never depends on the address: an unaligned copy decodes alike;
 *  - a streaming reader (header first, then the body) sees the same message. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verbs_ext/ias_sc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ias_sc_msg zero;
	struct ias_sc_msg m, m2, m3;
	uint8_t enc[IAS_SC_MSG_MAX];
	uint8_t *shifted;
	uint16_t body = 0;
	size_t n;
	int rc, hc;

	rc = ias_sc_msg_decode(data, size, &m);
	if (rc != 0 && rc != -EBADMSG && rc != -EMSGSIZE && rc != -EPROTONOSUPPORT)
		abort();
	if (rc != 0 && memcmp(&m, &zero, sizeof(m)) != 0)
		abort();
	hc = ias_sc_hdr_check(data, size, &body);
	if (hc != 0 && hc != -EAGAIN && hc != -EBADMSG && hc != -EMSGSIZE &&
	    hc != -EPROTONOSUPPORT)
		abort();
	if (hc != 0 && body != 0)
		abort();
	if (size < IAS_SC_HDR_LEN && (hc != -EAGAIN || rc != -EBADMSG))
		abort();
	if (hc != 0 && hc != -EAGAIN && rc != hc)
		abort();
	if (rc == 0 && (hc != 0 || size != (size_t)IAS_SC_HDR_LEN + body))
		abort();
	if (hc == 0 && size != (size_t)IAS_SC_HDR_LEN + body && rc != -EBADMSG)
		abort();

	shifted = malloc(size + 1);
	if (!shifted)
		return 0;
	memcpy(shifted + 1, data, size);
	if (ias_sc_msg_decode(shifted + 1, size, &m2) != rc || memcmp(&m, &m2, sizeof(m)) != 0)
		abort();
	free(shifted);

	if (rc != 0)
		return 0;
	if (size > IAS_SC_MSG_MAX)
		abort();
	if (ias_sc_msg_encode(&m, enc, sizeof(enc), &n) != 0)
		abort();
	if (n != size || memcmp(enc, data, size) != 0)
		abort();
	if (ias_sc_msg_decode(enc, n, &m3) != 0 || memcmp(&m, &m3, sizeof(m)) != 0)
		abort();
	/* Streaming: header alone first. */
	if (ias_sc_hdr_check(data, IAS_SC_HDR_LEN, &body) != 0 ||
	    (size_t)IAS_SC_HDR_LEN + body != size)
		abort();
	return 0;
}
