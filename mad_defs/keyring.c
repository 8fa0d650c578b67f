/* SecMgt keyring: up to IAS_KEYRING_MAX HMAC-SHA256 keys with ids, one of
 * them active for sending. Each key lives only inside an OpenSSL EVP_MAC_CTX
 * that is keyed once and re-initialised (same key) for every tag. */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "mad_defs/secmgt.h"

int ias_keyring_init(struct ias_keyring *kr)
{
	memset(kr, 0, sizeof(*kr));
	kr->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	return kr->mac ? 0 : -EIO;
}

static struct ias_keyslot *find(const struct ias_keyring *kr, uint32_t id)
{
	unsigned i;

	if (id == 0)
		return NULL;
	for (i = 0; i < IAS_KEYRING_MAX; i++)
		if (kr->keys[i].id == id)
			return (struct ias_keyslot *)&kr->keys[i];
	return NULL;
}

int ias_keyring_add(struct ias_keyring *kr, uint32_t id, const uint8_t *key,
		    size_t len)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[2];
	struct ias_keyslot *slot = NULL;
	EVP_MAC_CTX *ctx;
	unsigned i;

	if (!kr->mac)
		return -EINVAL;
	if (id == 0 || !key || len < IAS_KEY_MIN_LEN || len > IAS_KEY_MAX_LEN)
		return -EINVAL;
	if (find(kr, id))
		return -EEXIST;
	for (i = 0; i < IAS_KEYRING_MAX && !slot; i++)
		if (kr->keys[i].id == 0)
			slot = &kr->keys[i];
	if (!slot)
		return -ENOSPC;
	ctx = EVP_MAC_CTX_new(kr->mac);
	if (!ctx)
		return -ENOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, len, params)) {
		EVP_MAC_CTX_free(ctx);
		return -EIO;
	}
	slot->id = id;
	slot->mac_ctx = ctx;
	return 0;
}

int ias_keyring_set_active(struct ias_keyring *kr, uint32_t id)
{
	if (!find(kr, id))
		return -ENOENT;
	kr->active_id = id;
	return 0;
}

int ias_keyring_remove(struct ias_keyring *kr, uint32_t id)
{
	struct ias_keyslot *k = find(kr, id);

	if (!k)
		return -ENOENT;
	/* EVP_MAC_CTX_free cleanses the HMAC key state it holds. */
	EVP_MAC_CTX_free(k->mac_ctx);
	OPENSSL_cleanse(k, sizeof(*k));
	if (kr->active_id == id)
		kr->active_id = 0;
	return 0;
}

void ias_keyring_wipe(struct ias_keyring *kr)
{
	unsigned i;

	for (i = 0; i < IAS_KEYRING_MAX; i++)
		if (kr->keys[i].id)
			EVP_MAC_CTX_free(kr->keys[i].mac_ctx);
	EVP_MAC_free(kr->mac);
	OPENSSL_cleanse(kr, sizeof(*kr));
}

int ias_secmgt_compute_tag(const struct ias_keyring *kr, uint32_t key_id,
			   const uint8_t mad[IAS_MAD_SIZE],
			   uint8_t tag[IAS_TAG_LEN])
{
	uint8_t covered[IAS_MAD_SIZE], full[EVP_MAX_MD_SIZE];
	const struct ias_keyslot *k = find(kr, key_id);
	EVP_MAC_CTX *ctx;
	size_t outl = 0;

	memset(tag, 0, IAS_TAG_LEN);
	if (!k)
		return -ENOENT;
	ctx = k->mac_ctx;
	memcpy(covered, mad, IAS_MAD_SIZE);
	memset(covered + IAS_OFF_TID, 0, IAS_TID_UNAUTH_LEN);
	memset(covered + IAS_OFF_TAG, 0, IAS_TAG_LEN);
	/* A NULL key re-initialises the context with the key it already has. */
	if (!EVP_MAC_init(ctx, NULL, 0, NULL) ||
	    !EVP_MAC_update(ctx, covered, sizeof(covered)) ||
	    !EVP_MAC_final(ctx, full, &outl, sizeof(full)) || outl < IAS_TAG_LEN)
		return -EIO;
	memcpy(tag, full, IAS_TAG_LEN);
	OPENSSL_cleanse(full, sizeof(full));
	return 0;
}
