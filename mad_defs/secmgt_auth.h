/* A daemon's SecMgt authenticator: the keyring built from its key file's
 * keys (the first one active for sending) and its replay guard. One setup
 * for the agent and the manager. */
#ifndef IAS_MAD_DEFS_SECMGT_AUTH_H
#define IAS_MAD_DEFS_SECMGT_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/keyfile.h"
#include "mad_defs/secmgt.h"

struct ias_secmgt_auth {
	struct ias_keyring kr;
	struct ias_replay *rp;
};

/* 0, or negative errno: -ENOKEY (no keys), an ias_keyring_add() error (the
 * offending key's id in *bad_id when not NULL), -EINVAL (window), -ENOMEM.
 * Nothing is left to free on failure. */
int ias_secmgt_auth_init(struct ias_secmgt_auth *a, const struct ias_key *keys, size_t n,
			 uint64_t replay_window_ms, uint32_t *bad_id);
void ias_secmgt_auth_wipe(struct ias_secmgt_auth *a);

#endif
