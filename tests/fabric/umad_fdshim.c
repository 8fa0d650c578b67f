/* umad_fdshim: a test-bed-only LD_PRELOAD companion to ibsim's umad2sim.
 *
 * Two things a daemon built for the kernel's umad interface cannot do under
 * umad2sim, and which this shim supplies:
 *
 *  1. Event loops. umad2sim gives each simulated umad port a fake descriptor
 *     (1024..2047) that only its own poll()/read() wrappers understand; epoll
 *     (sd-event) on it fails with EBADF. umad_get_fd() here returns a real
 *     eventfd that is readable while MADs wait for that port.
 *  2. Two handles for one class. The kernel routes a response to the agent
 *     that sent the request (by TID) and a request to the agent registered
 *     for its method. umad2sim keeps one handle per management class per
 *     process: the last to register gets everything of that class. The shim
 *     reads every MAD itself and routes it: responses to the handle that
 *     registered the class without methods (if any), requests to the handle
 *     that registered methods (if any), else to the handle it arrived on.
 *
 *  3. Whole MADs. umad2sim's receiver copies a packet into a buffer the
 *     size of ibsim's request record and so drops the last bytes of every
 *     256-byte MAD (they arrive as heap garbage). The shim also wraps read():
 *     umad2sim's own reads of ibsim packets pass through it (RTLD_NEXT),
 *     and it keeps the last few hundred whole MADs; each MAD a handle
 *     receives is completed from that store, matched on its first bytes.
 *
 * umad_open_port(), umad_register*(), umad_recv(), umad_poll(),
 * umad_get_fd() and umad_close_port() are wrapped; on real (kernel)
 * descriptors every wrapper is a pass-through, so the shim changes nothing
 * on real hardware. Load with LD_PRELOAD="libumad2sim.so libiasumadfd.so".
 * Not installed. */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/umad.h>

#define SHIM_PORTS 16
#define SHIM_REGS 8
#define FAKE_MIN 1024
#define FAKE_MAX 2048
#define SHIM_BUF 4096
#define SHIM_QMAX 4096		/* queued MADs per port at most */
#define MAD_LEN 256
#define STASH 512		/* whole MADs remembered */
#define MATCH 208		/* leading bytes umad2sim always copies */

/* ibsim's packet record (include/ibsim.h), as umad2sim reads it. */
struct sim_packet {
	uint32_t dlid, slid, dqp, sqp, status;
	uint64_t length;
	uint8_t mad[MAD_LEN];
};

static uint8_t stash[STASH][MAD_LEN];
static unsigned stash_next;
static pthread_mutex_t stash_lock = PTHREAD_MUTEX_INITIALIZER;

ssize_t read(int fd, void *buf, size_t count);

ssize_t read(int fd, void *buf, size_t count)
{
	static ssize_t (*real_read)(int, void *, size_t);
	ssize_t r;

	if (!real_read)
		real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	if (!real_read) {
		errno = ENOSYS;
		return -1;
	}
	r = real_read(fd, buf, count);
	if (r == (ssize_t)sizeof(struct sim_packet) && count == sizeof(struct sim_packet)) {
		const struct sim_packet *p = buf;

		pthread_mutex_lock(&stash_lock);
		memcpy(stash[stash_next], p->mad, MAD_LEN);
		stash_next = (stash_next + 1) % STASH;
		pthread_mutex_unlock(&stash_lock);
	}
	return r;
}

/* Complete a received MAD from the store (newest match first). */
static void complete_mad(uint8_t *mad, int len)
{
	unsigned i;

	if (len != MAD_LEN)
		return;
	pthread_mutex_lock(&stash_lock);
	for (i = 1; i <= STASH; i++) {
		const uint8_t *s = stash[(stash_next + STASH - i) % STASH];

		if (!memcmp(s, mad, MATCH)) {
			memcpy(mad + MATCH, s + MATCH, MAD_LEN - MATCH);
			break;
		}
	}
	pthread_mutex_unlock(&stash_lock);
}

