/* sim_channel.c - the sim channel server of sim-tdx (tdx.h, docs/sim-tdx.md):
 * a thread answering a guest's TDX requests for the sim TDX module, as the
 * host relays a real TD's GetQuote (TDVMCALL) to the quoting enclave, plus
 * RTMR extension (TDG.MR.RTMR.EXTEND, which a real TD asks of the TDX
 * module directly). Same transport rules as the sim-snp channel
 * (docs/sim-channel.md): "vsock:PORT" bound to VMADDR_CID_ANY answering only
 * peer CID guest_cid, or "unix:PATH"; one connection at a time, several
 * requests per connection, an eventfd for a prompt stop, a peer stalling
 * 5 s mid-message is dropped. An SNP request (types 1, 2) is answered with
 * PLATFORM_RSP (this is a TDX platform); a malformed request gets STATUS
 * 0x16, and a malformed header also ends the connection (framing lost).
 * Wire format: tdx/sim_wire.h. */
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

#include "tdx/sim_internal.h"
#include "tdx/sim_wire.h"

#define RECV_TIMEOUT_MS 5000

struct tdx_sim_channel {
	struct tdx_sim *s;
	int lfd, efd;
	bool vsock;
	uint32_t cid;
	char path[108];
	pthread_t thread;
};

static int wait_readable(struct tdx_sim_channel *ch, int fd, int timeout_ms)
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

static bool read_full(struct tdx_sim_channel *ch, int fd, uint8_t *buf, size_t n)
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

static uint32_t status_of(int ret)
{
	return ret == -ENODATA ? TDX_SIM_STATUS_NOT_LAUNCHED : TDX_SIM_STATUS_INVALID;
}

/* Answer one request; false when the connection must end. */
static bool serve_one(struct tdx_sim_channel *ch, int fd)
{
	uint8_t hdr[SNP_SIM_HDR_LEN], rd[64], digest[48], rtmr[48];
	struct bytebuf out = { 0 }, quote = { 0 }, ccel = { 0 };
	uint8_t *payload = NULL;
	const uint8_t *event;
	size_t event_len;
	uint16_t type = 0;
	uint32_t plen = 0, index = 0, status;
	bool keep = true;
	int ret;

	if (!read_full(ch, fd, hdr, sizeof(hdr)))
		return false;
	if (tdx_sim_hdr_parse(hdr, sizeof(hdr), "sim channel request", &type, &plen) ||
	    (type != SNP_SIM_REPORT_REQ && type != SNP_SIM_EXT_REPORT_REQ && type != TDX_SIM_QUOTE_REQ &&
	     type != TDX_SIM_EXTEND_REQ)) {
		/* framing lost: answer and close */
		if (!tdx_sim_quote_rsp_encode(&out, TDX_SIM_STATUS_INVALID, NULL, 0, NULL, 0))
			write_full(fd, out.data, out.len);
		bb_free(&out);
		return false;
	}
	/* every request we serve fits in its size limit: read it whole */
	if (plen > (type == TDX_SIM_EXTEND_REQ ? TDX_SIM_EXTEND_FIXED + TDX_SIM_EVENT_MAX : 4096u)) {
		keep = false;
		plen = 0;
		status = TDX_SIM_STATUS_INVALID;
	} else if (!(payload = malloc(plen ? plen : 1)) || !read_full(ch, fd, payload, plen)) {
		free(payload);
		return false;
	}
	if (type == SNP_SIM_REPORT_REQ || type == SNP_SIM_EXT_REPORT_REQ) {
		ret = tdx_sim_platform_rsp_encode(&out);
	} else if (type == TDX_SIM_QUOTE_REQ) {
		if (keep && !(ret = tdx_sim_quote_req_parse(payload, plen, "TDX_QUOTE_REQ", rd)))
			ret = tdx_sim_quote(ch->s, rd, &quote, &ccel);
		else
			ret = -EINVAL;
		status = ret ? status_of(ret) : TDX_SIM_STATUS_OK;
		ret = tdx_sim_quote_rsp_encode(&out, status, quote.data, quote.len, ccel.data, ccel.len);
	} else {
		if (keep && !(ret = tdx_sim_extend_req_parse(payload, plen, "TDX_RTMR_EXTEND_REQ", &index, digest, &event,
							    &event_len)))
			ret = tdx_sim_rtmr_extend(ch->s, index, digest, event, event_len, rtmr);
		else
			ret = -EINVAL;
		status = ret ? status_of(ret) : TDX_SIM_STATUS_OK;
		ret = tdx_sim_extend_rsp_encode(&out, status, index, status ? NULL : rtmr);
	}
	keep = !ret && write_full(fd, out.data, out.len) && keep;
	bb_free(&out);
	bb_free(&quote);
	bb_free(&ccel);
	free(payload);
	return keep;
}

void (*tdx_sim_channel_thread_hook)(void);

static void *channel_thread(void *arg)
{
	struct tdx_sim_channel *ch = arg;

	if (tdx_sim_channel_thread_hook)
		tdx_sim_channel_thread_hook(); /* the VMM's seccomp filter (vmm/confine) */
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd;

		if (!wait_readable(ch, ch->lfd, -1))
			break;
		fd = accept4(ch->lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (ch->vsock && (ss.ss_family != AF_VSOCK || ((struct sockaddr_vm *)&ss)->svm_cid != ch->cid)) {
			close(fd);
			continue;
		}
		while (serve_one(ch, fd))
			;
		close(fd);
	}
	return NULL;
}

static int listen_addr(struct tdx_sim_channel *ch, const char *addr)
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

int tdx_sim_channel_start(struct tdx_sim *s, const char *addr, uint32_t guest_cid, struct tdx_sim_channel **out)
{
	struct tdx_sim_channel *ch = calloc(1, sizeof(*ch));
	int ret;

	*out = NULL;
	if (!ch)
		return err_set(ENOMEM, "sim channel: out of memory");
	ch->s = s;
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

void tdx_sim_channel_stop(struct tdx_sim_channel *ch)
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
