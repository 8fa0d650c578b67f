/* libias-sc: the TLS 1.3 side of a context and of a connection (see
 * sc_int.h). Only TLS 1.3; the server verifies client certificates in the
 * handshake when required, the client always verifies the server. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "verbs_ext/sc_int.h"

static __thread char tls_err[256];

const char *ias_sc_tls_error(void)
{
	return tls_err;
}

void sc_note_tls_error(char *buf, size_t cap, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char t[200] = "";

	if (e)
		ERR_error_string_n(e, t, sizeof(t));
	snprintf(buf, cap, "%s%s%s", what, t[0] ? ": " : "", t);
	ERR_clear_error();
}

/* ---- the context ---- */

static int new_session(SSL *ssl, SSL_SESSION *s)
{
	struct ias_sc_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (!ctx || ctx->cfg.no_resume)
		return 0;
	if (ctx->sess)
		SSL_SESSION_free(ctx->sess);
	ctx->sess = s; /* we keep the reference */
	return 1;
}

int sc_tls_setup(struct ias_sc_ctx *ctx)
{
	const struct ias_sc_config *cfg = &ctx->cfg;
	SSL_CTX *s;

	tls_err[0] = '\0';
	ERR_clear_error();
	s = SSL_CTX_new(cfg->server ? TLS_server_method() : TLS_client_method());
	if (!s) {
		sc_note_tls_error(tls_err, sizeof(tls_err), "SSL_CTX_new");
		return -EPROTO;
	}
	ctx->ssl = s;
	SSL_CTX_set_app_data(s, ctx);
	if (!SSL_CTX_set_min_proto_version(s, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(s, TLS1_3_VERSION)) {
		sc_note_tls_error(tls_err, sizeof(tls_err), "TLS 1.3 only");
		return -EPROTO;
	}
	if (cfg->cert && SSL_CTX_use_certificate_chain_file(s, cfg->cert) != 1) {
		sc_note_tls_error(tls_err, sizeof(tls_err), cfg->cert);
		return -EPROTO;
	}
	if (cfg->key && (SSL_CTX_use_PrivateKey_file(s, cfg->key, SSL_FILETYPE_PEM) != 1 ||
			 SSL_CTX_check_private_key(s) != 1)) {
		sc_note_tls_error(tls_err, sizeof(tls_err), cfg->key);
		return -EPROTO;
	}
	if (cfg->ca) {
		if (SSL_CTX_load_verify_locations(s, cfg->ca, NULL) != 1) {
			sc_note_tls_error(tls_err, sizeof(tls_err), cfg->ca);
			return -EPROTO;
		}
	} else if (!cfg->server && SSL_CTX_set_default_verify_paths(s) != 1) {
		sc_note_tls_error(tls_err, sizeof(tls_err), "default trust store");
		return -EPROTO;
	}
	if (cfg->server) {
		static const unsigned char sid[] = "ias-sc";

		SSL_CTX_set_session_id_context(s, sid, sizeof(sid) - 1);
		SSL_CTX_set_num_tickets(s, cfg->no_resume ? 0 : 1);
		if (cfg->require_peer_cert)
			SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	} else {
		SSL_CTX_set_verify(s, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_CLIENT |
						      SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(s, new_session);
	}
	return 0;
}

/* SSL result r of an I/O call: 0 would block (want set), < 0 failure. */
/* ---- a connection ---- */

/* ---- a connection ---- */

/* SSL result r of an I/O call: 0 would block (want set), < 0 failure. */
int sc_tls_io(struct ias_sc_conn *c, int r)
{
	int e = SSL_get_error(c->ssl, r);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		c->want = IAS_SC_WANT_READ;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->want = IAS_SC_WANT_WRITE;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return -ECONNRESET;
	case SSL_ERROR_SYSCALL:
		if (!c->err[0])
			snprintf(c->err, sizeof(c->err), "connection closed during TLS");
		ERR_clear_error();
		return -ECONNRESET;
	default:
		if (!c->err[0]) {
			long v = SSL_get_verify_result(c->ssl);

			sc_note_tls_error(c->err, sizeof(c->err), "TLS");
			if (v != X509_V_OK) {
				size_t l = strlen(c->err);

				snprintf(c->err + l, sizeof(c->err) - l, " (%s)",
					 X509_verify_cert_error_string(v));
			}
		}
		ERR_clear_error();
		return -EPROTO;
	}
}

void sc_set_peer(struct ias_sc_conn *c)
{
	X509 *pc = SSL_get1_peer_certificate(c->ssl);
	BIO *b;
	int n;

	if (!pc) {
		snprintf(c->peer, sizeof(c->peer), "anonymous client");
		return;
	}
	b = BIO_new(BIO_s_mem());
	if (b && X509_NAME_print_ex(b, X509_get_subject_name(pc), 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(b, c->peer, (int)sizeof(c->peer) - 1);
		c->peer[n > 0 ? n : 0] = '\0';
	}
	if (!c->peer[0])
		snprintf(c->peer, sizeof(c->peer), "unnamed certificate");
	BIO_free(b);
	X509_free(pc);
}
