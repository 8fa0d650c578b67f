/* The manager's role: active (its SM is the master: it pushes the fabric
 * policy) or standby. Decided from the master SM's LID the local port
 * reports and the NodeRecords a discovery round found. */
#include "config.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "sem/madint.h"

void sem_role_from_discovery(struct sem *s, const struct sem_node_rec *recs, size_t n)
{
	size_t i;

	s->sm_guid = 0;
	for (i = 0; i < n; i++)
		if (recs[i].lid == s->sm_lid)
			s->sm_guid = recs[i].port_guid;
}

void sem_update_role(struct sem *s)
{
	uint64_t ours = s->our_sm_guid ? s->our_sm_guid : s->local_port_guid;
	int active = ours && s->sm_guid && s->sm_guid == ours;
	char st[160];

	if (active == s->view.active)
		return;
	sem_view_set_active(&s->view, active);
	if (active)
		log_notice("our SM (0x%016llx) is the master: active, pushing policy version %u",
			   (unsigned long long)ours, s->view.policy.policy_version);
	else
		log_notice("the master SM (LID %u, 0x%016llx) is not ours (0x%016llx): standby",
			   s->sm_lid, (unsigned long long)s->sm_guid, (unsigned long long)ours);
	snprintf(st, sizeof(st), "STATUS=%s, control socket %s", active ? "active" : "standby",
		 s->cfg.control_socket);
	sd_notify(0, st);
}
