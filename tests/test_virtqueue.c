/* Unit tests: the split-virtqueue walker (vmm/virtio/core.c) against hostile
 * rings, driven through a virtio-rng device on a fake VM. Every bad ring
 * must mark the device broken (DEVICE_NEEDS_RESET + config interrupt),
 * leave the used ring untouched, and never read outside guest RAM (ASan). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_virtio_fake.h"

#define RING_GPA  0x1000u
#define BUF_GPA   0x10000u
#define TABLE_GPA 0x20000u
#define QSIZE     8
#define ALL_FEATURES (1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_ACCESS_PLATFORM | \
		      1ull << VIRTIO_F_INDIRECT_DESC)

struct fixture {
	struct vm *vm;
	struct pci_dev *pci;
	struct virtio_dev *dev;
	struct fake_ring ring;
};

static void bring_up(struct fixture *f, uint64_t features)
{
	assert_int_equal(drv_negotiate(f->pci, features) & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
	ring_init(&f->ring, f->vm, RING_GPA, QSIZE);
	drv_queue(f->pci, 0, &f->ring);
	drv_ok(f->pci);
	assert_true(virtio_dev_running(f->dev));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->vm = fake_vm_new();
	assert_int_equal(virtio_rng_create(f->vm), 0);
	f->pci = f->vm->pci[0];
	f->dev = fake_vm_dev(f->vm);
	assert_non_null(f->dev);
	bring_up(f, ALL_FEATURES);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fake_vm_free(f->vm);
	free(f);
	return 0;
}

/* The device must be broken, say so in its status, and have used nothing. */
static void assert_broken(struct fixture *f, const char *why)
{
	assert_true(f->dev->broken);
	assert_non_null(strstr(f->dev->broken_reason, why));
	assert_true(dev_status(f->pci) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(ring_used_idx(&f->ring), 0);
	/* config change interrupt over INTx: ISR bit 1, read clears it */
	assert_int_equal(f->vm->intx_level, 1);
	assert_true(bar_read(f->pci, 0, VPCI_ISR_OFF, 1) & 2);
	assert_int_equal(f->vm->intx_level, 0);
}

static void test_good_chain(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = gpa(f->vm, BUF_GPA);

	ring_desc(&f->ring, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	ring_desc(&f->ring, 3, (1ull << 32) + 0x100, 48, VIRTQ_DESC_F_WRITE, 0); /* high RAM */
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_false(f->dev->broken);
	assert_int_equal(ring_used_idx(&f->ring), 1);
	assert_int_equal(ring_used_id(&f->ring, 0), 0);
	assert_int_equal(ring_used_len(&f->ring, 0), 64);
	/* 16 random bytes are all zero with probability 2^-128 */
	assert_memory_not_equal(buf, (uint8_t[16]){ 0 }, 16);
	/* queue interrupt over INTx: ISR bit 0 */
	assert_int_equal(f->vm->intx_level, 1);
	assert_int_equal(bar_read(f->pci, 0, VPCI_ISR_OFF, 1), 1);
	assert_int_equal(bar_read(f->pci, 0, VPCI_ISR_OFF, 1), 0);
}

static void test_indirect_ok(void **state)
{
	struct fixture *f = *state;

	table_desc(f->vm, TABLE_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	table_desc(f->vm, TABLE_GPA, 1, BUF_GPA + 8, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_desc(&f->ring, 2, TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	ring_publish(&f->ring, 2);
	notify(f->pci, 0);
	assert_false(f->dev->broken);
	assert_int_equal(ring_used_len(&f->ring, 0), 16);
	assert_int_equal(ring_used_id(&f->ring, 0), 2);
}

static void test_loop(void **state)
{
	struct fixture *f = *state;

	ring_desc(&f->ring, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	ring_desc(&f->ring, 1, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "loop");
}

static void test_self_loop_in_indirect(void **state)
{
	struct fixture *f = *state;

	table_desc(f->vm, TABLE_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	ring_desc(&f->ring, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "loop");
}

static void test_out_of_range(void **state)
{
	struct fixture *f = *state;

	/* starts in RAM, ends 8 bytes past the end of low RAM */
	ring_desc(&f->ring, 0, FAKE_LOW_RAM - 8, 16, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "not guest RAM");
}

static void test_huge_length(void **state)
{
	struct fixture *f = *state;

	ring_desc(&f->ring, 0, BUF_GPA, 0xffffffffu, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "not guest RAM");
}

static void test_address_wrap(void **state)
{
	struct fixture *f = *state;

	/* addr + len wraps around 2^64 into low RAM */
	ring_desc(&f->ring, 0, 0xfffffffffffff000ull, 0x2000, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "not guest RAM");
}

static void test_mmio_hole(void **state)
{
	struct fixture *f = *state;

	ring_desc(&f->ring, 0, VM_MMIO_HOLE_START + 0x1000, 16, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "not guest RAM");
}

static void test_nested_indirect(void **state)
{
	struct fixture *f = *state;

	table_desc(f->vm, TABLE_GPA, 0, TABLE_GPA + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	ring_desc(&f->ring, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "nested indirect");
}

static void test_indirect_bad_len(void **state)
{
	struct fixture *f = *state;

	ring_desc(&f->ring, 0, TABLE_GPA, 24, VIRTQ_DESC_F_INDIRECT, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "indirect table length 24");
}

static void test_indirect_with_next(void **state)
{
	struct fixture *f = *state;

	table_desc(f->vm, TABLE_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_desc(&f->ring, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "indirect together with next");
}

static void test_indirect_not_negotiated(void **state)
{
	struct fixture *f = *state;

	bring_up(f, 1ull << VIRTIO_F_VERSION_1); /* re-init without INDIRECT_DESC */
	table_desc(f->vm, TABLE_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_desc(&f->ring, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "without VIRTIO_F_INDIRECT_DESC");
}

static void test_idx_jump(void **state)
{
	struct fixture *f = *state;

	ring_desc(&f->ring, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	put_le16(gpa(f->vm, f->ring.avail + 2), QSIZE + 1);
	notify(f->pci, 0);
	assert_broken(f, "entries ahead");
}

static void test_head_out_of_table(void **state)
{
	struct fixture *f = *state;

	ring_publish(&f->ring, QSIZE);
	notify(f->pci, 0);
	assert_broken(f, "head 8 >= queue size");
}

static void test_next_out_of_table(void **state)
{
	struct fixture *f = *state;

	ring_desc(&f->ring, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0x7fff);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "outside a table");
}

static void test_chain_longer_than_queue(void **state)
{
	struct fixture *f = *state;

	/* one direct descriptor + an indirect table of QSIZE: QSIZE + 1 buffers */
	for (uint16_t i = 0; i < QSIZE; i++)
		table_desc(f->vm, TABLE_GPA, i, BUF_GPA + 8u * i, 8,
			   VIRTQ_DESC_F_WRITE | (i + 1 < QSIZE ? VIRTQ_DESC_F_NEXT : 0), (uint16_t)(i + 1));
	ring_desc(&f->ring, 0, BUF_GPA + 0x800, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	ring_desc(&f->ring, 1, TABLE_GPA, 16 * QSIZE, VIRTQ_DESC_F_INDIRECT, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "chain longer than queue size");
}

static void test_indirect_table_too_big(void **state)
{
	struct fixture *f = *state;

	ring_desc(&f->ring, 0, TABLE_GPA, 16 * (QSIZE + 1), VIRTQ_DESC_F_INDIRECT, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "> queue size");
}

static void test_readable_after_writable(void **state)
{
	struct fixture *f = *state;

	ring_desc(&f->ring, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	ring_desc(&f->ring, 1, BUF_GPA + 8, 8, 0, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_broken(f, "readable after writable");
}

static void test_bad_rings_at_enable(void **state)
{
	struct fixture *f = *state;
	struct fake_ring r = f->ring;

	/* used ring placed in the MMIO hole */
	assert_int_equal(drv_negotiate(f->pci, ALL_FEATURES) & VIRTIO_STATUS_FEATURES_OK,
			 VIRTIO_STATUS_FEATURES_OK);
	r.used = VM_MMIO_HOLE_START;
	drv_queue(f->pci, 0, &r);
	assert_true(f->dev->broken);
	assert_false(f->dev->vq[0].enabled);
	assert_int_equal(bar_read(f->pci, 0, CC(28), 2), 0);
	assert_non_null(strstr(f->dev->broken_reason, "used ring"));

	/* queue size not a power of two */
	assert_int_equal(drv_negotiate(f->pci, ALL_FEATURES) & VIRTIO_STATUS_FEATURES_OK,
			 VIRTIO_STATUS_FEATURES_OK);
	assert_false(f->dev->broken); /* reset cleared it */
	r = f->ring;
	r.size = 6;
	drv_queue(f->pci, 0, &r);
	assert_true(f->dev->broken);
	assert_non_null(strstr(f->dev->broken_reason, "power of two"));
}

static void test_broken_until_reset(void **state)
{
	struct fixture *f = *state;

	ring_desc(&f->ring, 0, VM_MMIO_HOLE_START, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_true(f->dev->broken);
	/* a good chain after the bad one is ignored while broken */
	ring_desc(&f->ring, 1, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&f->ring, 1);
	notify(f->pci, 0);
	assert_int_equal(ring_used_idx(&f->ring), 0);
	/* the driver may not clear NEEDS_RESET by writing status */
	bar_write(f->pci, 0, CC(20), VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK, 1);
	assert_true(dev_status(f->pci) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* reset and re-initialize: the device works again */
	bring_up(f, ALL_FEATURES);
	assert_false(f->dev->broken);
	ring_desc(&f->ring, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_int_equal(ring_used_idx(&f->ring), 1);
	assert_int_equal(ring_used_len(&f->ring, 0), 8);
}

static void test_many_chains_wrap_idx(void **state)
{
	struct fixture *f = *state;

	/* run the 16-bit indices across their wrap: 70000 requests */
	ring_desc(&f->ring, 5, BUF_GPA, 4, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < 70000; i++) {
		ring_publish(&f->ring, 5);
		notify(f->pci, 0);
	}
	assert_false(f->dev->broken);
	assert_int_equal(ring_used_idx(&f->ring), (uint16_t)70000);
	assert_int_equal(ring_used_id(&f->ring, (uint16_t)69999), 5);
}

static void test_iov_helpers(void **state)
{
	uint8_t a[3], b[5], out[8];
	struct iovec iov[3] = { { a, 3 }, { NULL, 0 }, { b, 5 } };

	(void)state;
	assert_int_equal(iov_from_buf(iov, 3, 2, "abcdefgh", 8), 6);
	assert_int_equal(a[2], 'a');
	assert_int_equal(b[4], 'f');
	assert_int_equal(iov_to_buf(iov, 3, 2, out, sizeof(out)), 6);
	assert_memory_equal(out, "abcdef", 6);
	assert_int_equal(iov_to_buf(iov, 3, 9, out, sizeof(out)), 0);
}

/* The walker checks the queue size itself: a size the transport let
 * through by mistake (here forced past vq_validate) breaks the device
 * instead of overrunning the walker's 256-entry bookkeeping. */
static void test_walker_checks_size(void **state)
{
	struct fixture *f = *state;
	struct virtqueue *vq = &f->dev->vq[0];

	ring_desc(&f->ring, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&f->ring, 0);
	vq->size = 512; /* rings sized for 8 would be walked as 512 */
	notify(f->pci, 0);
	assert_broken(f, "power of two");
	bring_up(f, ALL_FEATURES);
	vq->size = 0;
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_true(f->dev->broken);
	assert_non_null(strstr(f->dev->broken_reason, "power of two"));
}

/* The largest queue (256): a chain of 256 descriptors through an indirect
 * table is served, 257 breaks the device. */
static void test_queue_size_256(void **state)
{
	struct fixture *f = *state;
	struct fake_ring r;
	const uint64_t table = 0x40000;

	drv_negotiate(f->pci, ALL_FEATURES);
	ring_init(&r, f->vm, RING_GPA, 256);
	f->ring = r;
	drv_queue(f->pci, 0, &f->ring);
	drv_ok(f->pci);
	assert_true(virtio_dev_running(f->dev));
	assert_int_equal(f->dev->vq[0].size, 256);
	for (uint16_t i = 0; i < 256; i++)
		table_desc(f->vm, table, i, BUF_GPA + 4u * i, 4,
			   VIRTQ_DESC_F_WRITE | (i < 255 ? VIRTQ_DESC_F_NEXT : 0), (uint16_t)(i + 1));
	ring_desc(&f->ring, 255, table, 16 * 256, VIRTQ_DESC_F_INDIRECT, 0);
	ring_publish(&f->ring, 255);
	notify(f->pci, 0);
	assert_false(f->dev->broken);
	assert_int_equal(ring_used_idx(&f->ring), 1);
	assert_int_equal(ring_used_len(&f->ring, 0), 1024);
	/* one direct descriptor in front: 257 */
	ring_desc(&f->ring, 7, BUF_GPA + 0x800, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 255);
	ring_publish(&f->ring, 7);
	notify(f->pci, 0);
	assert_true(f->dev->broken);
	assert_non_null(strstr(f->dev->broken_reason, "chain longer than queue size 256"));
}

/* Zero-length descriptors carry nothing and are not translated: accepted
 * anywhere in a chain, even with an address outside RAM. */
static void test_zero_length_descriptors(void **state)
{
	struct fixture *f = *state;

	ring_desc(&f->ring, 0, BUF_GPA, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	ring_desc(&f->ring, 1, BUF_GPA, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	ring_desc(&f->ring, 2, VM_MMIO_HOLE_START, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	ring_desc(&f->ring, 3, BUF_GPA + 16, 0, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_false(f->dev->broken);
	assert_int_equal(ring_used_idx(&f->ring), 1);
	assert_int_equal(ring_used_len(&f->ring, 0), 16);
	/* a chain of nothing but an empty buffer */
	ring_desc(&f->ring, 4, 0, 0, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&f->ring, 4);
	notify(f->pci, 0);
	assert_false(f->dev->broken);
	assert_int_equal(ring_used_idx(&f->ring), 2);
	assert_int_equal(ring_used_len(&f->ring, 1), 0);
}

/* An indirect table whose last byte is the last byte of RAM (high RAM ends
 * at 4 GiB + FAKE_HIGH_RAM) is fine; one entry further is not RAM. */
static void test_indirect_at_end_of_ram(void **state)
{
	struct fixture *f = *state;
	const uint64_t end = (1ull << 32) + FAKE_HIGH_RAM;

	table_desc(f->vm, end - 32, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	table_desc(f->vm, end - 32, 1, end - 64, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_desc(&f->ring, 0, end - 32, 32, VIRTQ_DESC_F_INDIRECT, 0);
	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	assert_false(f->dev->broken);
	assert_int_equal(ring_used_len(&f->ring, 0), 16);
	/* the same at the end of low RAM */
	table_desc(f->vm, FAKE_LOW_RAM - 16, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_desc(&f->ring, 1, FAKE_LOW_RAM - 16, 16, VIRTQ_DESC_F_INDIRECT, 0);
	ring_publish(&f->ring, 1);
	notify(f->pci, 0);
	assert_false(f->dev->broken);
	assert_int_equal(ring_used_idx(&f->ring), 2);
	/* 16 bytes past the end of high RAM */
	ring_desc(&f->ring, 2, end - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	ring_publish(&f->ring, 2);
	notify(f->pci, 0);
	assert_true(f->dev->broken);
	assert_non_null(strstr(f->dev->broken_reason, "is not guest RAM"));
	assert_int_equal(ring_used_idx(&f->ring), 2);
}

/* A driver may write several common-config fields with one 8-byte access:
 * each field is applied in order (queue_select before queue_size before
 * queue_enable; both halves of a ring address). */
static void test_common_cfg_8byte_writes(void **state)
{
	struct fixture *f = *state;
	struct fake_ring r;
	struct virtqueue *vq = &f->dev->vq[0];

	drv_negotiate(f->pci, ALL_FEATURES);
	ring_init(&r, f->vm, (1ull << 32) + 0x1000, 4); /* high RAM: upper halves matter */
	f->ring = r;
	bar_write(f->pci, 0, CC(32), r.desc, 8);
	bar_write(f->pci, 0, CC(40), r.avail, 8);
	bar_write(f->pci, 0, CC(48), r.used, 8);
	assert_int_equal(vq->desc_gpa, r.desc);
	assert_int_equal(vq->avail_gpa, r.avail);
	assert_int_equal(vq->used_gpa, r.used);
	/* queue_select = 0, queue_size = 4, msix_vector = 0xffff, enable = 1 */
	bar_write(f->pci, 0, CC(22), 0x0001ffff00040000ull, 8);
	assert_true(vq->enabled);
	assert_int_equal(vq->size, 4);
	assert_int_equal(bar_read(f->pci, 0, CC(24), 2), 4);
	/* config_msix_vector, num_queues (read-only), status = DRIVER_OK... */
	bar_write(f->pci, 0, CC(16),
		  (uint64_t)(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
			     VIRTIO_STATUS_DRIVER_OK) << 32 | 0xffff, 8);
	assert_true(virtio_dev_running(f->dev));
	assert_int_equal(f->dev->num_queues, 1);
	ring_desc(&f->ring, 3, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&f->ring, 3);
	notify(f->pci, 0);
	assert_int_equal(ring_used_idx(&f->ring), 1);
	assert_int_equal(ring_used_len(&f->ring, 0), 8);
	/* an 8-byte write that would run past the common config is ignored */
	bar_write(f->pci, 0, CC(52), 0x1234567812345678ull, 8);
	assert_int_equal(vq->used_gpa, r.used);
}

/* A driver that refills the ring from another vCPU while the device serves
 * it: the handler publishes a new chain for every one it serves. vq_serve
 * stops after queue-size chains and leaves the rest to the event loop
 * (re-kick eventfd); before the bound it would never return (the handler
 * stops refilling after 16 rounds so the old code ends, failing). */
struct refill {
	struct fixture *f;
	unsigned calls;
};

static uint32_t refill_handle(void *arg, struct vq_chain *c)
{
	struct refill *r = arg;

	(void)c;
	if (++r->calls < 16 * QSIZE)
		ring_publish(&r->f->ring, 0);
	return 0;
}

static struct fake_ev *find_ev(struct vm *vm, int fd)
{
	for (unsigned i = 0; i < ARRAY_SIZE(vm->ev); i++)
		if (vm->ev[i].cb && vm->ev[i].fd == fd)
			return &vm->ev[i];
	return NULL;
}

static void test_serve_bounded_refill(void **state)
{
	struct fixture *f = *state;
	struct virtqueue *vq = &f->dev->vq[0];
	struct refill r = { f, 0 };
	struct fake_ev *ev;
	uint64_t v;

	ring_desc(&f->ring, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < QSIZE; i++)
		ring_publish(&f->ring, 0);
	pthread_mutex_lock(&f->dev->lock);
	vq_serve(vq, refill_handle, &r);
	pthread_mutex_unlock(&f->dev->lock);
	assert_int_equal(r.calls, QSIZE);
	assert_int_equal(ring_used_idx(&f->ring), QSIZE);
	assert_true(vq->rekick);
	/* the event loop was asked to come back, and serves the rest (rng) */
	assert_true(f->dev->rekick_fd >= 0);
	ev = find_ev(f->vm, f->dev->rekick_fd);
	assert_non_null(ev);
	ev->cb(ev->opaque, EPOLLIN);
	assert_false(vq->rekick);
	assert_int_equal(ring_used_idx(&f->ring), 2 * QSIZE);
	assert_int_equal(ring_used_len(&f->ring, 2 * QSIZE - 1), 8);
	/* nothing left: no further re-kick */
	assert_int_equal(read(f->dev->rekick_fd, &v, sizeof(v)), -1);
	assert_false(f->dev->broken);
}

/* A guest that breaks the queue, resets and repeats gets a bounded number
 * of log lines: the burst, then one per interval of the (fake) clock with
 * the count of the lines left out. */
static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }

static unsigned count_lines(FILE *fp, const char *needle, unsigned *matches)
{
	char line[512];
	unsigned n = 0;

	*matches = 0;
	rewind(fp);
	while (fgets(line, sizeof(line), fp)) {
		n++;
		if (strstr(line, needle))
			(*matches)++;
	}
	return n;
}

static void test_log_flood(void **state)
{
	struct fixture *f = *state;
	FILE *log = tmpfile();
	unsigned lines, summaries;
	const unsigned cycles = 20000;
	uint64_t (*real_clock)(void) = virtio_log_clock;

	assert_non_null(log);
	virtio_log_fd = fileno(log);
	virtio_log_clock = fake_clock;
	fake_now = 1000;
	for (unsigned i = 0; i < cycles; i++) {
		put_le16(gpa(f->vm, f->ring.avail + 2), QSIZE + 1);
		notify(f->pci, 0);
		assert_true(f->dev->broken);
		bring_up(f, ALL_FEATURES); /* reset: works again */
		assert_false(f->dev->broken);
	}
	fflush(log);
	lines = count_lines(log, "suppressed", &summaries);
	assert_int_equal(lines, VIRTIO_LOG_BURST);
	assert_int_equal(summaries, 0);
	/* an interval later: one summary and one line, and again silence */
	fake_now += VIRTIO_LOG_INTERVAL_NS;
	for (unsigned i = 0; i < 100; i++) {
		put_le16(gpa(f->vm, f->ring.avail + 2), QSIZE + 1);
		notify(f->pci, 0);
		bring_up(f, ALL_FEATURES);
	}
	lines = count_lines(log, "20000 more device errors suppressed", &summaries);
	assert_int_equal(summaries, 0);
	lines = count_lines(log, "19995 more device errors suppressed", &summaries);
	assert_int_equal(summaries, 1);
	assert_int_equal(lines, VIRTIO_LOG_BURST + 2);
	virtio_log_fd = 2;
	virtio_log_clock = real_clock;
	fclose(log);
}

/* §2.7.10 vring_need_event, including the 16-bit wrap */
static void test_need_event(void **state)
{
	(void)state;
	assert_true(vq_need_event(5, 6, 5));   /* stepped over 5 */
	assert_false(vq_need_event(5, 5, 4)); /* not yet past 5 */
	assert_true(vq_need_event(5, 9, 2));  /* 5 inside (2, 9] */
	assert_false(vq_need_event(9, 9, 2));
	assert_false(vq_need_event(5, 6, 6)); /* nothing new */
	assert_true(vq_need_event(0xffff, 1, 0xfffe));
	assert_false(vq_need_event(1, 1, 0xfffe));
}

#define USED_EVENT(r) ((r)->avail + 4 + 2u * (r)->size)
#define AVAIL_EVENT(r) ((r)->used + 4 + 8u * (r)->size)

/* One request of 8 writable bytes, served; returns whether INTx rose (the
 * ISR read clears it again). */
static bool serve_one(struct fixture *f)
{
	bool irq;

	ring_publish(&f->ring, 0);
	notify(f->pci, 0);
	irq = f->vm->intx_level == 1;
	if (irq)
		assert_int_equal(bar_read(f->pci, 0, VPCI_ISR_OFF, 1), 1);
	return irq;
}

static void test_event_idx(void **state)
{
	struct fixture *f = *state;

	bring_up(f, ALL_FEATURES | 1ull << VIRTIO_F_EVENT_IDX);
	assert_true(f->dev->features & 1ull << VIRTIO_F_EVENT_IDX);
	ring_desc(&f->ring, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	/* used_event 0: the first completion interrupts */
	assert_true(serve_one(f));
	assert_int_equal(ring_used_idx(&f->ring), 1);
	/* the device asks to be notified at the next avail entry */
	assert_int_equal(le16(gpa(f->vm, AVAIL_EVENT(&f->ring))), 1);
	/* the driver wants an interrupt only once entry 5 is used (idx 6) */
	put_le16(gpa(f->vm, USED_EVENT(&f->ring)), 5);
	for (unsigned i = 2; i <= 5; i++) {
		assert_false(serve_one(f));
		assert_int_equal(ring_used_idx(&f->ring), i);
		assert_int_equal(le16(gpa(f->vm, AVAIL_EVENT(&f->ring))), i);
	}
	assert_true(serve_one(f));
	assert_int_equal(ring_used_idx(&f->ring), 6);
	/* used_event stays behind: no more interrupts until the driver moves it */
	assert_false(serve_one(f));
	put_le16(gpa(f->vm, USED_EVENT(&f->ring)), 7);
	assert_true(serve_one(f));
	assert_int_equal(ring_used_idx(&f->ring), 8);
	/* several chains in one notification: one interrupt if event is inside */
	put_le16(gpa(f->vm, USED_EVENT(&f->ring)), 9);
	ring_publish(&f->ring, 0);
	ring_publish(&f->ring, 0);
	assert_true(serve_one(f));
	assert_int_equal(ring_used_idx(&f->ring), 11);
	assert_int_equal(le16(gpa(f->vm, AVAIL_EVENT(&f->ring))), 11);
	/* a reset starts over: the first completion interrupts again */
	bring_up(f, ALL_FEATURES | 1ull << VIRTIO_F_EVENT_IDX);
	ring_desc(&f->ring, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	put_le16(gpa(f->vm, USED_EVENT(&f->ring)), 100);
	assert_true(serve_one(f));
	assert_false(serve_one(f));
	assert_false(f->dev->broken);
}

/* Without EVENT_IDX the avail ring's NO_INTERRUPT flag suppresses (§2.7.7) */
static void test_no_interrupt_flag(void **state)
{
	struct fixture *f = *state;

	ring_desc(&f->ring, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	assert_true(serve_one(f));
	put_le16(gpa(f->vm, f->ring.avail), VIRTQ_AVAIL_F_NO_INTERRUPT);
	assert_false(serve_one(f));
	assert_int_equal(ring_used_idx(&f->ring), 2);
	/* no avail_event bookkeeping without the feature */
	assert_int_equal(le16(gpa(f->vm, AVAIL_EVENT(&f->ring))), 0);
	put_le16(gpa(f->vm, f->ring.avail), 0);
	assert_true(serve_one(f));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_good_chain), T(test_indirect_ok), T(test_loop), T(test_self_loop_in_indirect),
		T(test_out_of_range), T(test_huge_length), T(test_address_wrap), T(test_mmio_hole),
		T(test_nested_indirect), T(test_indirect_bad_len), T(test_indirect_with_next),
		T(test_indirect_not_negotiated), T(test_idx_jump), T(test_head_out_of_table),
		T(test_next_out_of_table), T(test_chain_longer_than_queue), T(test_indirect_table_too_big),
		T(test_readable_after_writable), T(test_bad_rings_at_enable), T(test_broken_until_reset),
		T(test_many_chains_wrap_idx), T(test_log_flood), T(test_serve_bounded_refill),
		T(test_walker_checks_size), T(test_queue_size_256), T(test_zero_length_descriptors),
		T(test_indirect_at_end_of_ram), T(test_common_cfg_8byte_writes), cmocka_unit_test(test_iov_helpers),
		cmocka_unit_test(test_need_event), T(test_event_idx), T(test_no_interrupt_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
