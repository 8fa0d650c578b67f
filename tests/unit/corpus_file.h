/* Writing fuzz seed files from unit tests (their --write-corpus mode): one
 * file DIR/NAME holding the harness's mode byte, then the payload. */
#ifndef IAS_TESTS_CORPUS_FILE_H
#define IAS_TESTS_CORPUS_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* 0, or -1 when the file could not be written. */
static inline int corpus_write(const char *dir, const char *name, uint8_t mode,
			       const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	fputc(mode, f);
	fwrite(p, 1, n, f);
	return fclose(f);
}

/* With the environment variable env naming a directory, write p (no mode
 * byte: the whole input) there as the seed file NAME; else nothing. */
static inline void corpus_seed_env(const char *env, const char *name, const void *p, size_t n)
{
	const char *dir = getenv(env);
	char path[4096];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

#endif
