/* The SecMgt key file: the shared secrets that authenticate IAS management
 * datagrams.
 *
 * Format (see ias.conf(5), ias-keygen(8)): one key per line, "<id> <hex>",
 * id a decimal number 1..4294967295, the key 32 to 64 bytes written as hex;
 * '#' comments (whole line, or after whitespace) and blank lines. The first
 * key is the active sending key; every key is accepted when verifying.
 * Rotation: append the new key everywhere, then move it first everywhere,
 * then drop the old one. At most IAS_KEYS_MAX keys, ids unique, at least one.
 *
 * ias_keyfile_load refuses a file that is not a regular file owned by the
 * expected owner with no group or other permission bits, or whose
 * directories on the way could be changed by anyone but root and the owner
 * (ias_fs_safe_ancestors, common/fstrust.h), and never follows a symbolic
 * link. Buffers that held key material are wiped; callers wipe their
 * key array with ias_keys_wipe when done.
 *
 * Functions return 0 or a negative errno (-EINVAL bad content, -EPERM bad
 * ownership or mode, -ELOOP symbolic link, -EFBIG too large, or the errno of
 * open/read) with a message "FILE:LINE: ..." or "FILE: ..." in err. They
 * never print. */
#ifndef IAS_COMMON_KEYFILE_H
#define IAS_COMMON_KEYFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IAS_KEY_MIN 32
#define IAS_KEY_MAX 64
#define IAS_KEYS_MAX 16
#define IAS_KEYFILE_MAX (64 * 1024) /* bytes in a key file */

struct ias_key {
	uint32_t id;
	uint8_t key[IAS_KEY_MAX];
	size_t len;
};

/* keys[0] is the active one. On error *n is 0 and keys[] is wiped. */
int ias_keyfile_load(const char *path, uid_t owner, struct ias_key *keys,
		     size_t max, size_t *n, char *err, size_t errlen);

/* The same without permission checks (for tests and fuzzing). */
int ias_keyfile_parse(const char *name, const char *buf, size_t len,
		      struct ias_key *keys, size_t max, size_t *n, char *err,
		      size_t errlen);

/* The checks ias_keyfile_load makes on an open file: a regular file, owned
 * by owner, no group/other mode bits, not too large. */
int ias_keyfile_check_fd(int fd, const char *name, uid_t owner, char *err,
			 size_t errlen);

/* Checks fd as above, reads it from its current offset and parses it. */
int ias_keyfile_read_fd(int fd, const char *name, uid_t owner,
			struct ias_key *keys, size_t max, size_t *n, char *err,
			size_t errlen);

/* Returns the key with this id, or NULL. */
const struct ias_key *ias_keys_find(const struct ias_key *keys, size_t n,
				    uint32_t id);

void ias_keys_wipe(struct ias_key *keys, size_t n);

#endif
