/* Unit tests: the virtio devices on a fake VM, driven through their BARs
 * and real split rings in fake guest memory: config layouts (blk, net,
 * console, vsock), a blk read/write/flush/discard/write-zeroes round trip on
 * a temporary image, read-only blk, net transmit/receive over a datagram
 * socketpair standing in for the tap, console output/input over pipes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_virtio_fake.h"

#define V1 (1ull << VIRTIO_F_VERSION_1)
#define DEVCFG(o) (VPCI_DEVICE_OFF + (o))
#define RING 0x1000u
#define HDR  0x8000u   /* request header */
#define DATA 0x10000u  /* data buffers */
#define STAT 0x9000u   /* status byte */

static uint64_t features_of(struct pci_dev *p)
{
	uint64_t lo, hi;

	bar_write(p, 0, CC(0), 0, 4);
	lo = bar_read(p, 0, CC(4), 4);
	bar_write(p, 0, CC(0), 1, 4);
	hi = bar_read(p, 0, CC(4), 4);
	return lo | hi << 32;
}

/* Run the fake event loop: call every handler whose fd is readable. */
static void run_events(struct vm *vm)
{
	for (int round = 0; round < 16; round++) {
		bool any = false;
		for (unsigned i = 0; i < ARRAY_SIZE(vm->ev); i++) {
			struct fake_ev e = vm->ev[i];
			struct pollfd pfd = { .fd = e.fd, .events = POLLIN };
			if (e.cb && poll(&pfd, 1, 0) == 1) {
				e.cb(e.opaque, POLLIN);
				any = true;
			}
		}
		if (!any)
			return;
	}
}

/* ---------------- blk ---------------- */
static char img_path[64];

