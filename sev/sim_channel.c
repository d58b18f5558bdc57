/* sim_channel.c - the sim channel server (sev.h, docs/sim-channel.md): a
 * thread that answers a guest's report requests for the sim-snp secure
 * processor, as the host relays a real SNP guest's MSG_REPORT_REQ to the
 * PSP (SNP ABI Table 20/25; GHCB "SNP Extended Guest Request" for the
 * certificate table). Listens on "vsock:PORT" (VMADDR_CID_ANY, answering
 * only peer CID guest_cid) or "unix:PATH" (tests, benchmarks). One
 * connection at a time, several requests per connection; every wait polls
 * an eventfd too, so snp_sim_channel_stop is prompt, and a guest that stalls
 * mid-message for 5 s is dropped. A malformed request gets STATUS 0x16
 * (invalid parameters); a malformed header also ends the connection, since
 * the framing is lost. Wire format: sev/sim_wire.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "common/common.h"
#include "sev/sim_internal.h"
#include "sev/sim_wire.h"

#define RECV_TIMEOUT_MS 5000

struct snp_sim_channel {
	struct snp_sim *sp;
	int lfd, efd;
	bool vsock;
	uint32_t cid;
	char path[108];
	pthread_t thread;
};

/* Wait for fd to be readable: 1 ready, 0 stop requested or timed out. */
static int wait_readable(struct snp_sim_channel *ch, int fd, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = ch->efd, .events = POLLIN } };
	int n;

	do
		n = poll(p, 2, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n <= 0 || (p[1].revents & POLLIN))
		return 0;
	return 1;
}

