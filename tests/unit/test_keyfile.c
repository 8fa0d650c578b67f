/* Unit tests for common/keyfile and ias-keygen: format, limits, rotation
 * order, wiping, and the ownership/mode/symlink checks of the loader. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fstrust.h"
#include "common/keyfile.h"
#include "tests/unit/tap.h"

#define HEX32A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define HEX32B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static struct ias_key keys[IAS_KEYS_MAX];
static size_t n;
static char err[1024];

static int parse(const char *text)
{
	return ias_keyfile_parse("k.keys", text, strlen(text), keys, IAS_KEYS_MAX, &n, err,
				 sizeof(err));
}

static void fails(const char *text, const char *msg, const char *name)
{
	int r = parse(text);

	ok(r == -EINVAL && n == 0, "%s: rejected (r=%d, n=%zu)", name, r, n);
	is_str(err, msg, name);
	ok(!strstr(err, "0011223344") && !strstr(err, "ffeeddcc"),
	   "%s: message holds no key material", name);
}

static int all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i])
			return 0;
	return 1;
}

static void test_parse(void)
{
	char text[8192];
	int i, o, r;

	r = parse("# SecMgt keys\n"
		  "\n"
		  "7 " HEX32B "   # new, active\n"
		  "\t3\t" HEX32A "\n");
	is_int(r, 0, "two keys parse");
	is_int(n, 2, "two keys");
	is_int(keys[0].id, 7, "first key is first (active)");
	is_int(keys[1].id, 3, "second key second");
	is_int(keys[0].len, 32, "32-byte key");
	is_int(keys[0].key[0], 0xff, "first byte");
	is_int(keys[1].key[31], 0xff, "last byte");
	ok(ias_keys_find(keys, n, 3) == &keys[1], "find by id");
	ok(ias_keys_find(keys, n, 4) == NULL, "find a missing id");

	r = parse("4294967295 " HEX32A HEX32B "\n");
	is_int(r, 0, "64-byte key and largest id");
	is_int(keys[0].len, 64, "64 bytes");
	ok(keys[0].id == 4294967295u, "largest id");
	r = parse("1 00112233445566778899AABBCCDDEEFF00112233445566778899AaBbCcDdEeFf");
	is_int(r, 0, "upper-case hex, no final newline");
	is_int(keys[0].key[10], 0xaa, "upper-case decoded");

	/* rotation: the order of the file is the order of keys[] */
	r = parse("1 " HEX32A "\n2 " HEX32B "\n");
	ok(r == 0 && keys[0].id == 1 && keys[1].id == 2, "rotation step 1: old key still active");
	r = parse("2 " HEX32B "\n1 " HEX32A "\n");
	ok(r == 0 && keys[0].id == 2 && keys[1].id == 1, "rotation step 2: new key active");
	r = parse("2 " HEX32B "\n");
	ok(r == 0 && n == 1 && keys[0].id == 2, "rotation step 3: old key dropped");

	fails("", "k.keys: no keys (create one with ias-keygen)", "empty file");
	fails("# only\n\n  # comments\n", "k.keys: no keys (create one with ias-keygen)",
	      "comments only");
	fails("0 " HEX32A "\n", "k.keys:1: key id 0 is not allowed (use 1 to 4294967295)", "id 0");
	fails("4294967296 " HEX32A "\n", "k.keys:1: key id is larger than 4294967295",
	      "id too large");
	fails("1x " HEX32A "\n",
	      "k.keys:1: key id must be a decimal number followed by a blank and the key",
	      "id with junk");
	fails("-1 " HEX32A "\n", "k.keys:1: expected \"<id> <hex key>\"", "negative id");
	fails("abc\n", "k.keys:1: expected \"<id> <hex key>\"", "no id");
	fails("\n5\n", "k.keys:2: key 5: no key after the id", "id alone");
	fails("5 # comment\n", "k.keys:1: key 5: no key after the id", "id and comment");
	fails("5 " HEX32A "0\n", "k.keys:1: key 5: odd number of hex digits", "odd digits");
	fails("5 " HEX32A "zz\n", "k.keys:1: key 5: the key must be written in hex digits only",
	      "non-hex");
	fails("5 00112233445566778899aabbccddeeff00112233445566778899aabbccddee\n",
	      "k.keys:1: key 5: 31 bytes, must be 32 to 64 bytes (64 to 128 hex digits)",
	      "31 bytes");
	fails("5 " HEX32A HEX32B "00\n",
	      "k.keys:1: key 5: 65 bytes, must be 32 to 64 bytes (64 to 128 hex digits)",
	      "65 bytes");
	fails("5 " HEX32A " extra\n", "k.keys:1: key 5: text after the key", "text after key");
	fails("1 " HEX32A "\n1 " HEX32B "\n", "k.keys:2: key id 1 is listed twice", "duplicate id");
	fails("1 " HEX32A "\r\n", "k.keys:1: carriage return (convert the file to Unix line ends)",
	      "CRLF");
	fails("1 " HEX32A "\x0b\n", "k.keys:1: control character 0x0b", "control character");
	{
		const char t[] = "1 " HEX32A "\n2 \0" HEX32B "\n";

		r = ias_keyfile_parse("k.keys", t, sizeof(t) - 1, keys, IAS_KEYS_MAX, &n, err,
				      sizeof(err));
		ok(r == -EINVAL && n == 0, "NUL byte rejected");
		is_str(err, "k.keys:2: NUL byte", "NUL byte message");
		ok(all_zero(keys, sizeof(keys[0])), "keys parsed before an error are wiped");
	}
	memset(text, ' ', 4097);
	text[4097] = '\0';
	fails(text, "k.keys:1: line longer than 4096 bytes", "long line");

	o = 0;
	for (i = 1; i <= IAS_KEYS_MAX; i++)
		o += snprintf(text + o, sizeof(text) - (size_t)o, "%d " HEX32A "\n", i);
	r = parse(text);
	ok(r == 0 && n == IAS_KEYS_MAX, "16 keys accepted");
	snprintf(text + o, sizeof(text) - (size_t)o, "17 " HEX32A "\n");
	fails(text, "k.keys:17: more than 16 keys", "17 keys");
	r = ias_keyfile_parse("k.keys", text, strlen(text), keys, 2, &n, err, sizeof(err));
	ok(r == -EINVAL && n == 0, "caller's max honoured");
	is_str(err, "k.keys:3: more than 2 keys", "caller's max message");
	{
		char *big = malloc(IAS_KEYFILE_MAX + 1);

		memset(big, '\n', IAS_KEYFILE_MAX + 1);
		r = ias_keyfile_parse("k.keys", big, IAS_KEYFILE_MAX + 1, keys, IAS_KEYS_MAX, &n,
				      err, sizeof(err));
		is_int(r, -EFBIG, "too large a file");
		free(big);
	}

	r = parse("1 " HEX32A "\n");
	ias_keys_wipe(keys, n);
	ok(all_zero(keys, sizeof(keys[0])), "ias_keys_wipe clears keys");
}

