/* sock.c - the agent protocol's stream transport: "vsock:CID:PORT" (AF_VSOCK;
 * CID may be "any" for listening) or "unix:PATH" (AF_UNIX). Connect with a
 * timeout, whole-frame sends and receives that survive partial transfers and
 * EINTR, each read bounded by poll(). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "attestation/proto/proto.h"

union sockaddr_any {
	struct sockaddr sa;
	struct sockaddr_un un;
	struct sockaddr_vm vm;
};

static int parse_addr(const char *addr, union sockaddr_any *sa, socklen_t *sl)
{
	memset(sa, 0, sizeof(*sa));
	if (!strncmp(addr, "unix:", 5)) {
		const char *path = addr + 5;

		if (!*path || strlen(path) >= sizeof(sa->un.sun_path))
			return err_set(EINVAL, "%s: a unix socket path must be 1..%zu bytes", addr,
				       sizeof(sa->un.sun_path) - 1);
		sa->un.sun_family = AF_UNIX;
		memcpy(sa->un.sun_path, path, strlen(path));
		*sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
		return 0;
	}
	if (!strncmp(addr, "vsock:", 6)) {
		char cid_s[16];
		const char *colon = strchr(addr + 6, ':');
		uint64_t cid, port;
		size_t n = colon ? (size_t)(colon - (addr + 6)) : 0;

		if (!colon || !n || n >= sizeof(cid_s))
			return err_set(EINVAL, "%s: expected vsock:CID:PORT", addr);
		memcpy(cid_s, addr + 6, n);
		cid_s[n] = 0;
		if (!strcmp(cid_s, "any"))
			cid = VMADDR_CID_ANY;
		else if (parse_u64(cid_s, UINT32_MAX, &cid, "vsock CID"))
			return err_wrap(EINVAL, "%s", addr);
		if (parse_u64(colon + 1, UINT32_MAX, &port, "vsock port"))
			return err_wrap(EINVAL, "%s", addr);
		sa->vm.svm_family = AF_VSOCK;
		sa->vm.svm_cid = (unsigned int)cid;
		sa->vm.svm_port = (unsigned int)port;
		*sl = sizeof(sa->vm);
		return 0;
	}
	return err_set(EINVAL, "%s: not a transport address (vsock:CID:PORT or unix:PATH)", addr);
}

static int set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK))
		return -errno;
	return 0;
}

/* poll() one fd for ev, restarting on EINTR (with the full timeout: the
 * bound is per wait, not per call). */
static int wait_fd(int fd, short ev, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = ev };

	for (;;) {
		int n = poll(&p, 1, timeout_ms);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		return n ? 0 : -ETIMEDOUT;
	}
}

int att_sock_connect(const char *addr, int timeout_ms)
{
	union sockaddr_any sa;
	socklen_t sl;
	int fd, e = 0;

	if (parse_addr(addr, &sa, &sl))
		return -EINVAL;
	fd = socket(sa.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(errno, "%s: socket: %s", addr, strerror(errno));
	if (connect(fd, &sa.sa, sl)) {
		socklen_t el = sizeof(e);

		e = errno;
		if (e == EINPROGRESS || e == EAGAIN || e == EINTR) {
			e = -wait_fd(fd, POLLOUT, timeout_ms);
			if (!e && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el))
				e = errno;
		}
	}
	if (!e && set_nonblock(fd, false))
		e = errno;
	if (e) {
		close(fd);
		return err_set(e, "%s: connect: %s", addr, e == ETIMEDOUT ? "timed out" : strerror(e));
	}
	return fd;
}

