/* The SecMgt key file: see keyfile.h for the format and the rules. Messages
 * never contain key material. */
#include "keyfile.h"
#include "fstrust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

__attribute__((format(printf, 3, 4)))
static void put_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void ias_keys_wipe(struct ias_key *keys, size_t n)
{
	if (keys && n)
		explicit_bzero(keys, n * sizeof(*keys));
}

const struct ias_key *ias_keys_find(const struct ias_key *keys, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keys[i].id == id)
			return &keys[i];
	return NULL;
}

/* One non-comment line into *k. Returns 0 or -EINVAL with the message (after
 * "NAME:LINE: ") in msg. */
static int parse_key_line(const char *s, const char *e, struct ias_key *k,
			  char *msg, size_t msglen)
{
	const char *hs, *he;
	uint64_t id = 0;
	size_t hl, i;

	if (*s < '0' || *s > '9') {
		put_err(msg, msglen, "expected \"<id> <hex key>\"");
		return -EINVAL;
	}
	for (; s < e && *s >= '0' && *s <= '9'; s++) {
		id = id * 10 + (uint64_t)(*s - '0');
		if (id > UINT32_MAX) {
			put_err(msg, msglen, "key id is larger than 4294967295");
			return -EINVAL;
		}
	}
	if (s < e && !is_ws(*s)) {
		put_err(msg, msglen, "key id must be a decimal number followed by a blank and the key");
		return -EINVAL;
	}
	if (id == 0) {
		put_err(msg, msglen, "key id 0 is not allowed (use 1 to 4294967295)");
		return -EINVAL;
	}
	while (s < e && is_ws(*s))
		s++;
	hs = s;
	while (s < e && !is_ws(*s))
		s++;
	he = s;
	hl = (size_t)(he - hs);
	if (hl == 0 || *hs == '#') {
		put_err(msg, msglen, "key %llu: no key after the id", (unsigned long long)id);
		return -EINVAL;
	}
	for (i = 0; i < hl; i++) {
		if (hexval(hs[i]) < 0) {
			put_err(msg, msglen, "key %llu: the key must be written in hex digits only",
				(unsigned long long)id);
			return -EINVAL;
		}
	}
	if (hl % 2) {
		put_err(msg, msglen, "key %llu: odd number of hex digits", (unsigned long long)id);
		return -EINVAL;
	}
	if (hl / 2 < IAS_KEY_MIN || hl / 2 > IAS_KEY_MAX) {
		put_err(msg, msglen, "key %llu: %zu bytes, must be %d to %d bytes (%d to %d hex digits)",
			(unsigned long long)id, hl / 2, IAS_KEY_MIN, IAS_KEY_MAX,
			2 * IAS_KEY_MIN, 2 * IAS_KEY_MAX);
		return -EINVAL;
	}
	while (s < e && is_ws(*s))
		s++;
	if (s < e && *s != '#') {
		put_err(msg, msglen, "key %llu: text after the key", (unsigned long long)id);
		return -EINVAL;
	}
	memset(k, 0, sizeof(*k));
	k->id = (uint32_t)id;
	k->len = hl / 2;
	for (i = 0; i < k->len; i++)
		k->key[i] = (uint8_t)(hexval(hs[2 * i]) << 4 | hexval(hs[2 * i + 1]));
	return 0;
}

int ias_keyfile_parse(const char *name, const char *buf, size_t len,
		      struct ias_key *keys, size_t max, size_t *n, char *err,
		      size_t errlen)
{
	char msg[256];
	struct ias_key k;
	unsigned line = 0;
	size_t pos = 0, cnt = 0, i;
	int r = -EINVAL;

	if (err && errlen)
		err[0] = '\0';
	if (!name)
		name = "(keys)";
	if (n)
		*n = 0;
	if (!n || !keys || (len && !buf)) {
		put_err(err, errlen, "%s: bad arguments", name);
		return -EINVAL;
	}
	if (max > IAS_KEYS_MAX)
		max = IAS_KEYS_MAX;
	if (len > IAS_KEYFILE_MAX) {
		put_err(err, errlen, "%s: file is larger than %d bytes", name, IAS_KEYFILE_MAX);
		r = -EFBIG;
		goto out;
	}
	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos), *e;
		size_t ll = nl ? (size_t)(nl - s) : len - pos;

		line++;
		pos += ll + 1;
		if (ll > LINE_MAX_BYTES) {
			put_err(err, errlen, "%s:%u: line longer than %d bytes", name, line,
				LINE_MAX_BYTES);
			goto out;
		}
		for (i = 0; i < ll; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '\0') {
				put_err(err, errlen, "%s:%u: NUL byte", name, line);
				goto out;
			}
			if (c == '\r') {
				put_err(err, errlen, "%s:%u: carriage return (convert the file to Unix line ends)",
					name, line);
				goto out;
			}
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				put_err(err, errlen, "%s:%u: control character 0x%02x", name, line, c);
				goto out;
			}
		}
		e = s + ll;
		while (s < e && is_ws(*s))
			s++;
		if (s == e || *s == '#')
			continue;
		if (parse_key_line(s, e, &k, msg, sizeof(msg)) < 0) {
			put_err(err, errlen, "%s:%u: %s", name, line, msg);
			goto out;
		}
		if (ias_keys_find(keys, cnt, k.id)) {
			put_err(err, errlen, "%s:%u: key id %u is listed twice", name, line, k.id);
			goto out;
		}
		if (cnt >= max) {
			put_err(err, errlen, "%s:%u: more than %zu keys", name, line, max);
			goto out;
		}
		keys[cnt++] = k;
	}
	if (cnt == 0) {
		put_err(err, errlen, "%s: no keys (create one with ias-keygen)", name);
		goto out;
	}
	*n = cnt;
	r = 0;