struct shim_msg {
	struct shim_msg *next;
	int ret;		/* what umad_recv returned (agent id) */
	int len;		/* MAD length */
	size_t size;		/* bytes of umad buffer copied */
	uint8_t data[];
};

struct shim_reg {
	uint8_t mgmt_class;
	uint8_t with_methods;
};

struct shim_port {
	int used;
	int portid;
	int fake;		/* umad2sim's descriptor */
	int efd;		/* what event loops watch */
	int stop;
	unsigned nregs;
	struct shim_reg regs[SHIM_REGS];
	struct shim_msg *head, *tail;
	unsigned qlen;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static struct shim_port ports[SHIM_PORTS];
static pthread_mutex_t glock = PTHREAD_MUTEX_INITIALIZER;

/* They replace libibumad's (default visibility). */
int umad_open_port(const char *ca_name, int portnum);
int umad_close_port(int portid);
int umad_get_fd(int portid);
int umad_recv(int portid, void *umad, int *length, int timeout_ms);
int umad_poll(int portid, int timeout_ms);
int umad_register(int portid, int mgmt_class, int mgmt_version, uint8_t rmpp_version,
		  long method_mask[16 / sizeof(long)]);
int umad_register_oui(int portid, int mgmt_class, uint8_t rmpp_version, uint8_t oui[3],
		      long method_mask[16 / sizeof(long)]);
int umad_register2(int port_id, struct umad_reg_attr *attr, uint32_t *agent_id);

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

static struct shim_port *find_locked(int portid)
{
	int i;

	for (i = 0; i < SHIM_PORTS; i++)
		if (ports[i].used && ports[i].portid == portid)
			return &ports[i];
	return NULL;
}

static struct shim_port *find(int portid)
{
	struct shim_port *sp;

	pthread_mutex_lock(&glock);
	sp = find_locked(portid);
	pthread_mutex_unlock(&glock);
	return sp;
}

static void efd_set(struct shim_port *sp)
{
	uint64_t one = 1;
	ssize_t r;

	do
		r = write(sp->efd, &one, sizeof(one));
	while (r < 0 && errno == EINTR);
}

static void efd_clear(struct shim_port *sp)
{
	uint64_t v;

	if (read(sp->efd, &v, sizeof(v)) < 0) {
		/* nothing was pending */
	}
}

static int has_mask(const long *mask)
{
	size_t i;

	if (!mask)
		return 0;
	for (i = 0; i < 16 / sizeof(long); i++)
		if (mask[i])
			return 1;
	return 0;
}

static void note_reg(int portid, int mgmt_class, int with_methods)
{
	struct shim_port *sp;

	pthread_mutex_lock(&glock);
	sp = find_locked(portid);
	if (sp && sp->nregs < SHIM_REGS) {
		sp->regs[sp->nregs].mgmt_class = (uint8_t)mgmt_class;
		sp->regs[sp->nregs].with_methods = (uint8_t)with_methods;
		sp->nregs++;
	}
	pthread_mutex_unlock(&glock);
}

/* Choose the handle for a MAD of this class; glock held. */
static struct shim_port *route_locked(struct shim_port *from, uint8_t mgmt_class, int response)
{
	struct shim_port *best = NULL;
	int i;
	unsigned j;

