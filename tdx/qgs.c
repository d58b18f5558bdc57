/* qgs.c - a client of the TDX quote generation service (QGS), for the
 * GetQuote TDVMCALL of a TD (tdx_exit.c).
 *
 * The wire format, as Intel's DCAP qgs_msg_lib defines it (and QEMU's
 * tdx-quote-generator and Cloud Hypervisor speak it): every message is
 * preceded by its length as a 4-byte big-endian number; the message is
 *   header { u16 major_version = 1, u16 minor_version = 1, u32 type,
 *            u32 size (the whole message, header included), u32 error_code }
 * then for GET_QUOTE_REQ (type 0): u32 report_size, u32 id_list_size, the
 * TDREPORT, the id list (empty here); for GET_QUOTE_RESP (type 1):
 * u32 selected_id_size, u32 quote_size, the selected id, the quote.
 * Fields in the header and bodies are little-endian. The QGS listens on
 * vsock (the host, CID 2, port 4050 by default in Intel's qgsd) or a unix
 * socket. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "common/common.h"
#include "backend_tdx.h"

#define QGS_MAJOR 1
#define QGS_MINOR 1
#define QGS_GET_QUOTE_REQ  0
#define QGS_GET_QUOTE_RESP 1
#define QGS_HDR 16            /* major, minor, type, size, error_code */
#define QGS_BODY 8            /* report_size + id_list_size / selected_id_size + quote_size */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int qgs_parse_addr(const char *s, struct qgs_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!strncmp(s, "unix:", 5)) {
		if (!s[5] || strlen(s + 5) >= sizeof(a->path))
			return err_set(EINVAL, "--tdx-qgs %s: the unix socket path is empty or too long", s);
		a->vsock = false;
		snprintf(a->path, sizeof(a->path), "%s", s + 5);
		return 0;
	}
	if (!strncmp(s, "vsock:", 6)) {
		unsigned long long cid, port;
		char tail;

		if (sscanf(s + 6, "%llu:%llu%c", &cid, &port, &tail) != 2 || cid > UINT32_MAX || port > UINT32_MAX ||
		    strchr(s + 6, '-'))
			return err_set(EINVAL, "--tdx-qgs %s: expected vsock:CID:PORT", s);
		a->vsock = true;
		a->cid = (uint32_t)cid;
		a->port = (uint32_t)port;
		return 0;
	}
	return err_set(EINVAL, "--tdx-qgs %s: expected unix:PATH or vsock:CID:PORT", s);
}

int qgs_frame_request(const uint8_t *report, uint32_t len, uint8_t **out, size_t *out_len)
{
	size_t msg = QGS_HDR + QGS_BODY + (size_t)len;
	uint8_t *b;

	if (!len || len > QGS_MAX_MSG - QGS_HDR - QGS_BODY)
		return err_set(EINVAL, "QGS request: a report of %u bytes", len);
	if (!(b = malloc(4 + msg)))
		return err_set(ENOMEM, "out of memory");
	b[0] = (uint8_t)(msg >> 24); /* the framing: big-endian length */
	b[1] = (uint8_t)(msg >> 16);
	b[2] = (uint8_t)(msg >> 8);
	b[3] = (uint8_t)msg;
	put16(b + 4, QGS_MAJOR);
	put16(b + 6, QGS_MINOR);
	put32(b + 8, QGS_GET_QUOTE_REQ);
	put32(b + 12, (uint32_t)msg);
	put32(b + 16, 0);
	put32(b + 20, len);  /* report_size */
	put32(b + 24, 0);    /* id_list_size */
	memcpy(b + 28, report, len);
	*out = b;
	*out_len = 4 + msg;
	return 0;
}