static int make_image(size_t size)
{
	int fd;

	snprintf(img_path, sizeof(img_path), "/tmp/cvmm-test-blk-XXXXXX");
	fd = mkstemp(img_path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static void test_blk_config(void **state)
{
	struct vm *vm = fake_vm_new();
	int fd = make_image((1 << 20) + 100); /* partial last sector is not exposed */
	struct pci_dev *p;
	uint64_t feat;

	(void)state;
	assert_int_equal(virtio_blk_create(vm, img_path, false), 0);
	p = vm->pci[0];
	assert_int_equal(p->device_id, 0x1042);
	assert_int_equal(bar_read(p, 0, DEVCFG(0), 8), 2048);   /* capacity */
	assert_int_equal(bar_read(p, 0, DEVCFG(12), 4), 254);   /* seg_max */
	assert_int_equal(bar_read(p, 0, DEVCFG(20), 4), 512);   /* blk_size */
	assert_int_equal(bar_read(p, 0, DEVCFG(40), 4), 1);     /* max_discard_seg */
	feat = features_of(p);
	assert_true(feat & V1);
	assert_true(feat & 1ull << VIRTIO_F_ACCESS_PLATFORM);
	assert_true(feat & (1u << 2 | 1u << 6 | 1u << 9 | 1u << 13 | 1u << 14)); /* SEG_MAX BLK_SIZE FLUSH DISCARD WZ */
	assert_false(feat & 1u << 5);                           /* not RO */
	/* config space is read-only for the driver */
	bar_write(p, 0, DEVCFG(0), 7, 8);
	assert_int_equal(bar_read(p, 0, DEVCFG(0), 8), 2048);

	assert_int_equal(virtio_blk_create(vm, img_path, true), 0);
	feat = features_of(vm->pci[1]);
	assert_true(feat & 1u << 5);
	assert_false(feat & (1u << 13 | 1u << 14));

	assert_int_equal(virtio_blk_create(vm, "/nonexistent/disk.img", false), -ENOENT);
	assert_non_null(strstr(err_msg(), "/nonexistent/disk.img"));
	close(fd);
	unlink(img_path);
	fake_vm_free(vm);
}

struct blk_rig {
	struct vm *vm;
	struct pci_dev *p;
	struct virtio_dev *d;
	struct fake_ring r;
	int fd;
};

static void blk_rig_up(struct blk_rig *g, bool ro)
{
	g->vm = fake_vm_new();
	g->fd = make_image(64 * 512);
	assert_int_equal(virtio_blk_create(g->vm, img_path, ro), 0);
	g->p = g->vm->pci[0];
	g->d = fake_vm_dev(g->vm);
	assert_true(drv_negotiate(g->p, V1) & VIRTIO_STATUS_FEATURES_OK);
	ring_init(&g->r, g->vm, RING, 16);
	drv_queue(g->p, 0, &g->r);
	drv_ok(g->p);
}

static void blk_rig_down(struct blk_rig *g)
{
	close(g->fd);
	unlink(img_path);
	fake_vm_free(g->vm);
}

/* Submit one request: header, optional data (split into two descriptors to
 * exercise gathering), status. Returns the status byte. */
static uint8_t blk_req(struct blk_rig *g, uint32_t type, uint64_t sector, uint32_t data_len, bool data_in,
		       uint32_t *used_len)
{
	uint8_t *h = gpa(g->vm, HDR);
	uint16_t n = 0, half = (uint16_t)(data_len / 2);

	put_le32(h, type);
	put_le32(h + 4, 0);
	put_le64(h + 8, sector);
	*(uint8_t *)gpa(g->vm, STAT) = 0xee;
	ring_desc(&g->r, n, HDR, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(n + 1));
	n++;
	if (data_len) {
		uint16_t wr = data_in ? VIRTQ_DESC_F_WRITE : 0;
		ring_desc(&g->r, n, DATA, half, wr | VIRTQ_DESC_F_NEXT, (uint16_t)(n + 1));
		n++;
		ring_desc(&g->r, n, DATA + half, data_len - half, wr | VIRTQ_DESC_F_NEXT, (uint16_t)(n + 1));
		n++;
	}
	ring_desc(&g->r, n, STAT, 1, VIRTQ_DESC_F_WRITE, 0);
	uint16_t before = ring_used_idx(&g->r);
	ring_publish(&g->r, 0);
	notify(g->p, 0);
	virtio_blk_wait_idle(g->d);
	assert_int_equal(ring_used_idx(&g->r), (uint16_t)(before + 1));
	if (used_len)
		*used_len = ring_used_len(&g->r, before);
	assert_false(g->d->broken);
	return *(uint8_t *)gpa(g->vm, STAT);
}

static void test_blk_round_trip(void **state)
{
	struct blk_rig g;
	uint8_t *data, disk[1024];
	uint32_t used;

	(void)state;
	blk_rig_up(&g, false);
	data = gpa(g.vm, DATA);
	for (int i = 0; i < 1024; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	/* write sectors 3-4 */
	assert_int_equal(blk_req(&g, 1, 3, 1024, false, &used), 0);
	assert_int_equal(used, 1);
	assert_int_equal(pread(g.fd, disk, 1024, 3 * 512), 1024);
	assert_memory_equal(disk, data, 1024);
	/* read them back */
	memset(data, 0, 1024);
	assert_int_equal(blk_req(&g, 0, 3, 1024, true, &used), 0);
	assert_int_equal(used, 1025);
	assert_memory_equal(data, disk, 1024);
	/* flush */
	assert_int_equal(blk_req(&g, 4, 0, 0, false, NULL), 0);
	/* GET_ID: the image's base name, 20 bytes at most */
	memset(data, 0, 20);
	assert_int_equal(blk_req(&g, 8, 0, 20, true, NULL), 0);
	assert_memory_equal(data, strrchr(img_path, '/') + 1, strlen(strrchr(img_path, '/') + 1));
	/* discard sector 3: one segment { sector 3, 1 sector, flags 0 } */
	put_le64(gpa(g.vm, DATA), 3);
	put_le32(gpa(g.vm, DATA + 8), 1);
	put_le32(gpa(g.vm, DATA + 12), 0);
	assert_int_equal(blk_req(&g, 11, 0, 16, false, NULL), 0);
	/* write zeroes on sector 4 (no unmap) */
	put_le64(gpa(g.vm, DATA), 4);
	assert_int_equal(blk_req(&g, 13, 0, 16, false, NULL), 0);
	assert_int_equal(pread(g.fd, disk, 1024, 3 * 512), 1024);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(disk[i], 0);
	/* discard with the unmap flag is UNSUPP (§5.2.6.2) */
	put_le32(gpa(g.vm, DATA + 12), 1);
	assert_int_equal(blk_req(&g, 11, 0, 16, false, NULL), 2);
	/* out of range: the last sector is 63 */
	assert_int_equal(blk_req(&g, 0, 63, 512, true, NULL), 0);
	assert_int_equal(blk_req(&g, 0, 63, 1024, true, NULL), 1);
	assert_int_equal(blk_req(&g, 1, 0xffffffffffffffffull, 512, false, NULL), 1);
	put_le64(gpa(g.vm, DATA), 60);
	put_le32(gpa(g.vm, DATA + 8), 5);
	put_le32(gpa(g.vm, DATA + 12), 0);
	assert_int_equal(blk_req(&g, 13, 0, 16, false, NULL), 1);
	/* not a whole number of sectors */
	assert_int_equal(blk_req(&g, 0, 0, 100, true, NULL), 1);
	/* unknown request type */
	assert_int_equal(blk_req(&g, 99, 0, 0, false, NULL), 2);
	blk_rig_down(&g);
}

/* Publish a chain at head 0 of the descriptors already written, notify
 * queue q, wait for the I/O thread; the used length of that chain. */
static uint32_t blk_kick(struct blk_rig *g, struct fake_ring *r, unsigned q)
{
	uint16_t before = ring_used_idx(r);

	ring_publish(r, 0);
	notify(g->p, q);
	virtio_blk_wait_idle(g->d);
	assert_int_equal(ring_used_idx(r), (uint16_t)(before + 1));
	return ring_used_len(r, before);
}

/* Chains of the wrong shape get an answer (or at least their buffers back)
 * and the device, and cvmm, go on. */
static void test_blk_hostile(void **state)
{
	struct blk_rig g;
	uint8_t *h, *st;

	(void)state;
	blk_rig_up(&g, false);
	h = gpa(g.vm, HDR);
	st = gpa(g.vm, STAT);
	/* no writable byte at all: nowhere to put a status */
	put_le32(h, 0);
	put_le64(h + 8, 0);
	ring_desc(&g.r, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	ring_desc(&g.r, 1, DATA, 512, 0, 0);
	assert_int_equal(blk_kick(&g, &g.r, 0), 0);
	/* a header shorter than 16 bytes */
	*st = 0xee;
	ring_desc(&g.r, 0, HDR, 8, VIRTQ_DESC_F_NEXT, 1);
	ring_desc(&g.r, 1, STAT, 1, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(blk_kick(&g, &g.r, 0), 1);
	assert_int_equal(*st, 1); /* IOERR */
	/* a read whose data is device-readable: nothing to read into */
	ring_desc(&g.r, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	ring_desc(&g.r, 1, DATA, 512, VIRTQ_DESC_F_NEXT, 2);
	ring_desc(&g.r, 2, STAT, 1, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(blk_kick(&g, &g.r, 0), 1);
	assert_int_equal(*st, 0);
	/* huge request: 4 GiB less one sector of sectors past the end */
	put_le32(h, 1);
	put_le64(h + 8, 62);
	ring_desc(&g.r, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	ring_desc(&g.r, 1, DATA, 0x20000, VIRTQ_DESC_F_NEXT, 2);
	ring_desc(&g.r, 2, STAT, 1, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(blk_kick(&g, &g.r, 0), 1);
	assert_int_equal(*st, 1); /* IOERR */
	/* sector number that overflows when multiplied by 512 */
	put_le64(h + 8, 1ull << 56);
	assert_int_equal(blk_kick(&g, &g.r, 0), 1);
	assert_int_equal(*st, 1);
	/* a flush carrying data, and the status byte inside a longer buffer */
	put_le32(h, 4);
	ring_desc(&g.r, 1, DATA, 512, VIRTQ_DESC_F_NEXT, 2);
	ring_desc(&g.r, 2, STAT, 16, VIRTQ_DESC_F_WRITE, 0);
	memset(st, 0xee, 16);
	assert_int_equal(blk_kick(&g, &g.r, 0), 1);
	assert_int_equal(st[15], 0);
	/* discard with too many segments, and of a size that is no segment */
	put_le32(h, 11);
	ring_desc(&g.r, 1, DATA, 32, VIRTQ_DESC_F_NEXT, 2);
	ring_desc(&g.r, 2, STAT, 1, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(blk_kick(&g, &g.r, 0), 1);
	assert_int_equal(*st, 1);
	ring_desc(&g.r, 1, DATA, 7, VIRTQ_DESC_F_NEXT, 2);
	assert_int_equal(blk_kick(&g, &g.r, 0), 1);
	assert_int_equal(*st, 1);
	assert_false(g.d->broken);
	/* and the device still does real work */
	assert_int_equal(blk_req(&g, 0, 0, 512, true, NULL), 0);
	blk_rig_down(&g);
}

/* More requests than one batch in a single notification: all are served
 * (the thread comes back for the rest), each once, in any order. */
static void test_blk_many(void **state)
{
	struct blk_rig g;
	struct fake_ring big;
	uint8_t disk[512];
	const unsigned n = 200;

	(void)state;
	g.vm = fake_vm_new();
	g.fd = make_image(256 * 512);
	for (unsigned i = 0; i < 256; i++) {
		memset(disk, (int)i, sizeof(disk));
		assert_int_equal(pwrite(g.fd, disk, 512, (off_t)i * 512), 512);
	}
	assert_int_equal(virtio_blk_create(g.vm, img_path, false), 0);
	g.p = g.vm->pci[0];
	g.d = fake_vm_dev(g.vm);
	assert_true(drv_negotiate(g.p, V1) & VIRTIO_STATUS_FEATURES_OK);
	ring_init(&big, g.vm, RING, 256);
	drv_queue(g.p, 0, &big);
	drv_ok(g.p);
	/* chain i: descriptors 3i..3i+2 read sector i into DATA + 512 i */
	for (unsigned i = 0; i < n / 3 * 3 && i < 85; i++) {
		uint64_t hdr = HDR + 16 * i, data = DATA + 512 * i, stat = STAT + i;
		put_le32(gpa(g.vm, hdr), 0);
		put_le64(gpa(g.vm, hdr + 8), i);
		ring_desc(&big, (uint16_t)(3 * i), hdr, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(3 * i + 1));
		ring_desc(&big, (uint16_t)(3 * i + 1), data, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
			  (uint16_t)(3 * i + 2));
		ring_desc(&big, (uint16_t)(3 * i + 2), stat, 1, VIRTQ_DESC_F_WRITE, 0);
		*(uint8_t *)gpa(g.vm, stat) = 0xee;
		ring_publish(&big, (uint16_t)(3 * i));
	}
	notify(g.p, 0);
	virtio_blk_wait_idle(g.d);
	assert_int_equal(ring_used_idx(&big), 85);
	for (unsigned i = 0; i < 85; i++) {
		assert_int_equal(*(uint8_t *)gpa(g.vm, STAT + i), 0);
		assert_int_equal(*(uint8_t *)gpa(g.vm, DATA + 512 * i + 511), (uint8_t)i);
	}
	/* every head came back exactly once */
	uint8_t seen[85] = { 0 };
	for (unsigned k = 0; k < 85; k++) {
		uint32_t id = ring_used_id(&big, (uint16_t)k);
		assert_true(id % 3 == 0 && id / 3 < 85);
		assert_int_equal(seen[id / 3]++, 0);
		assert_int_equal(ring_used_len(&big, (uint16_t)k), 513);
	}
	blk_rig_down(&g);
}

/* queues=2: VIRTIO_BLK_F_MQ, num_queues 2, and the second queue serves. */
static void test_blk_multiqueue(void **state)
{
	struct virtio_blk_opts o = { .queues = 2 };
	struct blk_rig g;
	struct fake_ring r1;
	uint8_t disk[512];

	(void)state;
	g.vm = fake_vm_new();
	g.fd = make_image(64 * 512);
	o.path = img_path;
	memset(disk, 0x42, sizeof(disk));
	assert_int_equal(pwrite(g.fd, disk, 512, 5 * 512), 512);
	o.queues = VIRTIO_MAX_QUEUES + 1;
	assert_int_equal(virtio_blk_create_opts(g.vm, &o), -EINVAL);
	assert_non_null(strstr(err_msg(), "queues="));
	o.queues = 2;
	assert_int_equal(virtio_blk_create_opts(g.vm, &o), 0);
	g.p = g.vm->pci[0];
	g.d = fake_vm_dev(g.vm);
	assert_true(features_of(g.p) & 1ull << 12);
	assert_int_equal(bar_read(g.p, 0, DEVCFG(34), 2), 2);
	assert_int_equal(bar_read(g.p, 0, CC(18), 2), 2);
	assert_true(drv_negotiate(g.p, V1 | 1ull << 12) & VIRTIO_STATUS_FEATURES_OK);
	ring_init(&g.r, g.vm, RING, 16);
	ring_init(&r1, g.vm, RING + 0x1000, 16);
	drv_queue(g.p, 0, &g.r);
	drv_queue(g.p, 1, &r1);
	drv_ok(g.p);
	put_le32(gpa(g.vm, HDR), 0);
	put_le64(gpa(g.vm, HDR + 8), 5);
	ring_desc(&r1, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	ring_desc(&r1, 1, DATA, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	ring_desc(&r1, 2, STAT, 1, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(blk_kick(&g, &r1, 1), 513);
	assert_int_equal(ring_used_idx(&g.r), 0);
	assert_memory_equal(gpa(g.vm, DATA), disk, 512);
	/* the first queue still works too */
	assert_int_equal(blk_req(&g, 0, 5, 512, true, NULL), 0);
	blk_rig_down(&g);
}

/* direct=on: O_DIRECT where the file system has it; guest buffers that are
 * not 512-byte aligned go through the bounce buffer. */
static void test_blk_direct(void **state)
{
	struct virtio_blk_opts o = { .direct = true };
	struct blk_rig g;
	uint8_t *d, disk[1536];
	int probe;

	(void)state;
	g.vm = fake_vm_new();
	snprintf(img_path, sizeof(img_path), "cvmm-test-direct-XXXXXX"); /* the build's file system, not tmpfs */
	g.fd = mkstemp(img_path);
	assert_true(g.fd >= 0);
	assert_int_equal(ftruncate(g.fd, 64 * 512), 0);
	probe = open(img_path, O_RDWR | O_DIRECT);
	if (probe < 0) { /* no O_DIRECT here: the error must say so */
		o.path = img_path;
		assert_int_equal(virtio_blk_create_opts(g.vm, &o), -EINVAL);
		assert_non_null(strstr(err_msg(), "direct=on"));
		blk_rig_down(&g);
		skip();
	}
	close(probe);
	o.path = img_path;
	assert_int_equal(virtio_blk_create_opts(g.vm, &o), 0);
	g.p = g.vm->pci[0];
	g.d = fake_vm_dev(g.vm);
	assert_true(drv_negotiate(g.p, V1) & VIRTIO_STATUS_FEATURES_OK);
	ring_init(&g.r, g.vm, RING, 16);
	drv_queue(g.p, 0, &g.r);
	drv_ok(g.p);
	d = gpa(g.vm, DATA);
	for (int i = 0; i < 1024; i++)
		d[i] = (uint8_t)(i * 13 + 5);
	/* aligned: straight to the image */
	assert_int_equal(blk_req(&g, 1, 2, 1024, false, NULL), 0);
	assert_int_equal(pread(g.fd, disk, 1024, 2 * 512), 1024);
	assert_memory_equal(disk, d, 1024);
	/* unaligned guest buffer (DATA + 3) and an odd split: bounced */
	put_le32(gpa(g.vm, HDR), 1);
	put_le64(gpa(g.vm, HDR + 8), 8);
	for (int i = 0; i < 1536; i++)
		d[3 + i] = (uint8_t)(i * 7 + 1);
	ring_desc(&g.r, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	ring_desc(&g.r, 1, DATA + 3, 100, VIRTQ_DESC_F_NEXT, 2);
	ring_desc(&g.r, 2, DATA + 103, 1436, VIRTQ_DESC_F_NEXT, 3);
	ring_desc(&g.r, 3, STAT, 1, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(blk_kick(&g, &g.r, 0), 1);
	assert_int_equal(*(uint8_t *)gpa(g.vm, STAT), 0);
	assert_int_equal(pread(g.fd, disk, 1536, 8 * 512), 1536);
	assert_memory_equal(disk, d + 3, 1536);
	/* and read back unaligned */
	memset(d, 0, 2048);
	put_le32(gpa(g.vm, HDR), 0);
	ring_desc(&g.r, 1, DATA + 3, 100, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	ring_desc(&g.r, 2, DATA + 103, 1436, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	assert_int_equal(blk_kick(&g, &g.r, 0), 1537);
	assert_memory_equal(d + 3, disk, 1536);
	blk_rig_down(&g);
}

static void test_blk_read_only(void **state)
{
	struct blk_rig g;
	uint8_t disk[512];

	(void)state;
	blk_rig_up(&g, true);
	memset(gpa(g.vm, DATA), 0xab, 512);
	assert_int_equal(blk_req(&g, 1, 0, 512, false, NULL), 1); /* IOERR */
	assert_int_equal(pread(g.fd, disk, 512, 0), 512);
	for (int i = 0; i < 512; i++)
		assert_int_equal(disk[i], 0);
	put_le64(gpa(g.vm, DATA), 0);
	put_le32(gpa(g.vm, DATA + 8), 1);
	put_le32(gpa(g.vm, DATA + 12), 0);
	assert_int_equal(blk_req(&g, 11, 0, 16, false, NULL), 1);
	assert_int_equal(blk_req(&g, 0, 0, 512, true, NULL), 0); /* reads work */
	blk_rig_down(&g);
}

/* ---------------- net ---------------- */
static void test_net(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct vm *vm = fake_vm_new();
	struct fake_ring rx, tx;
	struct pci_dev *p;
	uint8_t frame[64], got[128];
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(virtio_net_create_fd(vm, sv[0], mac, "tap-test"), 0);
	p = vm->pci[0];
	assert_int_equal(p->device_id, 0x1041);
	assert_int_equal(p->class_code, 0x020000);
	for (int i = 0; i < 6; i++)
		assert_int_equal(bar_read(p, 0, DEVCFG(i), 1), mac[i]);
	assert_int_equal(bar_read(p, 0, DEVCFG(6), 2), 1); /* status: LINK_UP */
	assert_true(features_of(p) & (1u << 5 | 1u << 16)); /* MAC, STATUS */

	assert_true(drv_negotiate(p, V1 | 1u << 5 | 1u << 16) & VIRTIO_STATUS_FEATURES_OK);
	ring_init(&rx, vm, 0x1000, 8);
	ring_init(&tx, vm, 0x3000, 8);
	drv_queue(p, 0, &rx);
	drv_queue(p, 1, &tx);
	drv_ok(p);

	/* transmit: the guest's header (garbage flags) is replaced by zeros */
	memset(gpa(vm, 0x10000), 0x77, 12);
	for (int i = 0; i < 60; i++)
		((uint8_t *)gpa(vm, 0x10100))[i] = (uint8_t)i;
	ring_desc(&tx, 0, 0x10000, 12, VIRTQ_DESC_F_NEXT, 1);
	ring_desc(&tx, 1, 0x10100, 60, 0, 0);
	ring_publish(&tx, 0);
	notify(p, 1);
	assert_int_equal(ring_used_idx(&tx), 1);
	assert_int_equal(recv(sv[1], got, sizeof(got), 0), 72);
	assert_memory_equal(got, (uint8_t[12]){ 0 }, 12);
	assert_memory_equal(got + 12, gpa(vm, 0x10100), 60);

	/* receive: a frame from the "tap" lands in the next receive chain
	 * with num_buffers = 1 */
	memset(frame, 0, 12);
	for (int i = 12; i < 64; i++)
		frame[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(send(sv[1], frame, sizeof(frame), 0), 64);
	run_events(vm); /* nothing yet: no receive buffers posted */
	assert_int_equal(ring_used_idx(&rx), 0);
	ring_desc(&rx, 0, 0x20000, 1526, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&rx, 0);
	notify(p, 0);
	run_events(vm);
	assert_int_equal(ring_used_idx(&rx), 1);
	assert_int_equal(ring_used_len(&rx, 0), 64);
	assert_int_equal(le16(gpa(vm, 0x20000 + 10)), 1);
	assert_memory_equal(gpa(vm, 0x20000 + 12), frame + 12, 52);

	close(sv[1]);
	fake_vm_free(vm);
}

/* ---------------- console ---------------- */
static void test_console(void **state)
{
	struct vm *vm = fake_vm_new();
	struct fake_ring rx, tx;
	struct pci_dev *p;
	int in[2], out[2];
	char buf[32];

	(void)state;
	assert_int_equal(pipe2(in, O_NONBLOCK), 0);
	assert_int_equal(pipe2(out, O_NONBLOCK), 0);
	assert_int_equal(virtio_console_create(vm, in[0], out[1]), 0);
	p = vm->pci[0];
	assert_int_equal(p->device_id, 0x1043);
	/* §5.3.4: cols, rows (not a tty: 80x24), max_nr_ports */
	assert_int_equal(bar_read(p, 0, DEVCFG(0), 2), 80);
	assert_int_equal(bar_read(p, 0, DEVCFG(2), 2), 24);
	assert_int_equal(bar_read(p, 0, DEVCFG(4), 4), 1);
	assert_true(features_of(p) & (1u << 0 | 1u << 2)); /* SIZE, EMERG_WRITE */
	/* emergency write through config space */
	bar_write(p, 0, DEVCFG(8), '!', 4);
	assert_int_equal(read(out[0], buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], '!');

	assert_true(drv_negotiate(p, V1) & VIRTIO_STATUS_FEATURES_OK);
	ring_init(&rx, vm, 0x1000, 8);
	ring_init(&tx, vm, 0x3000, 8);
	drv_queue(p, 0, &rx);
	drv_queue(p, 1, &tx);
	drv_ok(p);

	memcpy(gpa(vm, 0x10000), "hello ", 6);
	memcpy(gpa(vm, 0x10100), "hvc0\n", 5);
	ring_desc(&tx, 0, 0x10000, 6, VIRTQ_DESC_F_NEXT, 1);
	ring_desc(&tx, 1, 0x10100, 5, 0, 0);
	ring_publish(&tx, 0);
	notify(p, 1);
	assert_int_equal(read(out[0], buf, sizeof(buf)), 11);
	assert_memory_equal(buf, "hello hvc0\n", 11);

	/* input: 10 bytes into two 4-byte receive buffers, the rest later */
	assert_int_equal(write(in[1], "0123456789", 10), 10);
	ring_desc(&rx, 0, 0x20000, 4, VIRTQ_DESC_F_WRITE, 0);
	ring_desc(&rx, 1, 0x20010, 4, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&rx, 0);
	ring_publish(&rx, 1);
	notify(p, 0);
	run_events(vm);
	assert_int_equal(ring_used_idx(&rx), 2);
	assert_memory_equal(gpa(vm, 0x20000), "0123", 4);
	assert_memory_equal(gpa(vm, 0x20010), "4567", 4);
	ring_publish(&rx, 0);
	notify(p, 0);
	run_events(vm);
	assert_int_equal(ring_used_idx(&rx), 3);
	assert_int_equal(ring_used_len(&rx, 2), 2);
	assert_memory_equal(gpa(vm, 0x20000), "89", 2);

	fake_vm_free(vm);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

/* Guest output into a pipe nobody reads (a blocking one, like a shell's):
 * the notifying vCPU returns, the pipe holds what fitted, the rest is
 * buffered up to a bound or dropped, and teardown completes. */
static void test_console_output_unread(void **state)
{
	struct vm *vm = fake_vm_new();
	struct fake_ring rx, tx;
	struct pci_dev *p;
	int out[2], pipe_sz, avail = 0;

	(void)state;
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	pipe_sz = fcntl(out[1], F_GETPIPE_SZ);
	assert_int_equal(virtio_console_create(vm, -1, out[1]), 0);
	p = vm->pci[0];
	assert_true(drv_negotiate(p, V1) & VIRTIO_STATUS_FEATURES_OK);
	ring_init(&rx, vm, 0x1000, 8);
	ring_init(&tx, vm, 0x3000, 8);
	drv_queue(p, 0, &rx);
	drv_queue(p, 1, &tx);
	drv_ok(p);
	memset(gpa(vm, 0x40000), 'x', 0x40000);
	/* 64 rounds of a 256 KiB write: 16 MiB in all */
	ring_desc(&tx, 0, 0x40000, 0x40000, 0, 0);
	for (unsigned i = 0; i < 64; i++) {
		ring_publish(&tx, 0);
		notify(p, 1);
	}
	assert_int_equal(ring_used_idx(&tx), 64);
	assert_int_equal(ioctl(out[0], FIONREAD, &avail), 0);
	assert_int_equal(avail, pipe_sz);
	fake_vm_free(vm); /* teardown does not wait for the reader either */
	close(out[0]);
	close(out[1]);
}

/* ---------------- vsock ---------------- */
static void test_vsock_config(void **state)
{
	struct vm *vm = fake_vm_new();
	struct pci_dev *p;

	(void)state;
	assert_int_equal(virtio_vsock_create_fd(vm, -1, 0x1234567), 0);
	p = vm->pci[0];
	assert_int_equal(p->device_id, 0x1040 + 19);
	assert_int_equal(bar_read(p, 0, DEVCFG(0), 8), 0x1234567); /* guest_cid */
	assert_int_equal(bar_read(p, 0, CC(18), 2), 3);             /* rx, tx, event */
	assert_int_equal(virtio_vsock_create_fd(vm, -1, 2), -EINVAL);
	assert_non_null(strstr(err_msg(), "CID 2"));
	assert_int_equal(vm->n_pci, 1);
	/* a backend that is not vhost: the first vhost ioctl fails, cleanly */
	int fd = open("/dev/null", O_RDWR);
	assert_true(fd >= 0);
	assert_true(virtio_vsock_create_fd(vm, fd, 3) < 0);
	assert_non_null(strstr(err_msg(), "VHOST_SET_OWNER"));
	assert_int_equal(vm->n_pci, 1);
	fake_vm_free(vm);
}

/* vhost-net: a backend that is not vhost fails at its first ioctl, naming
 * it, and leaves nothing behind (no device, the fds closed) */
static void test_net_vhost_not_vhost(void **state)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 2 };
	struct vm *vm = fake_vm_new();
	int sv[2], fd = open("/dev/null", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_true(virtio_net_create_vhost_fd(vm, sv[0], fd, mac, "tap-test") < 0);
	assert_non_null(strstr(err_msg(), "/dev/vhost-net: VHOST_SET_OWNER"));
	assert_int_equal(vm->n_pci, 0);
	assert_null(virtio_registry_first());
	assert_int_equal(fcntl(fd, F_GETFD), -1); /* closed */
	assert_int_equal(fcntl(sv[0], F_GETFD), -1);
	close(sv[1]);
	fake_vm_free(vm);
}

static void test_create_errors(void **state)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct vm *vm = fake_vm_new();

	(void)state;
	assert_int_equal(virtio_net_create(vm, "", mac, VIRTIO_NET_VHOST_AUTO), -EINVAL);
	assert_int_equal(virtio_net_create(vm, "a-name-longer-than-ifnamsiz", mac, VIRTIO_NET_VHOST_AUTO), -EINVAL);
	assert_non_null(strstr(err_msg(), "tap name"));
	assert_int_equal(virtio_blk_create(vm, "/dev/null", false), -EINVAL); /* a char device */
	assert_non_null(strstr(err_msg(), "/dev/null"));
	assert_int_equal(vm->n_pci, 0);
	assert_null(virtio_registry_first());
	fake_vm_free(vm);
}

/* A real tap when the host allows it (root with /dev/net/tun), else skipped. */
static void test_net_real_tap(void **state)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 2 };
	struct vm *vm = fake_vm_new();
	int r;

	(void)state;
	r = virtio_net_create(vm, "cvmm-vt%d", mac, VIRTIO_NET_VHOST_OFF);
	if (r == -EPERM || r == -EACCES || r == -ENOENT || r == -ENODEV) {
		fake_vm_free(vm);
		skip();
	}
	assert_int_equal(r, 0);
	assert_int_equal(vm->n_pci, 1);
	fake_vm_free(vm); /* closing the fd removes the non-persistent tap */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blk_config),  cmocka_unit_test(test_blk_round_trip),
		cmocka_unit_test(test_blk_read_only), cmocka_unit_test(test_blk_hostile),
		cmocka_unit_test(test_blk_many), cmocka_unit_test(test_blk_multiqueue),
		cmocka_unit_test(test_blk_direct), cmocka_unit_test(test_net),
		cmocka_unit_test(test_console), cmocka_unit_test(test_console_output_unread),     cmocka_unit_test(test_vsock_config),
		cmocka_unit_test(test_net_vhost_not_vhost),
		cmocka_unit_test(test_net_vhost_not_vhost),
		cmocka_unit_test(test_create_errors), cmocka_unit_test(test_net_real_tap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