static char dir[] = "/tmp/ias-keys-XXXXXX";

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		printf("# cannot write %s\n", path);
	if (fd >= 0)
		close(fd);
	chmod(path, mode);
}

static int load(const char *path, uid_t owner)
{
	return ias_keyfile_load(path, owner, keys, IAS_KEYS_MAX, &n, err, sizeof(err));
}

static void test_load(void)
{
	char path[256], link[256], sub[256], fifo[256], want[1024];
	uid_t me = geteuid();
	int r;

	snprintf(path, sizeof(path), "%s/secmgt.keys", dir);
	write_file(path, "# keys\n9 " HEX32A "\n", 0600);
	r = load(path, me);
	ok(r == 0 && n == 1 && keys[0].id == 9, "mode 0600, right owner: loads");
	chmod(path, 0400);
	r = load(path, me);
	ok(r == 0 && n == 1, "mode 0400 loads");

	chmod(path, 0644);
	r = load(path, me);
	ok(r == -EPERM && n == 0, "mode 0644 refused");
	ok(strstr(err, "mode 0644 lets group or others access the keys; must be 0600 or 0400") &&
	   strncmp(err, path, strlen(path)) == 0, "mode message: %s", err);
	ok(strstr(err, "chmod 0600") != NULL, "mode message says how to fix");
	chmod(path, 0640);
	ok(load(path, me) == -EPERM, "mode 0640 refused");
	chmod(path, 0602);
	ok(load(path, me) == -EPERM, "mode 0602 refused");
	chmod(path, 0600);

	r = load(path, me + 1);
	ok(r == -EPERM && n == 0, "wrong owner refused");
	snprintf(want, sizeof(want), "%s: owned by uid %u, must be owned by uid %u (fix: chown %u %s && chmod 0600 %s)",
		 path, (unsigned)me, (unsigned)me + 1, (unsigned)me + 1, path, path);
	is_str(err, want, "owner message");
	if (me != 0) {
		r = load(path, 0);
		snprintf(want, sizeof(want),
			 "%s: owned by uid %u, must be owned by uid 0 (fix: chown root:root %s && chmod 0600 %s)",
			 path, (unsigned)me, path, path);
		ok(r == -EPERM, "not root-owned refused when root is expected");
		is_str(err, want, "root fix hint");
	} else {
		ok(1, "running as root: root-owned file accepted above # SKIP non-root only");
		ok(1, "root fix hint # SKIP non-root only");
	}

	snprintf(link, sizeof(link), "%s/link.keys", dir);
	unlink(link);
	r = symlink(path, link);
	r = load(link, me);
	ok(r == -ELOOP && n == 0, "symbolic link refused");
	snprintf(want, sizeof(want),
		 "%s: is a symbolic link; refusing to follow it (name the real file instead)", link);
	is_str(err, want, "symlink message");

	snprintf(sub, sizeof(sub), "%s/dir.keys", dir);
	mkdir(sub, 0700);
	r = load(sub, me);
	ok(r == -EINVAL && n == 0, "directory refused");
	snprintf(want, sizeof(want), "%s: is a directory, not a regular file; the key file must be a plain file", sub);
	is_str(err, want, "directory message");

	snprintf(fifo, sizeof(fifo), "%s/fifo.keys", dir);
	unlink(fifo);
	if (mkfifo(fifo, 0600) == 0) {
		r = load(fifo, me);
		ok(r == -EINVAL && strstr(err, "is a FIFO"), "FIFO refused without hanging");
	} else {
		ok(1, "FIFO # SKIP mkfifo failed");
	}

	snprintf(want, sizeof(want), "%s/none.keys", dir);
	ok(load(want, me) == -ENOENT, "missing file: -ENOENT");

	write_file(path, "9 " HEX32A "\n9 " HEX32B "\n", 0600);
	r = load(path, me);
	snprintf(want, sizeof(want), "%s:2: key id 9 is listed twice", path);
	ok(r == -EINVAL, "content error through load");
	is_str(err, want, "content error names FILE:LINE");

	unlink(path);
	unlink(link);
	unlink(fifo);
	rmdir(sub);
}

