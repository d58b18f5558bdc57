/* Unit tests: the device event loop (vmm/evloop.c). Deleted entries must be
 * freed: a guest that toggles a watch (virtio-console re-enabling its stdin
 * watch) a million times must not grow cvmm's memory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/vmm_core.h"

#define CYCLES 1000000u
#define PER_BATCH 16u /* toggles per callback */

static void never(void *opaque, uint32_t events)
{
	(void)opaque;
	(void)events;
	fail_msg("callback of a watch that was never ready");
}

/* Loop created but not running: ev_del frees at once. */
static void test_add_del_not_running(void **state)
{
	struct evloop *l;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	(void)state;
	assert_int_equal(evloop_create(&l), 0);
	for (unsigned i = 0; i < CYCLES; i++) {
		assert_int_equal(ev_add(l, fd, EPOLLIN, never, NULL), 0);
		assert_int_equal(ev_del(l, fd), 0);
		if (i % 4096 == 0)
			assert_int_equal(evloop_entry_count(l), 0);
	}
	assert_int_equal(evloop_entry_count(l), 0);
	assert_int_equal(ev_del(l, fd), -ENOENT);
	evloop_destroy(l);
	close(fd);
}

/* What virtio-console does: the loop thread itself re-adds and removes a
 * watch from a callback, a million times in all. The entries a
 * batch may still name are freed after it: the count stays bounded. */
struct toggler {
	struct evloop *l;
	int tick_fd, other_fd, done_fd;
	unsigned cycles;
	size_t max_count;
};

static void toggle(void *opaque, uint32_t events)
{
	struct toggler *t = opaque;
	uint64_t v = 1;
	size_t n;

	(void)events;
	assert_int_equal(read(t->tick_fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	for (unsigned i = 0; i < PER_BATCH; i++) {
		assert_int_equal(ev_add(t->l, t->other_fd, EPOLLIN, never, NULL), 0);
		assert_int_equal(ev_del(t->l, t->other_fd), 0);
	}
	n = evloop_entry_count(t->l);
	if (n > t->max_count)
		t->max_count = n;
	v = 1;
	if ((t->cycles += PER_BATCH) < CYCLES)
		assert_int_equal(write(t->tick_fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	else
		assert_int_equal(write(t->done_fd, &v, sizeof(v)), (ssize_t)sizeof(v));
}

static void test_add_del_from_callback(void **state)
{
	struct toggler t = { 0 };
	uint64_t v = 1;

	(void)state;
	assert_int_equal(evloop_create(&t.l), 0);
	t.tick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	t.other_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	t.done_fd = eventfd(0, EFD_CLOEXEC); /* blocking: the test waits on it */
	assert_int_equal(ev_add(t.l, t.tick_fd, EPOLLIN, toggle, &t), 0);
	assert_int_equal(evloop_start(t.l), 0);
	assert_int_equal(write(t.tick_fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	assert_int_equal(read(t.done_fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	evloop_stop(t.l);
	assert_int_equal(t.cycles, CYCLES);
	/* the tick watch plus those deleted in the current batch */
	assert_true(t.max_count <= 1 + PER_BATCH);
	assert_int_equal(evloop_entry_count(t.l), 1);
	evloop_destroy(t.l);
	close(t.tick_fd);
	close(t.other_fd);
	close(t.done_fd);
}

/* From another thread while the loop runs: the loop wakes itself and frees
 * the deleted entries after its batch; after stop nothing is left over. */
static void test_add_del_other_thread(void **state)
{
	struct evloop *l;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	(void)state;
	assert_int_equal(evloop_create(&l), 0);
	assert_int_equal(evloop_start(l), 0);
	for (unsigned i = 0; i < 10000; i++) {
		assert_int_equal(ev_add(l, fd, EPOLLIN, never, NULL), 0);
		assert_int_equal(ev_del(l, fd), 0);
	}
	evloop_stop(l);
	assert_int_equal(evloop_entry_count(l), 0);
	evloop_destroy(l);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_del_not_running),
		cmocka_unit_test(test_add_del_from_callback),
		cmocka_unit_test(test_add_del_other_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