int att_sock_listen(const char *addr)
{
	union sockaddr_any sa;
	struct stat st;
	socklen_t sl;
	int fd, e;

	if (parse_addr(addr, &sa, &sl))
		return -EINVAL;
	/* A leftover socket of an earlier run (never any other file). */
	if (sa.sa.sa_family == AF_UNIX && !lstat(sa.un.sun_path, &st) && S_ISSOCK(st.st_mode))
		unlink(sa.un.sun_path);
	fd = socket(sa.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(errno, "%s: socket: %s", addr, strerror(errno));
	if (bind(fd, &sa.sa, sl) || listen(fd, 8)) {
		e = errno;
		close(fd);
		return err_set(e, "%s: cannot listen: %s", addr, strerror(e));
	}
	return fd;
}

int att_sock_send(int fd, const struct bytebuf *frame)
{
	const uint8_t *p = frame->data;
	size_t len = frame->len;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(errno, "send: %s", errno == EAGAIN ? "timed out" : strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly n bytes; *got counts what arrived (to tell a clean close at
 * a frame boundary from a truncated frame). */
static int read_full(int fd, uint8_t *p, size_t n, int timeout_ms, size_t *got)
{
	*got = 0;
	while (*got < n) {
		ssize_t r;
		int ret = wait_fd(fd, POLLIN, timeout_ms);

		if (ret)
			return ret;
		r = recv(fd, p + *got, n - *got, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ECONNRESET;
		*got += (size_t)r;
	}
	return 0;
}

int att_sock_read(int fd, void *buf, size_t n, int timeout_ms, const char *what)
{
	size_t got;
	int ret = read_full(fd, buf, n, timeout_ms, &got);

	if (ret)
		return err_set(-ret, "%s: read (%zu of %zu bytes): %s", what, got, n,
			       ret == -ECONNRESET ? "connection closed"
			       : ret == -ETIMEDOUT ? "timed out"
						   : strerror(-ret));
	return 0;
}

int att_sock_recv(int fd, int timeout_ms, const char *what, struct bytebuf *frame)
{
	uint8_t hdr[ATT_FRAME_HDR];
	uint32_t payload;
	uint16_t type;
	size_t got;
	int ret;

	frame->len = 0;
	ret = read_full(fd, hdr, sizeof(hdr), timeout_ms, &got);
	if (ret == -ECONNRESET && !got)
		return err_set(ENODATA, "%s: connection closed", what);
	if (ret)
		return err_set(-ret, "%s: frame header: %s", what,
			       ret == -ECONNRESET ? "connection closed mid-frame"
			       : ret == -ETIMEDOUT ? "timed out"
						   : strerror(-ret));
	if ((ret = att_frame_header(hdr, what, &type, &payload)))
		return ret;
	if (bb_append(frame, hdr, sizeof(hdr)))
		return err_set(ENOMEM, "%s: out of memory", what);
	/* In chunks: memory grows with what actually arrives, not with what
	 * the header claims. */
	for (uint32_t done = 0; done < payload;) {
		uint8_t chunk[16384];
		size_t n = payload - done < sizeof(chunk) ? payload - done : sizeof(chunk);

		ret = read_full(fd, chunk, n, timeout_ms, &got);
		if (ret) {
			frame->len = 0;
			return err_set(-ret, "%s: frame payload (%zu of %u bytes): %s", what, done + got, payload,
				       ret == -ECONNRESET ? "connection closed mid-frame"
				       : ret == -ETIMEDOUT ? "timed out"
							   : strerror(-ret));
		}
		if (bb_append(frame, chunk, n)) {
			frame->len = 0;
			return err_set(ENOMEM, "%s: out of memory", what);
		}
		done += (uint32_t)n;
	}
	return 0;
}

static enum att_msg_type answer_type(enum att_msg_type req)
{
	return req == ATT_MSG_EVIDENCE_REQ ? ATT_MSG_EVIDENCE_RSP : ATT_MSG_SECRET_RSP;
}

int att_agent_call(const char *addr, int timeout_ms, const struct att_msg *req, struct bytebuf *rsp_frame,
		   struct att_msg *rsp)
{
	struct bytebuf out = { 0 };
	int fd, ret;

	memset(rsp, 0, sizeof(*rsp));
	if ((ret = att_msg_encode(req, &out)))
		return ret;
	fd = att_sock_connect(addr, timeout_ms);
	if (fd < 0) {
		bb_free(&out);
		return fd;
	}
	ret = att_sock_send(fd, &out);
	if (ret)
		err_wrap(-ret, "%s", addr);
	if (!ret)
		ret = att_sock_recv(fd, timeout_ms, addr, rsp_frame);
	if (!ret)
		ret = att_msg_decode(rsp_frame->data, rsp_frame->len, addr, rsp);
	close(fd);
	bb_free(&out);
	if (ret)
		return ret;
	if (rsp->type == ATT_MSG_ERROR)
		return err_set(EREMOTEIO, "%s: agent refused: %.*s", addr, (int)rsp->message_len,
			       (const char *)rsp->message);
	if (rsp->type != answer_type(req->type))
		return err_set(EPROTO, "%s: agent answered with message type %u to request type %u", addr,
			       rsp->type, req->type);
	return 0;
}