/* Runs ias-keygen with up to five arguments; returns its exit status. */
static int keygen5(const char *bin, const char *a1, const char *a2, const char *a3,
		   const char *a4, const char *a5)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);

		dup2(nul, 1);
		dup2(nul, 2);
		execl(bin, bin, a1, a2, a3, a4, a5, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int keygen(const char *bin, const char *a1, const char *a2, const char *a3,
		  const char *a4)
{
	return keygen5(bin, a1, a2, a3, a4, NULL);
}

static void test_keygen(void)
{
	const char *top = getenv("top_builddir");
	char bin[1024], path[256];
	struct stat st;
	int r;

	snprintf(bin, sizeof(bin), "%s/common/ias-keygen", top ? top : ".");
	if (access(bin, X_OK) != 0) {
		ok(1, "ias-keygen # SKIP %s not built", bin);
		return;
	}
	snprintf(path, sizeof(path), "%s/new.keys", dir);
	unlink(path);
	is_int(keygen(bin, path, NULL, NULL, NULL), 0, "keygen creates a file");
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600,
	   "created with mode 0600");
	r = load(path, geteuid());
	ok(r == 0 && n == 1 && keys[0].id == 1 && keys[0].len == 32, "new file: key 1, 32 bytes");
	ok(!all_zero(keys[0].key, 32), "key is not all zero");
	is_int(keygen(bin, path, NULL, NULL, NULL), 1, "keygen refuses to overwrite");
	is_int(keygen(bin, "--append", "2", "-b", "64"), 2, "append without a file is a usage error");
	is_int(keygen(bin, "--append", "2", path, NULL), 0, "append key 2");
	is_int(keygen(bin, "-a", "3", "--bytes=64", path), 0, "append key 3 of 64 bytes");
	r = load(path, geteuid());
	ok(r == 0 && n == 3 && keys[0].id == 1 && keys[1].id == 2 && keys[2].id == 3,
	   "appended keys go last; key 1 stays active");
	ok(keys[2].len == 64 && memcmp(keys[0].key, keys[1].key, 32) != 0,
	   "64-byte key, keys differ");
	is_int(keygen(bin, "--append", "2", path, NULL), 1, "duplicate id refused");
	chmod(path, 0644);
	is_int(keygen(bin, "--append", "4", path, NULL), 1, "append refuses a 0644 file");
	chmod(path, 0600);
	r = load(path, geteuid());
	is_int(n, 3, "refused appends changed nothing");
	is_int(keygen(bin, "-i", "0", path, NULL), 2, "id 0 is a usage error");
	is_int(keygen(bin, "-b", "31", path, NULL), 2, "31 bytes is a usage error");
	unlink(path);
	is_int(keygen5(bin, "-i", "77", "-b", "48", path), 0, "create with an id and length");
	r = load(path, geteuid());
	ok(r == 0 && n == 1 && keys[0].id == 77 && keys[0].len == 48, "id 77, 48 bytes");
	unlink(path);
	ias_keys_wipe(keys, IAS_KEYS_MAX);
}

