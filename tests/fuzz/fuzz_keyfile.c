/* Fuzz harness for the SecMgt key-file parser. Whatever the input: no crash,
 * a "fuzz..." message on failure with no keys returned; on success 1 to 16
 * keys with unique non-zero ids and 32 to 64 bytes each, which written back
 * in the file format parse to the same keys in the same order. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ias_key keys[IAS_KEYS_MAX], back[IAS_KEYS_MAX];
	static char text[IAS_KEYS_MAX * (16 + 2 * IAS_KEY_MAX)];
	size_t n = 99, m = 99, i, j, o = 0;
	char err[512];
	int r;

	r = ias_keyfile_parse("fuzz", (const char *)data, size, keys, IAS_KEYS_MAX, &n, err,
			      sizeof(err));
	if (r < 0) {
		if (n != 0 || strncmp(err, "fuzz", 4) != 0)
			abort();
		for (i = 0; i < IAS_KEYS_MAX; i++)
			for (j = 0; j < sizeof(keys[i].key); j++)
				if (keys[i].key[j])
					abort(); /* not wiped */
		return 0;
	}
	if (n < 1 || n > IAS_KEYS_MAX)
		abort();
	for (i = 0; i < n; i++) {
		if (keys[i].id == 0 || keys[i].len < IAS_KEY_MIN || keys[i].len > IAS_KEY_MAX)
			abort();
		for (j = 0; j < i; j++)
			if (keys[j].id == keys[i].id)
				abort();
		if (ias_keys_find(keys, n, keys[i].id) != &keys[i])
			abort();
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%u ", keys[i].id);
		for (j = 0; j < keys[i].len; j++)
			o += (size_t)snprintf(text + o, sizeof(text) - o, "%02X", keys[i].key[j]);
		text[o++] = '\n';
	}
	r = ias_keyfile_parse("back", text, o, back, IAS_KEYS_MAX, &m, err, sizeof(err));
	if (r < 0 || m != n)
		abort();
	for (i = 0; i < n; i++)
		if (back[i].id != keys[i].id || back[i].len != keys[i].len ||
		    memcmp(back[i].key, keys[i].key, keys[i].len) != 0)
			abort();
	ias_keys_wipe(keys, n);
	ias_keys_wipe(back, m);
	return 0;
}
