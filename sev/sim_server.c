/* sim_server.c - the transport of the sim channel (docs/sim-channel.md),
 * shared by the sim-snp and sim-tdx secure processors: a thread listening on
 * "vsock:PORT" (VMADDR_CID_ANY, answering only peer CID guest_cid, as a
 * real platform's host relays only its own guest's requests) or on
 * "unix:PATH" (tests, benchmarks); one connection at a time, several
 * requests per connection, handed to the platform's serve callback. Every
 * wait also polls an eventfd, so sim_server_stop is prompt, and a guest that
 * stalls mid-message for SIM_SERVER_TIMEOUT_MS is dropped. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "common/common.h"
#include "sev.h"

#define SIM_SERVER_TIMEOUT_MS 5000

struct sim_server {
	sim_serve_fn serve;
	void *ctx;
	void (*thread_hook)(void);
	int lfd, efd;
	bool vsock;
	uint32_t cid;
	char path[108];
	pthread_t thread;
};

/* Wait for fd to be readable: 1 ready, 0 stop requested or timed out. */
static int wait_readable(struct sim_server *s, int fd, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = s->efd, .events = POLLIN } };
	int n;

	do
		n = poll(p, 2, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n <= 0 || (p[1].revents & POLLIN))
		return 0;
	return 1;
}

bool sim_server_read(struct sim_server *s, int fd, uint8_t *buf, size_t n)
{
	while (n) {
		ssize_t got;

		if (wait_readable(s, fd, SIM_SERVER_TIMEOUT_MS) != 1)
			return false;
		got = recv(fd, buf, n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return false;
		buf += got;
		n -= (size_t)got;
	}
	return true;
}

bool sim_server_write(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void *server_thread(void *arg)
{
	struct sim_server *s = arg;

	if (s->thread_hook)
		s->thread_hook(); /* the VMM's seccomp role for this thread (vmm/confine) */
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd;

		if (!wait_readable(s, s->lfd, -1))
			break; /* stop requested (the eventfd stays readable) */
		fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (s->vsock && (ss.ss_family != AF_VSOCK || ((struct sockaddr_vm *)&ss)->svm_cid != s->cid)) {
			close(fd); /* not our guest */
			continue;
		}
		while (s->serve(s->ctx, s, fd))
			;
		close(fd);
	}
	return NULL;
}

static int listen_addr(struct sim_server *s, const char *addr)
{
	if (!strncmp(addr, "vsock:", 6)) {
		struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY };
		uint64_t port;
		int ret;

		if ((ret = parse_u64(addr + 6, UINT32_MAX - 1, &port, "sim channel vsock port")))
			return ret;
		sa.svm_port = (unsigned)port;
		s->vsock = true;
		s->lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(s->lfd, 4))
			return err_set(errno, "sim channel %s: %s", addr, strerror(errno));
		return 0;
	}
	if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (!addr[5] || strlen(addr + 5) >= sizeof(sa.sun_path))
			return err_set(EINVAL, "sim channel %s: empty or too long socket path", addr);
		strcpy(sa.sun_path, addr + 5);
		s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(s->lfd, 4))
			return err_set(errno, "sim channel %s: %s", addr, strerror(errno));
		strcpy(s->path, sa.sun_path);
		return 0;
	}
	return err_set(EINVAL, "sim channel address '%s': expected vsock:PORT or unix:PATH", addr);
}

int sim_server_start(const char *addr, uint32_t guest_cid, sim_serve_fn serve, void *ctx, void (*thread_hook)(void),
		     struct sim_server **out)
{
	struct sim_server *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s)
		return err_set(ENOMEM, "sim channel: out of memory");
	s->serve = serve;
	s->ctx = ctx;
	s->thread_hook = thread_hook;
	s->cid = guest_cid;
	s->lfd = -1;
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0) {
		ret = err_set(errno, "sim channel: eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((ret = listen_addr(s, addr)))
		goto fail;
	if ((ret = pthread_create(&s->thread, NULL, server_thread, s))) {
		ret = err_set(ret, "sim channel: cannot start its thread: %s", strerror(ret));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->path[0])
		unlink(s->path);
	if (s->efd >= 0)
		close(s->efd);
	free(s);
	return ret;
}

void sim_server_stop(struct sim_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (write(s->efd, &one, sizeof(one)) != sizeof(one))
		shutdown(s->lfd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	close(s->efd);
	if (s->path[0])
		unlink(s->path);
	free(s);
}
