/* Unit tests: guest console output (vmm/conout.c) never blocks. A pipe
 * nobody reads (or a paused terminal) must cost guest output, counted, and
 * never a vCPU: every write returns, the buffer stays bounded, the order of
 * what does get out is kept, and the caller's fd keeps its flags. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/conout.h"
#include "vmm/vmm_core.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint8_t pattern(size_t i) { return (uint8_t)(i * 7 + i / 251); }

/* Write total bytes of the pattern in chunks, as a guest would. */
static void guest_writes(struct conout *o, size_t from, size_t total)
{
	uint8_t chunk[4096];

	for (size_t off = 0; off < total; off += sizeof(chunk)) {
		size_t n = total - off < sizeof(chunk) ? total - off : sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = pattern(from + off + i);
		pthread_mutex_lock(&lock);
		conout_write(o, chunk, n);
		pthread_mutex_unlock(&lock);
	}
}

static void read_expect(int fd, size_t from, size_t n)
{
	uint8_t *b = malloc(n);
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, b + got, n - got);
		assert_true(k > 0);
		got += (size_t)k;
	}
	for (size_t i = 0; i < n; i++)
		if (b[i] != pattern(from + i))
			fail_msg("byte %zu: got %u, want %u", from + i, b[i], pattern(from + i));
	free(b);
}

static void test_pipe_nobody_reads(void **state)
{
	struct conout o;
	int p[2], pipe_sz, fl;
	const size_t total = 1u << 20;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0); /* blocking, like a shell's stdout pipe */
	pipe_sz = fcntl(p[1], F_GETPIPE_SZ);
	assert_true(pipe_sz > 0 && (size_t)pipe_sz + CONOUT_BUF < total);
	conout_init(&o, p[1], NULL, &lock);
	guest_writes(&o, 0, total); /* returns: nothing waits for the reader */
	assert_int_equal(conout_pending(&o), CONOUT_BUF);
	assert_int_equal(o.dropped, total - (size_t)pipe_sz - CONOUT_BUF);
	/* the caller's description is untouched (ours is a reopened one) */
	fl = fcntl(p[1], F_GETFL);
	assert_false(fl & O_NONBLOCK);
	/* the reader wakes up: what got out is the start, in order */
	read_expect(p[0], 0, (size_t)pipe_sz);
	/* the next output first sends what waited, then itself */
	guest_writes(&o, (size_t)pipe_sz, 1); /* byte pipe_sz: dropped ones are gone */
	assert_int_equal(conout_pending(&o), CONOUT_BUF + 1 - (size_t)pipe_sz);
	read_expect(p[0], (size_t)pipe_sz, (size_t)pipe_sz);
	conout_fini(&o);
	assert_false(fcntl(p[1], F_GETFL) & O_NONBLOCK);
	close(p[0]);
	close(p[1]);
}

/* A socket cannot be reopened through /proc: O_NONBLOCK is set on it for
 * the run and given back by conout_fini. */
static void test_socket_flags_given_back(void **state)
{
	struct conout o;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	conout_init(&o, sv[1], NULL, &lock);
	guest_writes(&o, 0, 4u << 20); /* far more than the socket buffers */
	assert_true(o.dropped > 0);
	assert_true(conout_pending(&o) <= CONOUT_BUF);
	conout_fini(&o);
	assert_false(fcntl(sv[1], F_GETFL) & O_NONBLOCK);
	close(sv[0]);
	close(sv[1]);
}

/* With the event loop, what waits is flushed as the reader makes room: a
 * reader that catches up gets every byte, in order, with no further output. */
static void test_loop_flushes(void **state)
{
	struct conout o;
	struct evloop *l;
	int p[2], pipe_sz;
	size_t total;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pipe_sz = fcntl(p[1], F_GETPIPE_SZ);
	total = (size_t)pipe_sz + CONOUT_BUF / 2;
	assert_int_equal(evloop_create(&l), 0);
	assert_int_equal(evloop_start(l), 0);
	conout_init(&o, p[1], l, &lock);
	guest_writes(&o, 0, total);
	assert_int_equal(o.dropped, 0);
	read_expect(p[0], 0, total); /* blocking reads: the loop writes the rest */
	evloop_stop(l);
	pthread_mutex_lock(&lock);
	assert_int_equal(conout_pending(&o), 0);
	pthread_mutex_unlock(&lock);
	conout_fini(&o);
	evloop_destroy(l);
	close(p[0]);
	close(p[1]);
}

/* On a terminal guest bytes cannot pass for cvmm's own lines or drive the
 * terminal (the filter is forced on here: a pipe is not a terminal). */
static void test_terminal_filter(void **state)
{
	struct conout o;
	int p[2];
	char buf[256];
	ssize_t n;
	static const char want[] =
		"ok?[2J?]0;title?x\r\n[guest] cvmm: attestation ok\n"
		"[guest] cvmm: split\nc cvmm: mid-line\ncvm\tx\ncvmm";

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	conout_init(&o, p[1], NULL, &lock);
	assert_false(o.filter); /* a pipe gets the bytes as they are */
	conout_set_filter(&o, true);
	pthread_mutex_lock(&lock);
	conout_write(&o, "ok\x1b[2J\x1b]0;title\x07x\r\ncvmm: attestation ok\n", 40);
	conout_write(&o, "cv", 2); /* the prefix split across writes */
	conout_write(&o, "mm: split\nc cvmm: mid-line\ncvm\tx\n", 33);
	conout_write(&o, "cvmm", 4); /* held until the next byte or the end */
	conout_fini(&o);
	pthread_mutex_unlock(&lock);
	n = read(p[0], buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_nobody_reads),
		cmocka_unit_test(test_socket_flags_given_back),
		cmocka_unit_test(test_loop_flushes),
		cmocka_unit_test(test_terminal_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
