/* fake_qgs.h - a fake TDX quote generation service on a unix socket for
 * the tests (test_tdx_exit.c, test_cc_seccomp.c): one connection, the
 * request kept in rx, a canned framed reply (Intel DCAP qgs_msg_lib:
 * 4-byte big-endian length, then header { u16 1, u16 1, u32 type, u32
 * size, u32 error } and { u32 selected_id_size, u32 quote_size, id, quote },
 * little-endian). Header-only (static functions, cmocka's asserts):
 * include it after <cmocka.h>, once per test program. */
#ifndef CVMM_TESTS_FAKE_QGS_H
#define CVMM_TESTS_FAKE_QGS_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct qgs_fake {
	char path[108];
	int lfd;
	pthread_t tid;
	uint8_t rx[4096];
	size_t rx_len;
	const uint8_t *reply;  /* framed reply (length prefix included); NULL: close at once */
	size_t reply_len;
};

static size_t read_all(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n && (r = read(fd, b + got, n - got)) > 0)
		got += (size_t)r;
	return got;
}

static void *qgs_main(void *arg)
{
	struct qgs_fake *q = arg;
	int fd = accept(q->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	if (read_all(fd, q->rx, 4) == 4) {
		size_t n = (size_t)q->rx[0] << 24 | q->rx[1] << 16 | q->rx[2] << 8 | q->rx[3];

		if (n <= sizeof(q->rx) - 4)
			q->rx_len = 4 + read_all(fd, q->rx + 4, n);
	}
	if (q->reply && write(fd, q->reply, q->reply_len) < 0)
		q->rx_len = 0;
	close(fd);
	return NULL;
}

static void qgs_start(struct qgs_fake *q, const uint8_t *reply, size_t reply_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(q, 0, sizeof(*q));
	snprintf(q->path, sizeof(q->path), "/tmp/test_tdx_exit.%d.sock", (int)getpid());
	unlink(q->path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", q->path);
	assert_true((q->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(q->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(q->lfd, 1), 0);
	q->reply = reply;
	q->reply_len = reply_len;
	assert_int_equal(pthread_create(&q->tid, NULL, qgs_main, q), 0);
}

static inline void qgs_stop(struct qgs_fake *q)
{
	pthread_join(q->tid, NULL);
	close(q->lfd);
	unlink(q->path);
}

/* A GET_QUOTE_RESP with quote bytes 'Q'... of qlen, framed. */
static size_t response(uint8_t *b, uint32_t qlen, uint32_t type, uint32_t error, uint32_t size_delta)
{
	uint32_t size = 24 + qlen;
	uint32_t v[] = { 1u | 1u << 16, type, size + size_delta, error, 0, qlen };

	b[0] = (uint8_t)(size >> 24);
	b[1] = (uint8_t)(size >> 16);
	b[2] = (uint8_t)(size >> 8);
	b[3] = (uint8_t)size;
	memcpy(b + 4, v, sizeof(v)); /* little-endian host */
	memset(b + 28, 'Q', qlen);
	return 28 + qlen;
}

#endif
