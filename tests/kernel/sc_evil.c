/* sc_evil: a misbehaving secured-channel client for the kernel-bed tests.
 *
 *   sc_evil HOST PORT CA CERT KEY MODE
 *
 * MODE is one of
 *   notls      plain garbage instead of a TLS ClientHello
 *   stall      connect and send nothing
 *   truncated  after TLS: a header promising a 28-byte body, then 10 bytes
 *   oversized  after TLS: a header announcing a 65535-byte body
 *   garbage    after TLS: 40 bytes of noise
 *   badversion after TLS: a well-formed CLIENT_PARAMS of version 9
 * and prints one line: "EVIL MODE params=yes|no reply=<what came back>",
 * where reply is "error:<code>" for an ERROR message from the server,
 * "closed" when the server closed without one, "tls-failed" or "timeout".
 * Exit status 0 when the server answered with an error or closed, 1 when it
 * did anything else (or nothing within 15 s). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "verbs_ext/ias_sc.h"

static int tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	struct timeval tv = { .tv_sec = 15 };
	int fd;

	if (getaddrinfo(host, port, &hints, &res))
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Read one whole exchange message over TLS: 1 got, 0 closed, -1 other. */
static int tls_read_msg(SSL *s, struct ias_sc_msg *m)
{
	uint8_t b[IAS_SC_MSG_MAX];
	size_t have = 0, need = IAS_SC_HDR_LEN;
	uint16_t body;
	int r;

	while (have < need) {
		r = SSL_read(s, b + have, (int)(need - have));
		if (r <= 0) {
			int e = SSL_get_error(s, r);

			if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
				return 0;
			if (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))
				return -2;
			return e == SSL_ERROR_SYSCALL ? 0 : -1;
		}
		have += (size_t)r;
		if (have == IAS_SC_HDR_LEN && need == IAS_SC_HDR_LEN) {
			if (ias_sc_hdr_check(b, have, &body))
				return -1;
			need += body;
		}
	}
	return ias_sc_msg_decode(b, have, m) == 0 ? 1 : -1;
}

int main(int argc, char **argv)
{
	const char *mode;
	struct ias_sc_msg m;
	uint8_t out[128];
	size_t n = 0;
	int fd, r, params = 0, i;
	SSL_CTX *ctx;
	SSL *s;
	char reply[64] = "nothing";

	if (argc != 7) {
		fprintf(stderr, "usage: sc_evil HOST PORT CA CERT KEY MODE\n");
		return 2;
	}
	mode = argv[6];
	fd = tcp_connect(argv[1], argv[2]);
	if (fd < 0) {
		perror("sc_evil: connect");
		return 1;
	}
	if (strcmp(mode, "notls") == 0 || strcmp(mode, "stall") == 0) {
		char b[256];
		ssize_t k;

		if (mode[0] == 'n') {
			for (i = 0; i < 64; i++)
				out[i] = (uint8_t)(i * 37 + 11);
			if (write(fd, out, 64) != 64)
				return 1;
		}
		do
			k = read(fd, b, sizeof(b));
		while (k > 0);
		snprintf(reply, sizeof(reply), "%s", k == 0 || errno == ECONNRESET ? "closed" : "timeout");
		printf("EVIL %s params=no reply=%s\n", mode, reply);
		return strcmp(reply, "closed") == 0 ? 0 : 1;
	}

	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, argv[4]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[5], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	s = SSL_new(ctx);
	SSL_set_fd(s, fd);
	if (SSL_connect(s) != 1) {
		printf("EVIL %s params=no reply=tls-failed\n", mode);
		return 1;
	}
	/* The server speaks first. */
	if (tls_read_msg(s, &m) == 1 && m.type == IAS_SC_T_SERVER_PARAMS)
		params = 1;

	memset(&m, 0, sizeof(m));
	m.type = IAS_SC_T_CLIENT_PARAMS;
	m.params.qpn = 0x11;
	m.params.psn = 0x22;
	m.params.mtu = IBV_MTU_1024;
	ias_sc_msg_encode(&m, out, sizeof(out), &n);
	if (strcmp(mode, "truncated") == 0) {
		n = IAS_SC_HDR_LEN + 10;
	} else if (strcmp(mode, "oversized") == 0) {
		out[6] = 0xFF;
		out[7] = 0xFF;
		memset(out + IAS_SC_HDR_LEN, 0xAA, 40);
		n = IAS_SC_HDR_LEN + 40;
	} else if (strcmp(mode, "garbage") == 0) {
		for (i = 0; i < 40; i++)
			out[i] = (uint8_t)(i * 73 + 5);
		n = 40;
	} else if (strcmp(mode, "badversion") == 0) {
		out[4] = 9;
	} else {
		fprintf(stderr, "sc_evil: unknown mode %s\n", mode);
		return 2;
	}
	if (SSL_write(s, out, (int)n) != (int)n) {
		printf("EVIL %s params=%s reply=closed\n", mode, params ? "yes" : "no");
		return 0;
	}
	r = tls_read_msg(s, &m);
	if (r == 1 && m.type == IAS_SC_T_ERROR)
		snprintf(reply, sizeof(reply), "error:%s", ias_sc_code_str(m.code));
	else if (r == 1)
		snprintf(reply, sizeof(reply), "message-type-%u", m.type);
	else if (r == 0)
		snprintf(reply, sizeof(reply), "closed");
	else if (r == -2)
		snprintf(reply, sizeof(reply), "timeout");
	else
		snprintf(reply, sizeof(reply), "tls-error");
	printf("EVIL %s params=%s reply=%s\n", mode, params ? "yes" : "no", reply);
	SSL_free(s);
	SSL_CTX_free(ctx);
	close(fd);
	return strncmp(reply, "error:", 6) == 0 || strcmp(reply, "closed") == 0 ? 0 : 1;
}