/* Read exactly n bytes; false on EOF, error, timeout or stop. */
static bool read_full(struct snp_sim_channel *ch, int fd, uint8_t *buf, size_t n)
{
	while (n) {
		ssize_t got;

		if (wait_readable(ch, fd, RECV_TIMEOUT_MS) != 1)
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

static bool write_full(int fd, const uint8_t *p, size_t n)
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

/* Answer one request; false when the connection must end. */
static bool serve_one(struct snp_sim_channel *ch, int fd)
{
	uint8_t hdr[SNP_SIM_HDR_LEN], payload[SNP_SIM_REQ_PAYLOAD], rd[64], report[SNP_SIM_REPORT_LEN];
	uint8_t *certs = NULL;
	size_t certs_len = 0;
	struct bytebuf out = { 0 };
	uint16_t type = 0;
	uint32_t plen = 0, vmpl = 0, status = SNP_SIM_STATUS_OK;
	bool framed, ext, keep = true;
	int ret;

	if (!read_full(ch, fd, hdr, sizeof(hdr)))
		return false;
	framed = !snp_sim_hdr_parse(hdr, sizeof(hdr), "sim channel request", &type, &plen) &&
		 (type == SNP_SIM_REPORT_REQ || type == SNP_SIM_EXT_REPORT_REQ);
	ext = framed && type == SNP_SIM_EXT_REPORT_REQ;
	if (!framed) {
		status = SNP_SIM_STATUS_INVALID_PARAM;
		keep = false;
	} else if (plen != SNP_SIM_REQ_PAYLOAD) {
		/* Skip a wrong-size payload that is small enough to read. */
		uint8_t skip[256];

		status = SNP_SIM_STATUS_INVALID_PARAM;
		for (uint32_t left = plen; keep && left;) {
			size_t n = left < sizeof(skip) ? left : sizeof(skip);

			keep = plen <= 4096 && read_full(ch, fd, skip, n);
			left -= (uint32_t)n;
		}
	} else if (!read_full(ch, fd, payload, sizeof(payload))) {
		return false;
	} else if (snp_sim_req_parse(payload, sizeof(payload), "sim channel request", rd, &vmpl)) {
		status = SNP_SIM_STATUS_INVALID_PARAM;
	} else if ((ret = snp_sim_report(ch->sp, rd, vmpl, report))) {
		status = ret == -ENODATA ? SNP_SIM_STATUS_INVALID_GUEST_STATE : SNP_SIM_STATUS_INVALID_PARAM;
	} else if (ext && snp_sim_cert_table(ch->sp, &certs, &certs_len)) {
		status = SNP_SIM_STATUS_INVALID_PARAM;
	}
	if (!snp_sim_rsp_encode(&out, ext, status, status ? NULL : report, certs, certs_len))
		keep = write_full(fd, out.data, out.len) && keep;
	else
		keep = false;
	bb_free(&out);
	free(certs);
	return keep;
}

void (*snp_sim_channel_thread_hook)(void);

static void *channel_thread(void *arg)
{
	struct snp_sim_channel *ch = arg;

	if (snp_sim_channel_thread_hook)
		snp_sim_channel_thread_hook();

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd;

		if (!wait_readable(ch, ch->lfd, -1))
			break; /* stop requested (the eventfd stays readable) */
		fd = accept4(ch->lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (ch->vsock && (ss.ss_family != AF_VSOCK || ((struct sockaddr_vm *)&ss)->svm_cid != ch->cid)) {
			close(fd); /* not our guest */
			continue;
		}
		while (serve_one(ch, fd))
			;
		close(fd);
	}
	return NULL;
}

static int listen_addr(struct snp_sim_channel *ch, const char *addr)
{
	if (!strncmp(addr, "vsock:", 6)) {
		struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY };
		uint64_t port;
		int ret;

		if ((ret = parse_u64(addr + 6, UINT32_MAX - 1, &port, "sim channel vsock port")))
			return ret;
		sa.svm_port = (unsigned)port;
		ch->vsock = true;
		ch->lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (ch->lfd < 0 || bind(ch->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(ch->lfd, 4))
			return err_set(errno, "sim channel %s: %s", addr, strerror(errno));
		return 0;
	}
	if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (!addr[5] || strlen(addr + 5) >= sizeof(sa.sun_path))
			return err_set(EINVAL, "sim channel %s: empty or too long socket path", addr);
		strcpy(sa.sun_path, addr + 5);
		ch->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (ch->lfd < 0 || bind(ch->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(ch->lfd, 4))
			return err_set(errno, "sim channel %s: %s", addr, strerror(errno));
		strcpy(ch->path, sa.sun_path);
		return 0;
	}
	return err_set(EINVAL, "sim channel address '%s': expected vsock:PORT or unix:PATH", addr);
}

int snp_sim_channel_start(struct snp_sim *sp, const char *addr, uint32_t guest_cid, struct snp_sim_channel **out)
{
	struct snp_sim_channel *ch = calloc(1, sizeof(*ch));
	int ret;

	*out = NULL;
	if (!ch)
		return err_set(ENOMEM, "sim channel: out of memory");
	ch->sp = sp;
	ch->cid = guest_cid;
	ch->lfd = -1;
	ch->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ch->efd < 0) {
		ret = err_set(errno, "sim channel: eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((ret = listen_addr(ch, addr)))
		goto fail;
	if ((ret = pthread_create(&ch->thread, NULL, channel_thread, ch))) {
		ret = err_set(ret, "sim channel: cannot start its thread: %s", strerror(ret));
		goto fail;
	}
	*out = ch;
	return 0;
fail:
	if (ch->lfd >= 0)
		close(ch->lfd);
	if (ch->path[0])
		unlink(ch->path);
	if (ch->efd >= 0)
		close(ch->efd);
	free(ch);
	return ret;
}

void snp_sim_channel_stop(struct snp_sim_channel *ch)
{
	uint64_t one = 1;

	if (!ch)
		return;
	if (write(ch->efd, &one, sizeof(one)) != sizeof(one))
		shutdown(ch->lfd, SHUT_RDWR);
	pthread_join(ch->thread, NULL);
	close(ch->lfd);
	close(ch->efd);
	if (ch->path[0])
		unlink(ch->path);
	free(ch);
}
