/* ias-keygen: create a SecMgt key file, or append a key to one.
 *
 *   ias-keygen [-i ID] [-b BYTES] FILE     new file with one key (mode 0600)
 *   ias-keygen -a ID [-b BYTES] FILE       append key ID at the end of FILE
 *
 * Keys come from RAND_bytes. Nothing secret is printed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/keyfile.h"

static const char *prog = "ias-keygen";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [-i ID] [-b BYTES] FILE\n"
		"       %s --append ID [-b BYTES] FILE\n"
		"Create a SecMgt key file holding one new key, or append a new key.\n"
		"  -i, --id ID        id of the key of a new file (default 1)\n"
		"  -a, --append ID    append a key with this id to an existing file\n"
		"  -b, --bytes BYTES  key length, %d to %d (default %d)\n"
		"  -h, --help         show this help\n",
		prog, prog, IAS_KEY_MIN, IAS_KEY_MAX, IAS_KEY_MIN);
}

static int parse_num(const char *s, unsigned long long lo, unsigned long long hi,
		     unsigned long long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out < lo || *out > hi)
		return -1;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t k = write(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* "<id> <hex>\n" for a fresh random key. */
static int make_line(uint32_t id, size_t bytes, char *line, size_t linelen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char key[IAS_KEY_MAX];
	size_t o, i;
	int k;

	if (RAND_bytes(key, (int)bytes) != 1)
		return -EIO;
	k = snprintf(line, linelen, "%u ", id);
	o = (size_t)k;
	for (i = 0; i < bytes; i++) {
		line[o++] = hex[key[i] >> 4];
		line[o++] = hex[key[i] & 15];
	}
	line[o++] = '\n';
	line[o] = '\0';
	OPENSSL_cleanse(key, sizeof(key));
	return (int)o;
}

static int create_file(const char *path, uint32_t id, size_t bytes)
{
	static const char head[] =
		"# IAS SecMgt key file: \"<id> <hex key>\" per line; the first key signs,\n"
		"# every key verifies. Keep it mode 0600, owned by root. See ias-keygen(8).\n";
	char line[32 + 2 * IAS_KEY_MAX];
	int fd, r, len;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, "%s: %s: %s%s\n", prog, path, strerror(-r),
			r == -EEXIST ? " (use --append ID to add a key)" : "");
		return r;
	}
	/* The umask may have taken bits away, never added: make it exact. */
	if (fchmod(fd, 0600) < 0) {
		r = -errno;
		fprintf(stderr, "%s: %s: chmod: %s\n", prog, path, strerror(-r));
		goto fail;
	}
	len = make_line(id, bytes, line, sizeof(line));
	if (len < 0) {
		r = len;
		fprintf(stderr, "%s: no random bytes available\n", prog);
		goto fail;
	}
	r = write_all(fd, head, sizeof(head) - 1);
	if (!r)
		r = write_all(fd, line, (size_t)len);
	OPENSSL_cleanse(line, sizeof(line));
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (r) {
		fprintf(stderr, "%s: %s: write: %s\n", prog, path, strerror(-r));
		goto fail;
	}
	if (close(fd) < 0) {
		r = -errno;
		fprintf(stderr, "%s: %s: close: %s\n", prog, path, strerror(-r));
		unlink(path);
		return r;
	}
	printf("%s: wrote key %u (%zu bytes) to %s\n", prog, id, bytes, path);
	return 0;
fail:
	close(fd);
	unlink(path);
	return r;
}

static int append_key(const char *path, uint32_t id, size_t bytes)
{
	struct ias_key keys[IAS_KEYS_MAX];
	char line[32 + 2 * IAS_KEY_MAX], err[8448], last = '\n';
	size_t n = 0;
	off_t end;
	int fd, r, len;

	fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, "%s: %s: %s\n", prog, path,
			r == -ELOOP ? "is a symbolic link; name the real file" : strerror(-r));
		return r;
	}
	r = ias_keyfile_read_fd(fd, path, geteuid(), keys, IAS_KEYS_MAX, &n, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto out;
	}
	if (ias_keys_find(keys, n, id)) {
		fprintf(stderr, "%s: %s: key id %u is already in the file\n", prog, path, id);
		r = -EEXIST;
		goto out;
	}
	if (n >= IAS_KEYS_MAX) {
		fprintf(stderr, "%s: %s: already holds %d keys; drop an old one first\n", prog,
			path, IAS_KEYS_MAX);
		r = -ENOSPC;
		goto out;
	}
	end = lseek(fd, 0, SEEK_END);
	if (end > 0 && pread(fd, &last, 1, end - 1) != 1)
		last = '\n';
	len = make_line(id, bytes, line, sizeof(line));
	if (len < 0) {
		r = len;
		fprintf(stderr, "%s: no random bytes available\n", prog);
		goto out;
	}
	r = 0;
	if (last != '\n')
		r = write_all(fd, "\n", 1);
	if (!r)
		r = write_all(fd, line, (size_t)len);
	OPENSSL_cleanse(line, sizeof(line));
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (r) {
		fprintf(stderr, "%s: %s: write: %s\n", prog, path, strerror(-r));
		goto out;
	}
	printf("%s: appended key %u (%zu bytes) to %s; key %u stays active until "
	       "key %u is moved to the first line\n", prog, id, bytes, path, keys[0].id, id);
out:
	ias_keys_wipe(keys, IAS_KEYS_MAX);
	close(fd);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long id = 1, bytes = IAS_KEY_MIN;
	int c, append = 0, have_id = 0;

	while ((c = getopt_long(argc, argv, "i:a:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
		case 'a':
			if (parse_num(optarg, 1, UINT32_MAX, &id) < 0) {
				fprintf(stderr, "%s: bad key id \"%s\" (use 1 to 4294967295)\n",
					prog, optarg);
				return 2;
			}
			if (c == 'a')
				append = 1;
			else
				have_id = 1;
			break;
		case 'b':
			if (parse_num(optarg, IAS_KEY_MIN, IAS_KEY_MAX, &bytes) < 0) {
				fprintf(stderr, "%s: bad key length \"%s\" (use %d to %d)\n",
					prog, optarg, IAS_KEY_MIN, IAS_KEY_MAX);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || (append && have_id)) {
		usage(stderr);
		return 2;
	}
	if (append)
		return append_key(argv[optind], (uint32_t)id, (size_t)bytes) ? 1 : 0;
	return create_file(argv[optind], (uint32_t)id, (size_t)bytes) ? 1 : 0;
}