/* common/fstrust.h: who else could change a directory, a database or the
 * way to the key file. */
static int has(const char *needle)
{
	return strstr(err, needle) != NULL;
}

static void test_fstrust(void)
{
	char d[512], f[600], g[600], k[600];
	uid_t me = geteuid();
	int fd;

	snprintf(d, sizeof(d), "%s/st", dir);
	mkdir(d, 0750);
	chmod(d, 0750);
	is_int(ias_fs_private_dir(d, me, "state directory", err, sizeof(err)), 0,
	       "a 0750 directory of ours is private");
	chmod(d, 0770);
	is_int(ias_fs_private_dir(d, me, "state directory", err, sizeof(err)), -EPERM,
	       "group-writable state directory refused");
	ok(has("state directory") && has("mode 0770") && has(d), "the error names the path and the mode");
	chmod(d, 0757);
	is_int(ias_fs_private_dir(d, me, "state directory", err, sizeof(err)), -EPERM,
	       "other-writable state directory refused");
	chmod(d, 0750);
	is_int(ias_fs_private_dir(d, me + 1, "state directory", err, sizeof(err)), -EPERM,
	       "a directory owned by another uid refused");
	ok(has("owned by uid"), "and says by whom");

	snprintf(f, sizeof(f), "%s/x.db", d);
	is_int(ias_fs_private_file(f, me, err, sizeof(err)), 0, "a missing database is fine");
	fd = open(f, O_CREAT | O_WRONLY, 0640);
	close(fd);
	chmod(f, 0640);
	is_int(ias_fs_private_file(f, me, err, sizeof(err)), 0, "a 0640 database of ours is fine");
	is_int(ias_fs_private_file(f, me + 1, err, sizeof(err)), -EPERM,
	       "a database owned by another uid refused");
	chmod(f, 0660);
	is_int(ias_fs_private_file(f, me, err, sizeof(err)), -EPERM, "a group-writable database refused");
	chmod(f, 0640);
	snprintf(g, sizeof(g), "%s/x.db-wal", d);
	fd = open(g, O_CREAT | O_WRONLY, 0666);
	close(fd);
	chmod(g, 0666);
	is_int(ias_fs_private_db(d, "x.db", me, err, sizeof(err)), -EPERM,
	       "a world-writable -wal file refuses the database");
	ok(has("x.db-wal"), "naming the -wal file");
	unlink(g);
	snprintf(g, sizeof(g), "%s/x.db-journal", d);
	if (symlink("/etc/passwd", g) == 0) {
		is_int(ias_fs_private_db(d, "x.db", me, err, sizeof(err)), -ELOOP,
		       "a -journal symbolic link refuses the database");
		unlink(g);
	}
	is_int(ias_fs_private_db(d, "x.db", me, err, sizeof(err)), 0, "all private: accepted");
	unlink(f);

	/* The way to the key file. */
	snprintf(k, sizeof(k), "%s/keys", d);
	is_int(ias_fs_safe_ancestors(k, me, err, sizeof(err)), 0,
	       "a key file in a 0750 directory of ours: its ancestors are safe");
	chmod(d, 0777);
	is_int(ias_fs_safe_ancestors(k, me, err, sizeof(err)), -EPERM,
	       "a key file in a world-writable directory refused");
	ok(has("its directory") && has(d), "naming the directory");
	chmod(d, 01777);
	is_int(ias_fs_safe_ancestors(k, me, err, sizeof(err)), -EPERM,
	       "directly in a sticky world-writable directory: refused too");
	snprintf(g, sizeof(g), "%s/in", d);
	mkdir(g, 0700);
	snprintf(k, sizeof(k), "%s/in/keys", d);
	chmod(d, 0777);
	is_int(ias_fs_safe_ancestors(k, me, err, sizeof(err)), -EPERM,
	       "below a world-writable directory refused");
	ok(has("on the way to it"), "naming the directory on the way");
	chmod(d, 01777);
	is_int(ias_fs_safe_ancestors(k, me, err, sizeof(err)), me == 0 ? 0 : -EPERM,
	       me == 0 ? "below a root-owned sticky directory (like /tmp): the next one decides"
		       : "below a sticky directory not owned by root: refused");
	chmod(d, 0750);
	is_int(ias_fs_safe_ancestors(k, me, err, sizeof(err)), 0, "made private again: accepted");
	/* A symbolic link is followed to the directories it leads to. */
	snprintf(f, sizeof(f), "%s/link", dir);
	if (symlink(g, f) == 0) {
		snprintf(k, sizeof(k), "%s/link/keys", dir);
		is_int(ias_fs_safe_ancestors(k, me, err, sizeof(err)), 0, "through a link to a safe place");
		chmod(d, 0777);
		is_int(ias_fs_safe_ancestors(k, me, err, sizeof(err)), -EPERM,
		       "through a link into a world-writable tree: refused");
		chmod(d, 0750);
		unlink(f);
	}
	if (me == 0) {
		snprintf(k, sizeof(k), "%s/in/keys", d);
		if (chown(d, 40123, 0) == 0) {
			is_int(ias_fs_safe_ancestors(k, 0, err, sizeof(err)), -EPERM,
			       "a directory on the way owned by another user refused");
			ok(has("owned by uid 40123"), "naming the owner");
			if (chown(d, 0, 0) < 0)
				ok(0, "chown back");
		}
	}
	rmdir(g);
	rmdir(d);
}

int main(void)
{
	test_parse();
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	test_load();
	test_keygen();
	test_fstrust();
	rmdir(dir);
	return tap_done();
}
