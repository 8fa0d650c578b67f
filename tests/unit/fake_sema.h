/* Fakes for the agent's core unit tests: the effects interface and the MAD
 * port (tests/unit/fake_mad_port.c), and an agent on a real store in a
 * temporary directory. */
#ifndef IAS_TESTS_FAKE_SEMA_H
#define IAS_TESTS_FAKE_SEMA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mad_defs/secmgt.h"
#include "sema/effects.h"
#include "sema/mad_port.h"
#include "sema/sema.h"

#define FAKE_MAX 64

struct fake_order { uint64_t client_id; uint32_t qpn; char action[16]; };
struct fake_trace { char incident[32]; pid_t pid; uint8_t hop; unsigned flags; };

struct fake_fx {
	struct fake_order orders[FAKE_MAX];
	unsigned norders;
	unsigned alerts;
	char last_alert_incident[32];
	struct fake_trace traces[FAKE_MAX];
	unsigned ntraces;
	unsigned kicks;
	int ready;		/* -1: never told */
	unsigned readiness_calls;
};

extern struct fake_fx fake;
extern const struct sema_effects fake_effects;

/* MAD port fake: every request is recorded; none is answered. */
struct fake_mad_req { struct mad_dest to; struct ias_secmgt_msg msg; mad_done_fn done; void *ctx; };
extern struct fake_mad_req fake_mad_reqs[FAKE_MAX];
extern unsigned fake_mad_nreqs;
/* Every pending request times out (done(NULL)); the list is emptied. */
void fake_mad_timeout_all(struct sema *s);

/* An agent with its store in a fresh temporary directory (dir filled). */
int fake_sema_open(struct sema *s, char *dir, size_t dirlen);
void fake_sema_close(struct sema *s, const char *dir);
/* A child that sleeps until killed; its PID. */
pid_t fake_victim(void);
void fake_victim_end(pid_t pid);
/* Counts of orders with this action. */
unsigned fake_orders(const char *action);
/* Forget the recorded effects and MAD requests (pending ones are not answered). */
void fake_reset(void);

#endif
