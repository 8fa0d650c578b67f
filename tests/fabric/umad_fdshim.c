/* umad_fdshim: a test-bed-only LD_PRELOAD companion to ibsim's umad2sim.
 *
 * umad2sim gives every simulated umad port a fake descriptor (1024..2047)
 * that only its own poll()/read() wrappers understand; epoll (sd-event) on
 * it fails with EBADF. A daemon that watches its umad fd in an event loop
 * therefore cannot run under the simulator as is. This shim interposes
 * umad_get_fd(): for a fake descriptor it returns a real eventfd instead,
 * and a helper thread per port waits in (umad2sim's) poll() on the fake
 * descriptor and makes the eventfd readable while MADs are queued. Its
 * umad_recv() wrapper re-arms the helper once the queue is empty, and its
 * umad_close_port() wrapper stops the helper before the port goes away.
 *
 * For real descriptors every wrapper is a plain pass-through, so loading
 * the shim on a real kernel changes nothing. Load it together with
 * umad2sim: LD_PRELOAD="libumad2sim.so .../libiasumadfd.so". Not installed. */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SHIM_PORTS 16
#define FAKE_MIN 1024
#define FAKE_MAX 2048

struct shim_port {
	int used;
	int portid;
	int fake;		/* umad2sim's descriptor */
	int efd;		/* what the caller watches */
	int armed;		/* helper may wait for the next MAD */
	int stop;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static struct shim_port ports[SHIM_PORTS];
static pthread_mutex_t glock = PTHREAD_MUTEX_INITIALIZER;

/* Exported with default visibility: they replace libibumad's. */
int umad_get_fd(int portid);
int umad_recv(int portid, void *umad, int *length, int timeout_ms);
int umad_close_port(int portid);

static void *real_sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static struct shim_port *find(int portid)
{
	int i;

	for (i = 0; i < SHIM_PORTS; i++)
		if (ports[i].used && ports[i].portid == portid)
			return &ports[i];
	return NULL;
}

static void signal_ready(struct shim_port *sp)
{
	uint64_t one = 1;
	ssize_t r;

	do
		r = write(sp->efd, &one, sizeof(one));
	while (r < 0 && errno == EINTR);
}

static int queued(struct shim_port *sp)
{
	struct pollfd p = { .fd = sp->fake, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

static void *helper(void *arg)
{
	struct shim_port *sp = arg;

	for (;;) {
		struct pollfd p = { .fd = sp->fake, .events = POLLIN };
		int r;

		pthread_mutex_lock(&sp->mu);
		while (!sp->armed && !sp->stop)
			pthread_cond_wait(&sp->cv, &sp->mu);
		if (sp->stop) {
			pthread_mutex_unlock(&sp->mu);
			break;
		}
		pthread_mutex_unlock(&sp->mu);
		/* A bounded wait, so a stop request is noticed promptly. */
		r = poll(&p, 1, 100);
		if (r <= 0)
			continue;
		pthread_mutex_lock(&sp->mu);
		sp->armed = 0;
		pthread_mutex_unlock(&sp->mu);
		signal_ready(sp);
	}
	return NULL;
}

int umad_get_fd(int portid)
{
	int (*real)(int) = (int (*)(int))real_sym("umad_get_fd");
	struct shim_port *sp;
	int fd, i;

	if (!real)
		return -ENOSYS;
	fd = real(portid);
	if (fd < FAKE_MIN || fd >= FAKE_MAX)
		return fd;
	pthread_mutex_lock(&glock);
	sp = find(portid);
	if (sp) {
		fd = sp->efd;
		goto out;
	}
	for (i = 0; i < SHIM_PORTS && ports[i].used; i++)
		;
	if (i == SHIM_PORTS) {
		fd = -EMFILE;
		goto out;
	}
	sp = &ports[i];
	memset(sp, 0, sizeof(*sp));
	sp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sp->efd < 0) {
		fd = -errno;
		goto out;
	}
	sp->portid = portid;
	sp->fake = fd;
	sp->armed = 1;
	pthread_mutex_init(&sp->mu, NULL);
	pthread_cond_init(&sp->cv, NULL);
	if (pthread_create(&sp->th, NULL, helper, sp)) {
		close(sp->efd);
		fd = -EAGAIN;
		goto out;
	}
	sp->used = 1;
	fd = sp->efd;
out:
	pthread_mutex_unlock(&glock);
	return fd;
}

int umad_recv(int portid, void *umad, int *length, int timeout_ms)
{
	int (*real)(int, void *, int *, int) =
		(int (*)(int, void *, int *, int))real_sym("umad_recv");
	struct shim_port *sp;
	uint64_t v;
	int r, saved;

	if (!real)
		return -ENOSYS;
	r = real(portid, umad, length, timeout_ms);
	saved = errno;
	pthread_mutex_lock(&glock);
	sp = find(portid);
	pthread_mutex_unlock(&glock);
	if (sp) {
		if (read(sp->efd, &v, sizeof(v)) < 0) {
			/* nothing was pending: fine */
		}
		if (queued(sp)) {
			signal_ready(sp);
		} else {
			pthread_mutex_lock(&sp->mu);
			sp->armed = 1;
			pthread_cond_signal(&sp->cv);
			pthread_mutex_unlock(&sp->mu);
		}
	}
	errno = saved;
	return r;
}

int umad_close_port(int portid)
{
	int (*real)(int) = (int (*)(int))real_sym("umad_close_port");
	struct shim_port *sp;

	if (!real)
		return -ENOSYS;
	pthread_mutex_lock(&glock);
	sp = find(portid);
	if (sp) {
		pthread_mutex_lock(&sp->mu);
		sp->stop = 1;
		pthread_cond_signal(&sp->cv);
		pthread_mutex_unlock(&sp->mu);
		pthread_join(sp->th, NULL);
		close(sp->efd);
		pthread_cond_destroy(&sp->cv);
		pthread_mutex_destroy(&sp->mu);
		sp->used = 0;
	}
	pthread_mutex_unlock(&glock);
	return real(portid);
}
