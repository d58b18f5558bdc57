/* test_virtio_fake.h - a fake VM for the virtio unit tests: guest memory,
 * PCI bus, event loop and MSI recorder implementing vmm/vm.h, plus a tiny
 * "driver" that builds split rings in guest memory and programs a device
 * through its BARs. Included by tests/test_virtio*.c, test_virtqueue.c and
 * test_manifest.c only (each is its own program). */
#ifndef CVMM_TEST_VIRTIO_FAKE_H
#define CVMM_TEST_VIRTIO_FAKE_H

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "vmm/virtio/virtio.h"
#include "vmm/virtio/virtio_dev.h"
#include "vmm/vm.h"

#define FAKE_LOW_RAM  (1u << 20)  /* gpa [0, 1 MiB) */
#define FAKE_HIGH_RAM (64u << 10) /* gpa [4 GiB, 4 GiB + 64 KiB) */

struct fake_ev {
	int fd;
	ev_cb cb;
	void *opaque;
};

struct vm {
	struct guest_mem mem;
	struct pci_dev *pci[16];
	unsigned n_pci;
	struct fake_ev ev[16];
	unsigned msi_count;
	uint64_t msi_addr;
	uint32_t msi_data;
	int intx_level;
	/* irqfd routes: off unless a test sets irqfd before creating devices */
	bool irqfd;
	unsigned n_irqfd, route_commits;
	int irqfd_fd[64];
	uint64_t route_addr[64];
	uint32_t route_data[64];
};
struct evloop {
	int unused;
};

/* ---- vm.h, faked ---- */
void *gm_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t high = m->size - m->low_size;

	if (gpa < m->low_size)
		return range_ok(gpa, len, m->low_size) ? m->host + gpa : NULL;
	if (gpa >= 1ull << 32 && range_ok(gpa - (1ull << 32), len, high))
		return m->host + m->low_size + (gpa - (1ull << 32));
	return NULL;
}

static struct vm *fake_current;

int ev_add(struct evloop *l, int fd, uint32_t events, ev_cb cb, void *opaque)
{
	(void)l;
	(void)events;
	for (unsigned i = 0; i < ARRAY_SIZE(fake_current->ev); i++)
		if (!fake_current->ev[i].cb) {
			fake_current->ev[i] = (struct fake_ev){ fd, cb, opaque };
			return 0;
		}
	return -ENOSPC;
}

int ev_del(struct evloop *l, int fd)
{
	(void)l;
	for (unsigned i = 0; i < ARRAY_SIZE(fake_current->ev); i++)
		if (fake_current->ev[i].cb && fake_current->ev[i].fd == fd) {
			fake_current->ev[i].cb = NULL;
			return 0;
		}
	return -ENOENT;
}

int pci_add_cap(struct pci_dev *d, const void *cap, const void *wmask, unsigned len)
{
	unsigned off = d->cap_next ? d->cap_next : 0x40;

	if (off + len > 256)
		return -ENOSPC;
	memcpy(d->cfg + off, cap, len);
	if (wmask)
		memcpy(d->cfg_wmask + off, wmask, len);
	d->cfg[off + 1] = 0;
	if (!d->cap_next) {
		d->cfg[0x34] = (uint8_t)off;
		d->cfg[0x06] |= 0x10; /* status: capability list */
	} else {
		/* link from the previous capability: walk the list */
		unsigned p = d->cfg[0x34];
		while (d->cfg[p + 1])
			p = d->cfg[p + 1];
		d->cfg[p + 1] = (uint8_t)off;
	}
	d->cap_next = (uint8_t)((off + len + 3) & ~3u);
	return (int)off;
}

int pci_register(struct vm *vm, struct pci_dev *d)
{
	if (vm->n_pci >= ARRAY_SIZE(vm->pci))
		return -ENOSPC;
	d->vm = vm;
	d->slot = vm->n_pci + 1;
	d->gsi = 10;
	d->bar_addr[0] = 0xC0000000u + 0x10000u * d->slot;
	vm->pci[vm->n_pci++] = d;
	return 0;
}

void pci_set_intx(struct pci_dev *d, bool level)
{
	d->vm->intx_level = level;
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	vm->msi_count++;
	vm->msi_addr = addr;
	vm->msi_data = data;
	return 0;
}

int vm_irqfd_route(struct vm *vm, int efd)
{
	if (!vm->irqfd || vm->n_irqfd == ARRAY_SIZE(vm->irqfd_fd))
		return -ENOSYS;
	vm->irqfd_fd[vm->n_irqfd] = efd;
	return 24 + (int)vm->n_irqfd++;
}

int vm_irqfd_set_msi(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data)
{
	if (gsi < 24 || gsi - 24 >= vm->n_irqfd)
		return -EINVAL;
	vm->route_addr[gsi - 24] = addr;
	vm->route_data[gsi - 24] = data;
	vm->route_commits++;
	return 0;
}

struct guest_mem *vm_mem(struct vm *vm) { return &vm->mem; }
struct evloop *vm_evloop(struct vm *vm) { (void)vm; static struct evloop l; return &l; }
/* with irqfd on: an fd number no KVM ioctl can succeed on (ioeventfds fall
 * back to MMIO), but the transport's irqfd routes are made */
int vm_fd(struct vm *vm) { return vm->irqfd ? 1000 : -1; }

/* ---- test helpers ---- */
static inline struct vm *fake_vm_new(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	vm->mem.size = FAKE_LOW_RAM + FAKE_HIGH_RAM;
	vm->mem.low_size = FAKE_LOW_RAM;
	vm->mem.host = calloc(1, vm->mem.size);
	fake_current = vm;
	return vm;
}

