/* Replay driver for fuzz harnesses in ordinary builds.
 *
 * Linked with one harness (which defines LLVMFuzzerTestOneInput), it feeds the
 * harness every file of tests/fuzz/corpus/<name>/ (name = program name minus
 * "replay_"), then a fixed number of deterministic mutations of each (bit
 * flips, truncations, extensions). A crash or sanitizer report fails the test;
 * the harness itself asserts what must hold. Output is TAP. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUTATIONS 2000
#define REPLAY_MAX_INPUT (1 << 20)

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void mutate_and_run(const uint8_t *seed, size_t n, uint8_t *work)
{
	int i;

	for (i = 0; i < MUTATIONS; i++) {
		size_t len = n, k, flips = 1 + next_rand() % 4;

		memcpy(work, seed, n);
		switch (next_rand() % 4) {
		case 0: /* truncate */
			len = n ? next_rand() % (n + 1) : 0;
			break;
		case 1: /* extend with noise */
			len = n + 1 + next_rand() % 64;
			if (len > REPLAY_MAX_INPUT)
				len = REPLAY_MAX_INPUT;
			for (k = n; k < len; k++)
				work[k] = (uint8_t)next_rand();
			break;
		default:
			break;
		}
		for (k = 0; k < flips && len; k++)
			work[next_rand() % len] ^= (uint8_t)(1u << (next_rand() % 8));
		LLVMFuzzerTestOneInput(work, len);
	}
}

int main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	const char *prog = strrchr(argv[0], '/');
	char dir[4096], path[8192];
	uint8_t *seed, *work;
	struct dirent *de;
	int files = 0;
	DIR *d;

	(void)argc;
	prog = prog ? prog + 1 : argv[0];
	if (strncmp(prog, "replay_", 7) == 0)
		prog += 7;
	if (strncmp(prog, "lt-", 3) == 0)
		prog += 3;
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top ? top : ".", prog);
	seed = malloc(REPLAY_MAX_INPUT);
	work = malloc(REPLAY_MAX_INPUT + 64);
	if (!seed || !work)
		return 99;
	/* The empty input first. */
	LLVMFuzzerTestOneInput(seed, 0);
	d = opendir(dir);
	if (!d) {
		printf("not ok 1 - corpus directory %s is readable\n1..1\n", dir);
		return 1;
	}
	while ((de = readdir(d))) {
		size_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = read_file(path, seed, REPLAY_MAX_INPUT);
		LLVMFuzzerTestOneInput(seed, n);
		mutate_and_run(seed, n, work);
		files++;
	}
	closedir(d);
	free(seed);
	free(work);
	printf("%sok 1 - %s: %d corpus files and %d mutations each ran without a crash\n1..1\n",
	       files ? "" : "not ", prog, files, MUTATIONS);
	return files ? 0 : 1;
}