	for (i = 0; i < SHIM_PORTS; i++) {
		struct shim_port *sp = &ports[i];

		if (!sp->used || sp->stop)
			continue;
		for (j = 0; j < sp->nregs; j++) {
			if (sp->regs[j].mgmt_class != mgmt_class)
				continue;
			if (response && !sp->regs[j].with_methods)
				return sp;
			if (!response && sp->regs[j].with_methods)
				return sp;
			if (!best)
				best = sp;
		}
	}
	return best ? best : from;
}

static void deliver(struct shim_port *from, struct shim_msg *m)
{
	const uint8_t *mad = m->data + umad_size();
	struct shim_port *to;

	pthread_mutex_lock(&glock);
	to = m->len >= 4 ? route_locked(from, mad[1], (mad[3] & 0x80) != 0) : from;
	pthread_mutex_lock(&to->mu);
	if (to->qlen >= SHIM_QMAX) {
		pthread_mutex_unlock(&to->mu);
		pthread_mutex_unlock(&glock);
		free(m);
		return;
	}
	if (to->tail)
		to->tail->next = m;
	else
		to->head = m;
	to->tail = m;
	to->qlen++;
	efd_set(to);
	pthread_cond_broadcast(&to->cv);
	pthread_mutex_unlock(&to->mu);
	pthread_mutex_unlock(&glock);
}

/* Reads everything umad2sim queues on this handle's fake descriptor. */
static void *helper(void *arg)
{
	struct shim_port *sp = arg;
	int (*real_recv)(int, void *, int *, int) =
		REAL("umad_recv", int (*)(int, void *, int *, int));
	uint8_t *buf = malloc(SHIM_BUF);

	if (!buf || !real_recv) {
		free(buf);
		return NULL;
	}
	while (!__atomic_load_n(&sp->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = sp->fake, .events = POLLIN };
		struct shim_msg *m;
		int len = (int)(SHIM_BUF - umad_size()), r;

		/* Bounded waits, so a stop request is noticed promptly. */
		if (poll(&p, 1, 100) <= 0)
			continue;
		r = real_recv(sp->portid, buf, &len, 0);
		if (r < 0 || len < 0)
			continue;
		if ((size_t)len > SHIM_BUF - umad_size())
			len = (int)(SHIM_BUF - umad_size());
		complete_mad(buf + umad_size(), len);
		m = malloc(sizeof(*m) + umad_size() + (size_t)len);
		if (!m)
			continue;
		m->next = NULL;
		m->ret = r;
		m->len = len;
		m->size = umad_size() + (size_t)len;
		memcpy(m->data, buf, m->size);
		deliver(sp, m);
	}
	free(buf);
	return NULL;
}

int umad_open_port(const char *ca_name, int portnum)
{
	int (*real_open)(const char *, int) = REAL("umad_open_port", int (*)(const char *, int));
	int (*real_fd)(int) = REAL("umad_get_fd", int (*)(int));
	struct shim_port *sp = NULL;
	int portid, fd, i;

	if (!real_open || !real_fd)
		return -ENOSYS;
	portid = real_open(ca_name, portnum);
	if (portid < 0)
		return portid;
	fd = real_fd(portid);
	if (fd < FAKE_MIN || fd >= FAKE_MAX)
		return portid;
	pthread_mutex_lock(&glock);
	for (i = 0; i < SHIM_PORTS; i++)
		if (!ports[i].used) {
			sp = &ports[i];
			break;
		}
	if (sp) {
		memset(sp, 0, sizeof(*sp));
		sp->portid = portid;
		sp->fake = fd;
		sp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		pthread_mutex_init(&sp->mu, NULL);
		pthread_cond_init(&sp->cv, NULL);
		if (sp->efd >= 0 && pthread_create(&sp->th, NULL, helper, sp) == 0) {
			sp->used = 1;
		} else {
			if (sp->efd >= 0)
				close(sp->efd);
			sp = NULL;
		}
	}
	pthread_mutex_unlock(&glock);
	/* Without a slot the handle still works, unrouted and unpollable. */
	return portid;
}

int umad_close_port(int portid)
{
	int (*real_close)(int) = REAL("umad_close_port", int (*)(int));
	struct shim_port *sp = find(portid);

	if (!real_close)
		return -ENOSYS;
	if (sp) {
		struct shim_msg *m;

		__atomic_store_n(&sp->stop, 1, __ATOMIC_RELEASE);
		pthread_join(sp->th, NULL);
		pthread_mutex_lock(&glock);
		pthread_mutex_lock(&sp->mu);
		while ((m = sp->head)) {
			sp->head = m->next;
			free(m);
		}
		sp->tail = NULL;
		pthread_mutex_unlock(&sp->mu);
		close(sp->efd);
		pthread_cond_destroy(&sp->cv);
		pthread_mutex_destroy(&sp->mu);
		sp->used = 0;
		pthread_mutex_unlock(&glock);
	}
	return real_close(portid);
}

int umad_get_fd(int portid)
{
	int (*real_fd)(int) = REAL("umad_get_fd", int (*)(int));
	struct shim_port *sp = find(portid);

	if (sp)
		return sp->efd;
	return real_fd ? real_fd(portid) : -ENOSYS;
}

/* Wait until the port's queue is non-empty; 0, or -ETIMEDOUT. mu held. */
static int wait_queue(struct shim_port *sp, int timeout_ms)
{
	struct timespec dl;

	if (sp->head)
		return 0;
	if (timeout_ms == 0)
		return -ETIMEDOUT;
	if (timeout_ms < 0) {
		while (!sp->head)
			pthread_cond_wait(&sp->cv, &sp->mu);
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (!sp->head)
		if (pthread_cond_timedwait(&sp->cv, &sp->mu, &dl) == ETIMEDOUT)
			break;
	return sp->head ? 0 : -ETIMEDOUT;
}

int umad_recv(int portid, void *umad, int *length, int timeout_ms)
{
	int (*real_recv)(int, void *, int *, int) =
		REAL("umad_recv", int (*)(int, void *, int *, int));
	struct shim_port *sp = find(portid);
	struct shim_msg *m;
	int r;

	if (!sp)
		return real_recv ? real_recv(portid, umad, length, timeout_ms) : -ENOSYS;
	pthread_mutex_lock(&sp->mu);
	r = wait_queue(sp, timeout_ms);
	if (r) {
		pthread_mutex_unlock(&sp->mu);
		return r;
	}
	m = sp->head;
	if (*length < m->len) {
		*length = m->len;
		pthread_mutex_unlock(&sp->mu);
		return -ENOSPC;
	}
	sp->head = m->next;
	if (!sp->head) {
		sp->tail = NULL;
		efd_clear(sp);
	}
	sp->qlen--;
	pthread_mutex_unlock(&sp->mu);
	memcpy(umad, m->data, m->size);
	*length = m->len;
	r = m->ret;
	free(m);
	return r;
}

int umad_poll(int portid, int timeout_ms)
{
	int (*real_poll)(int, int) = REAL("umad_poll", int (*)(int, int));
	struct shim_port *sp = find(portid);
	int r;

	if (!sp)
		return real_poll ? real_poll(portid, timeout_ms) : -ENOSYS;
	pthread_mutex_lock(&sp->mu);
	r = wait_queue(sp, timeout_ms);
	pthread_mutex_unlock(&sp->mu);
	return r;
}

int umad_register(int portid, int mgmt_class, int mgmt_version, uint8_t rmpp_version,
		  long method_mask[16 / sizeof(long)])
{
	int (*real_reg)(int, int, int, uint8_t, long *) =
		REAL("umad_register", int (*)(int, int, int, uint8_t, long *));
	int r;

	if (!real_reg)
		return -ENOSYS;
	r = real_reg(portid, mgmt_class, mgmt_version, rmpp_version, method_mask);
	if (r >= 0)
		note_reg(portid, mgmt_class, has_mask(method_mask));
	return r;
}

int umad_register_oui(int portid, int mgmt_class, uint8_t rmpp_version, uint8_t oui[3],
		      long method_mask[16 / sizeof(long)])
{
	int (*real_reg)(int, int, uint8_t, uint8_t *, long *) =
		REAL("umad_register_oui", int (*)(int, int, uint8_t, uint8_t *, long *));
	int r;

	if (!real_reg)
		return -ENOSYS;
	r = real_reg(portid, mgmt_class, rmpp_version, oui, method_mask);
	if (r >= 0)
		note_reg(portid, mgmt_class, has_mask(method_mask));
	return r;
}

int umad_register2(int port_id, struct umad_reg_attr *attr, uint32_t *agent_id)
{
	int (*real_reg)(int, struct umad_reg_attr *, uint32_t *) =
		REAL("umad_register2", int (*)(int, struct umad_reg_attr *, uint32_t *));
	int r;

	if (!real_reg)
		return -ENOSYS;
	r = real_reg(port_id, attr, agent_id);
	if (r == 0)
		note_reg(port_id, attr->mgmt_class,
			 attr->method_mask[0] || attr->method_mask[1]);
	return r;
}
