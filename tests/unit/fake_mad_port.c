/* A MAD port that records requests and answers none (see fake_sema.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sema/mad_port.h"
#include "tests/unit/fake_sema.h"

const char *mad_dest_str(const struct mad_dest *d, char *buf, size_t len)
{
	snprintf(buf, len, "lid %u", d->lid);
	return buf;
}

int mad_port_request(struct mad_port *p, const struct mad_dest *to,
		     const struct ias_secmgt_msg *req, mad_done_fn done, void *ctx)
{
	(void)p;
	if (fake_mad_nreqs == FAKE_MAX)
		return -ENOBUFS;
	fake_mad_reqs[fake_mad_nreqs].to = *to;
	fake_mad_reqs[fake_mad_nreqs].msg = *req;
	fake_mad_reqs[fake_mad_nreqs].done = done;
	fake_mad_reqs[fake_mad_nreqs].ctx = ctx;
	fake_mad_nreqs++;
	return 0;
}

uint64_t mad_port_node_guid(const struct mad_port *p)
{
	(void)p;
	return 0x1122334455667788ull;
}

uint64_t mad_port_guid(const struct mad_port *p)
{
	(void)p;
	return 0x1122334455667789ull;
}

uint16_t mad_port_lid(struct mad_port *p)
{
	(void)p;
	return 1;
}

const char *mad_port_ca(const struct mad_port *p)
{
	(void)p;
	return "dev0";
}

void mad_port_describe(struct mad_port *p, char *buf, size_t len)
{
	(void)p;
	snprintf(buf, len, "fake");
}

void fake_mad_timeout_all(struct sema *s)
{
	unsigned i;

	for (i = 0; i < fake_mad_nreqs; i++)
		if (fake_mad_reqs[i].done) {
			fake_mad_reqs[i].done(s, fake_mad_reqs[i].ctx, &fake_mad_reqs[i].to, NULL);
			fake_mad_reqs[i].done = NULL;
		}
	fake_mad_nreqs = 0;
}
