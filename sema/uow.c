/* See uow.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/log.h"
#include "sema/crash.h"
#include "sema/effects.h"
#include "sema/engine_int.h"
#include "sema/uow.h"

struct uow_ack {
	int has_alert;
	struct ias_alert_rec alert;
	char origin[16];
	int level;
	char text[320];
};

int uow_begin(struct sema *s, struct sema_uow *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	u->s = s;
	if (ias_store_begin(s->store) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "store: %s", ias_store_errmsg(s->store));
		return -EIO;
	}
	u->open = true;
	return 0;
}

/* A list the unit owns with room for one more element: v itself, a larger
 * copy (cap updated), or NULL (out of memory; v unchanged). */
static void *room(void *v, size_t n, size_t *cap, size_t size)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return v;
	ncap = *cap ? *cap * 2 : 4;
	nv = realloc(v, ncap * size);
	if (nv)
		*cap = ncap;
	return nv;
}

int uow_enforced(struct sema_uow *u, const struct enforced *e)
{
	struct enforced *nv = room(u->enf, u->nenf, &u->capenf, sizeof(*u->enf));

	if (!nv) {
		struct enforced tmp = *e;

		block_unenforce(u->s, &tmp);
		return -ENOMEM;
	}
	u->enf = nv;
	u->enf[u->nenf++] = *e;
	return 0;
}

static struct uow_ack *ack_new(struct sema_uow *u)
{
	struct uow_ack *nv = room(u->ack, u->nack, &u->capack, sizeof(*u->ack));

	if (!nv)
		return NULL;
	u->ack = nv;
	memset(&u->ack[u->nack], 0, sizeof(u->ack[0]));
	return &u->ack[u->nack++];
}

int uow_ack_alert(struct sema_uow *u, const struct ias_alert_rec *a, const char *origin)
{
	struct uow_ack *k = ack_new(u);

	if (!k)
		return -ENOMEM;
	k->has_alert = 1;
	k->alert = *a;
	snprintf(k->origin, sizeof(k->origin), "%s", origin ? origin : "");
	return 0;
}

int uow_ack_log(struct sema_uow *u, int level, const char *fmt, ...)
{
	struct uow_ack *k = ack_new(u);
	va_list ap;

	if (!k)
		return -ENOMEM;
	k->level = level;
	va_start(ap, fmt);
	vsnprintf(k->text, sizeof(k->text), fmt, ap);
	va_end(ap);
	return 0;
}

void uow_kick(struct sema_uow *u)
{
	u->kick = true;
}

static void uow_free(struct sema_uow *u)
{
	free(u->enf);
	free(u->ack);
	u->enf = NULL;
	u->ack = NULL;
	u->nenf = u->nack = u->capenf = u->capack = 0;
	u->open = false;
}

static void undo_all(struct sema_uow *u)
{
	size_t i = u->nenf;

	while (i--)
		block_unenforce(u->s, &u->enf[i]);
}

static void set_ready(struct sema *s, bool ready, const char *why)
{
	if (!ready == !!s->store_failed)
		return;
	s->store_failed = !ready;
	if (ready)
		log_notice("the store commits again: ready");
	else
		log_err("the store cannot commit (%s): not ready until it can", why);
	if (s->fx && s->fx->readiness)
		s->fx->readiness(s->fx->ctx, ready, why);
}

int uow_commit(struct sema_uow *u, char *err, size_t errlen)
{
	struct sema *s = u->s;
	size_t i;

	if (!u->open) {
		uow_free(u);
		return -EINVAL;
	}
	if (ias_store_commit(s->store) < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", ias_store_errmsg(s->store));
		/* A store that rolled back inside the failed commit has no
		 * transaction left to roll back. */
		if (ias_store_in_transaction(s->store))
			ias_store_rollback(s->store);
		undo_all(u);
		if (err && errlen)
			snprintf(err, errlen, "not recorded, nothing blocked: store: %s", why);
		set_ready(s, false, why);
		uow_free(u);
		return -EIO;
	}
	sema_crash_point("commit");
	set_ready(s, true, NULL);
	for (i = 0; i < u->nack; i++) {
		struct uow_ack *k = &u->ack[i];

		if (k->has_alert && s->fx && s->fx->broadcast_alert)
			s->fx->broadcast_alert(s->fx->ctx, &k->alert, s->cfg.node_name, k->origin);
		if (k->text[0])
			ias_log(k->level, "uow_commit", "%s", k->text);
	}
	if (u->kick && s->fx && s->fx->kick_outbox)
		s->fx->kick_outbox(s->fx->ctx);
	uow_free(u);
	return 0;
}

void uow_abort(struct sema_uow *u)
{
	if (u->open && ias_store_in_transaction(u->s->store))
		ias_store_rollback(u->s->store);
	undo_all(u);
	uow_free(u);
}
