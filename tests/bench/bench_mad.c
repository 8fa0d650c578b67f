/* Benchmark: SecMgt MADs per second on one core, encode + authenticate +
 * decode + verify (with the replay guard), side by side with the baseline of
 * a bare HMAC-SHA256 over 256 bytes twice (sign + verify) through EVP_MAC.
 * Runs alternate; medians and their ratio are printed. Not a test.
 *
 * usage: bench_mad [iterations-per-run [runs]] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "mad_defs/secmgt.h"

static struct ias_keyring kr;
static struct ias_replay rp;
static uint8_t key[32];
static volatile unsigned sink;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double run_mad(long n)
{
	struct ias_secmgt_msg m, d;
	uint8_t mad[IAS_MAD_SIZE];
	double t0 = mono();
	long i;

	memset(&m, 0, sizeof(m));
	m.method = IAS_METHOD_SET;
	m.attr_id = IAS_ATTR_TRACE;
	m.u.trace.incident_id = 17;
	m.u.trace.dest_qpn = 0x1a;
	m.u.trace.hop_limit = 8;
	m.u.trace.reason = IAS_TREASON_TRACE_HOP;
	for (i = 0; i < n; i++) {
		uint64_t now = now_ms();

		m.tid = (uint64_t)i;
		if (ias_secmgt_encode(&m, &kr, now, mad) ||
		    ias_secmgt_decode(mad, sizeof(mad), &kr, &rp, now, &d) != IAS_MAD_OK) {
			fprintf(stderr, "bench_mad: round trip failed at %ld\n", i);
			exit(1);
		}
		sink += d.u.trace.dest_qpn;
	}
	return (double)n / (mono() - t0);
}

static double run_hmac(long n, EVP_MAC_CTX *ctx)
{
	uint8_t buf[IAS_MAD_SIZE], t1[32], t2[32];
	double t0 = mono();
	size_t l;
	long i;

	memset(buf, 0x5a, sizeof(buf));
	for (i = 0; i < n; i++) {
		buf[0] = (uint8_t)i;
		if (!EVP_MAC_init(ctx, NULL, 0, NULL) ||
		    !EVP_MAC_update(ctx, buf, sizeof(buf)) ||
		    !EVP_MAC_final(ctx, t1, &l, sizeof(t1)) ||
		    !EVP_MAC_init(ctx, NULL, 0, NULL) ||
		    !EVP_MAC_update(ctx, buf, sizeof(buf)) ||
		    !EVP_MAC_final(ctx, t2, &l, sizeof(t2)) ||
		    CRYPTO_memcmp(t1, t2, 16) != 0) {
			fprintf(stderr, "bench_mad: HMAC failed\n");
			exit(1);
		}
		sink += t2[0];
	}
	return (double)n / (mono() - t0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	int runs = argc > 2 ? atoi(argv[2]) : 7, i;
	char digest[] = "SHA256";
	OSSL_PARAM params[2];
	double *a, *b, ma, mb;
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;

	if (n < 1 || runs < 1 || runs > 1000)
		return 2;
	for (i = 0; i < (int)sizeof(key); i++)
		key[i] = (uint8_t)(i * 13 + 1);
	if (ias_keyring_init(&kr) || ias_keyring_add(&kr, 1, key, sizeof(key)) ||
	    ias_keyring_set_active(&kr, 1) || ias_replay_init(&rp, 30000))
		return 1;
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!ctx || !EVP_MAC_init(ctx, key, sizeof(key), params))
		return 1;
	a = calloc((size_t)runs, sizeof(*a));
	b = calloc((size_t)runs, sizeof(*b));
	if (!a || !b)
		return 1;
	run_mad(n / 10 + 1);   /* warm up */
	run_hmac(n / 10 + 1, ctx);
	for (i = 0; i < runs; i++) {
		a[i] = run_mad(n);
		b[i] = run_hmac(n, ctx);
		printf("run %d: secmgt %.0f MADs/s   baseline %.0f pairs/s\n", i + 1, a[i], b[i]);
	}
	ma = median(a, runs);
	mb = median(b, runs);
	printf("median secmgt encode+auth+decode+verify: %.0f MADs/s per core (%.2f us each)\n",
	       ma, 1e6 / ma);
	printf("median baseline 2 x HMAC-SHA256(256 B):   %.0f per s per core (%.2f us each)\n",
	       mb, 1e6 / mb);
	printf("ratio secmgt/baseline: %.3f\n", ma / mb);
	printf("replay guard: %u remembered, %llu forced evictions\n", rp.count,
	       (unsigned long long)rp.forced);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	ias_keyring_wipe(&kr);
	free(a);
	free(b);
	return 0;
}