out:
	explicit_bzero(&k, sizeof(k));
	if (r < 0)
		ias_keys_wipe(keys, cnt);
	return r;
}

static void fix_hint(char *buf, size_t len, const char *path, uid_t owner)
{
	if (owner == 0)
		snprintf(buf, len, "chown root:root %s && chmod 0600 %s", path, path);
	else
		snprintf(buf, len, "chown %u %s && chmod 0600 %s", (unsigned)owner, path, path);
}

int ias_keyfile_check_fd(int fd, const char *name, uid_t owner, char *err, size_t errlen)
{
	char fix[2 * 4096 + 64], eb[128];
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		put_err(err, errlen, "%s: %s", name, strerror_r(-r, eb, sizeof(eb)));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		put_err(err, errlen, "%s: is %s, not a regular file; the key file must be a plain file",
			name, S_ISDIR(st.st_mode) ? "a directory" :
			S_ISFIFO(st.st_mode) ? "a FIFO" :
			S_ISSOCK(st.st_mode) ? "a socket" :
			S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : "special");
		return -EINVAL;
	}
	fix_hint(fix, sizeof(fix), name, owner);
	if (st.st_uid != owner) {
		put_err(err, errlen, "%s: owned by uid %u, must be owned by uid %u (fix: %s)",
			name, (unsigned)st.st_uid, (unsigned)owner, fix);
		return -EPERM;
	}
	if (st.st_mode & 077) {
		put_err(err, errlen,
			"%s: mode %04o lets group or others access the keys; must be 0600 or 0400 (fix: %s)",
			name, (unsigned)(st.st_mode & 07777), fix);
		return -EPERM;
	}
	if (st.st_size > IAS_KEYFILE_MAX) {
		put_err(err, errlen, "%s: file is larger than %d bytes", name, IAS_KEYFILE_MAX);
		return -EFBIG;
	}
	return 0;
}

int ias_keyfile_read_fd(int fd, const char *name, uid_t owner, struct ias_key *keys,
			size_t max, size_t *n, char *err, size_t errlen)
{
	char buf[IAS_KEYFILE_MAX + 1], eb[128];
	size_t len = 0;
	int r;

	if (n)
		*n = 0;
	r = ias_keyfile_check_fd(fd, name, owner, err, errlen);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t k = read(fd, buf + len, sizeof(buf) - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			put_err(err, errlen, "%s: %s", name, strerror_r(-r, eb, sizeof(eb)));
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > IAS_KEYFILE_MAX) {
			put_err(err, errlen, "%s: file is larger than %d bytes", name,
				IAS_KEYFILE_MAX);
			r = -EFBIG;
			goto out;
		}
	}
	r = ias_keyfile_parse(name, buf, len, keys, max, n, err, errlen);
out:
	explicit_bzero(buf, sizeof(buf));
	return r;
}

int ias_keyfile_load(const char *path, uid_t owner, struct ias_key *keys,
		     size_t max, size_t *n, char *err, size_t errlen)
{
	char eb[128];
	int fd, r;

	if (err && errlen)
		err[0] = '\0';
	if (n)
		*n = 0;
	if (!path || !keys || !n) {
		put_err(err, errlen, "key file: bad arguments");
		return -EINVAL;
	}
	/* Nobody else may be able to swap the file on the way to it. */
	r = ias_fs_safe_ancestors(path, owner, err, errlen);
	if (r < 0)
		return r;
	/* O_NONBLOCK: opening a FIFO must not hang; fstat then refuses it. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP)
			put_err(err, errlen,
				"%s: is a symbolic link; refusing to follow it (name the real file instead)",
				path);
		else
			put_err(err, errlen, "%s: %s", path, strerror_r(-r, eb, sizeof(eb)));
		return r;
	}
	r = ias_keyfile_read_fd(fd, path, owner, keys, max, n, err, errlen);
	close(fd);
	return r;
}