int qgs_parse_response(const uint8_t *m, size_t len, const uint8_t **quote, uint32_t *quote_len)
{
	uint32_t size, err, id, q;

	if (len < QGS_HDR + QGS_BODY)
		return err_set(EPROTO, "QGS response: %zu bytes, shorter than its header", len);
	size = get32(m + 8);
	err = get32(m + 12);
	if (get16(m) != QGS_MAJOR)
		return err_set(EPROTO, "QGS response: message version %u.%u (want %u.x)", get16(m), get16(m + 2),
			       QGS_MAJOR);
	if (get32(m + 4) != QGS_GET_QUOTE_RESP)
		return err_set(EPROTO, "QGS response: message type %u, not GET_QUOTE_RESP", get32(m + 4));
	if (size != len)
		return err_set(EPROTO, "QGS response: header size %u, framed %zu bytes", size, len);
	if (err)
		return err_set(EPROTO, "QGS response: error code %#x", err);
	id = get32(m + 16);
	q = get32(m + 20);
	if ((uint64_t)id + q != len - QGS_HDR - QGS_BODY || !q)
		return err_set(EPROTO, "QGS response: selected id %u + quote %u bytes in a body of %zu", id, q,
			       len - QGS_HDR - QGS_BODY);
	*quote = m + QGS_HDR + QGS_BODY + id;
	*quote_len = q;
	return 0;
}

/* All of b, or -errno; poll()s so that a QGS that never answers ends the
 * request after timeout_ms (SO_*TIMEO would not bound connect on vsock). */
static int io_all(int fd, uint8_t *b, size_t n, bool wr, int timeout_ms)
{
	while (n) {
		struct pollfd p = { .fd = fd, .events = wr ? POLLOUT : POLLIN };
		ssize_t r;
		int pr = poll(&p, 1, timeout_ms);

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return pr ? -errno : -ETIMEDOUT;
		r = wr ? send(fd, b, n, MSG_NOSIGNAL) : recv(fd, b, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return -ECONNRESET;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

int qgs_get_quote(const struct qgs_addr *a, const uint8_t *report, uint32_t len, int timeout_ms, uint8_t **quote,
		  uint32_t *quote_len)
{
	uint8_t *req = NULL, *rsp = NULL, pre[4];
	const uint8_t *q;
	size_t req_len, n;
	int fd, rc;

	if ((rc = qgs_frame_request(report, len, &req, &req_len)))
		return rc;
	fd = socket(a->vsock ? AF_VSOCK : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = err_set(errno, "QGS: socket: %s", strerror(errno));
		goto out;
	}
	if (a->vsock) {
		struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = a->cid, .svm_port = a->port };
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} else {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->path);
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (rc) {
		rc = err_set(errno, "QGS: connect: %s", strerror(errno));
		rc = -EHOSTUNREACH; /* the caller reports "service unavailable" */
		goto out;
	}
	if ((rc = io_all(fd, req, req_len, true, timeout_ms)) || (rc = io_all(fd, pre, 4, false, timeout_ms))) {
		rc = err_set(-rc, "QGS: %s", strerror(-rc));
		goto out;
	}
	n = (size_t)pre[0] << 24 | (size_t)pre[1] << 16 | (size_t)pre[2] << 8 | pre[3];
	if (n < QGS_HDR + QGS_BODY || n > QGS_MAX_MSG) {
		rc = err_set(EPROTO, "QGS response: framed length %zu (%u..%u)", n, QGS_HDR + QGS_BODY, QGS_MAX_MSG);
		goto out;
	}
	if (!(rsp = malloc(n))) {
		rc = err_set(ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = io_all(fd, rsp, n, false, timeout_ms))) {
		rc = err_set(-rc, "QGS: %s", strerror(-rc));
		goto out;
	}
	if ((rc = qgs_parse_response(rsp, n, &q, quote_len)))
		goto out;
	if (!(*quote = malloc(*quote_len))) {
		rc = err_set(ENOMEM, "out of memory");
		goto out;
	}
	memcpy(*quote, q, *quote_len);
out:
	if (fd >= 0)
		close(fd);
	free(req);
	free(rsp);
	return rc;
}