static inline void fake_vm_free(struct vm *vm)
{
	virtio_destroy_all(vm);
	free(vm->mem.host);
	free(vm);
}

/* The device registered last on vm (the only one in most tests). */
static inline struct virtio_dev *fake_vm_dev(struct vm *vm)
{
	struct virtio_dev *found = NULL;

	for (struct virtio_dev *d = virtio_registry_first(); d; d = d->next)
		if (d->vm == vm)
			found = d;
	return found;
}

static inline void *gpa(struct vm *vm, uint64_t a) { return gm_ptr(&vm->mem, a, 1); }

/* BAR access through the device's callbacks, as the bus would route it */
static inline void bar_write(struct pci_dev *p, int bar, uint64_t off, uint64_t v, unsigned len)
{
	uint8_t b[8];

	put_le64(b, v);
	p->bar_write(p, bar, off, b, len);
}

static inline uint64_t bar_read(struct pci_dev *p, int bar, uint64_t off, unsigned len)
{
	uint8_t b[8] = { 0 };

	p->bar_read(p, bar, off, b, len);
	return le64(b);
}

#define CC(field_off) (VPCI_COMMON_OFF + (field_off))

/* Driver init per §3.1.1: reset, ACK, DRIVER, features, FEATURES_OK. */
static inline uint8_t drv_negotiate(struct pci_dev *p, uint64_t features)
{
	bar_write(p, 0, CC(20), 0, 1);
	bar_write(p, 0, CC(20), VIRTIO_STATUS_ACKNOWLEDGE, 1);
	bar_write(p, 0, CC(20), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	bar_write(p, 0, CC(8), 0, 4);
	bar_write(p, 0, CC(12), (uint32_t)features, 4);
	bar_write(p, 0, CC(8), 1, 4);
	bar_write(p, 0, CC(12), (uint32_t)(features >> 32), 4);
	bar_write(p, 0, CC(20), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK, 1);
	return (uint8_t)bar_read(p, 0, CC(20), 1);
}

/* A split ring the test controls directly in fake guest memory. */
struct fake_ring {
	struct vm *vm;
	uint64_t desc, avail, used;
	uint16_t size, avail_idx, used_seen;
};

static inline void ring_init(struct fake_ring *r, struct vm *vm, uint64_t base, uint16_t size)
{
	r->vm = vm;
	r->size = size;
	r->desc = base;
	r->avail = base + 16u * size;
	r->used = (r->avail + 6 + 2u * size + 3) & ~3ull;
	r->avail_idx = r->used_seen = 0;
	memset(gpa(vm, base), 0, (size_t)(r->used + 6 + 8u * size - base));
}

/* Program queue q of the device with this ring and enable it. */
static inline void drv_queue(struct pci_dev *p, unsigned q, struct fake_ring *r)
{
	bar_write(p, 0, CC(22), q, 2);
	bar_write(p, 0, CC(24), r->size, 2);
	bar_write(p, 0, CC(32), (uint32_t)r->desc, 4);
	bar_write(p, 0, CC(36), r->desc >> 32, 4);
	bar_write(p, 0, CC(40), (uint32_t)r->avail, 4);
	bar_write(p, 0, CC(44), r->avail >> 32, 4);
	bar_write(p, 0, CC(48), (uint32_t)r->used, 4);
	bar_write(p, 0, CC(52), r->used >> 32, 4);
	bar_write(p, 0, CC(28), 1, 2);
}

static inline void drv_ok(struct pci_dev *p)
{
	bar_write(p, 0, CC(20), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
}

static inline void ring_desc(struct fake_ring *r, uint16_t i, uint64_t addr, uint32_t len,
			     uint16_t flags, uint16_t next)
{
	uint8_t *d = gpa(r->vm, r->desc + 16u * i);

	put_le64(d, addr);
	put_le32(d + 8, len);
	put_le16(d + 12, flags);
	put_le16(d + 14, next);
}

/* Write a descriptor into an arbitrary table (indirect tables) */
static inline void table_desc(struct vm *vm, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
			      uint16_t flags, uint16_t next)
{
	uint8_t *d = gpa(vm, table + 16u * i);

	put_le64(d, addr);
	put_le32(d + 8, len);
	put_le16(d + 12, flags);
	put_le16(d + 14, next);
}

static inline void ring_publish(struct fake_ring *r, uint16_t head)
{
	put_le16(gpa(r->vm, r->avail + 4 + 2u * (r->avail_idx % r->size)), head);
	r->avail_idx++;
	put_le16(gpa(r->vm, r->avail + 2), r->avail_idx);
}

static inline uint16_t ring_used_idx(struct fake_ring *r) { return le16(gpa(r->vm, r->used + 2)); }

static inline uint32_t ring_used_len(struct fake_ring *r, uint16_t slot)
{
	return le32(gpa(r->vm, r->used + 4 + 8u * (slot % r->size) + 4));
}

static inline uint32_t ring_used_id(struct fake_ring *r, uint16_t slot)
{
	return le32(gpa(r->vm, r->used + 4 + 8u * (slot % r->size)));
}

static inline void notify(struct pci_dev *p, unsigned q)
{
	bar_write(p, 0, VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT * q, q, 2);
}

static inline uint8_t dev_status(struct pci_dev *p) { return (uint8_t)bar_read(p, 0, CC(20), 1); }

#endif
