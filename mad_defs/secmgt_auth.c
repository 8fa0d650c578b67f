/* See secmgt_auth.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mad_defs/secmgt_auth.h"

int ias_secmgt_auth_init(struct ias_secmgt_auth *a, const struct ias_key *keys, size_t n,
			 uint64_t replay_window_ms, uint32_t *bad_id)
{
	size_t i;
	int r;

	memset(a, 0, sizeof(*a));
	if (!n)
		return -ENOKEY;
	a->rp = malloc(sizeof(*a->rp));
	if (!a->rp)
		return -ENOMEM;
	r = ias_keyring_init(&a->kr);
	if (r) {
		free(a->rp);
		a->rp = NULL;
		return r;
	}
	for (i = 0; i < n; i++) {
		r = ias_keyring_add(&a->kr, keys[i].id, keys[i].key, keys[i].len);
		if (r) {
			if (bad_id)
				*bad_id = keys[i].id;
			goto fail;
		}
	}
	r = ias_keyring_set_active(&a->kr, keys[0].id);
	if (!r)
		r = ias_replay_init(a->rp, replay_window_ms);
	if (!r)
		return 0;
fail:
	ias_secmgt_auth_wipe(a);
	return r;
}

void ias_secmgt_auth_wipe(struct ias_secmgt_auth *a)
{
	ias_keyring_wipe(&a->kr);
	free(a->rp);
	a->rp = NULL;
}
