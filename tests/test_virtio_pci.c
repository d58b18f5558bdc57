/* Unit tests: the virtio-pci modern transport (vmm/virtio/pci.c, virtio 1.2
 * §4.1) on a fake VM: identity, capability list layout, common config
 * reads and writes, feature negotiation, queue setup/enable, MSI-X with
 * masking, INTx/ISR, reset, and the PCI configuration access window. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_virtio_fake.h"

#define V1 (1ull << VIRTIO_F_VERSION_1)
#define AP (1ull << VIRTIO_F_ACCESS_PLATFORM)

struct fixture {
	struct vm *vm;
	struct pci_dev *pci;
	struct virtio_dev *dev;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->vm = fake_vm_new();
	assert_int_equal(virtio_rng_create(f->vm), 0);
	f->pci = f->vm->pci[0];
	f->dev = fake_vm_dev(f->vm);
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

static int find_vendor_cap(struct pci_dev *p, uint8_t type)
{
	for (unsigned off = p->cfg[0x34]; off; off = p->cfg[off + 1])
		if (p->cfg[off] == 0x09 && p->cfg[off + 3] == type)
			return (int)off;
	return -1;
}

static int find_cap(struct pci_dev *p, uint8_t id)
{
	for (unsigned off = p->cfg[0x34]; off; off = p->cfg[off + 1])
		if (p->cfg[off] == id)
			return (int)off;
	return -1;
}

static void test_identity_and_caps(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *p = f->pci;
	static const struct {
		uint8_t type;
		uint32_t off, len;
		uint8_t cap_len;
	} want[] = {
		{ 1, VPCI_COMMON_OFF, VPCI_COMMON_LEN, 16 },
		{ 2, VPCI_NOTIFY_OFF, VPCI_NOTIFY_MULT * 1, 20 },
		{ 3, VPCI_ISR_OFF, VPCI_ISR_LEN, 16 },
		{ 5, 0, 0, 20 },
	};
	int off;

	(void)state;
	/* §4.1.2: non-transitional ids, revision 1 */
	assert_int_equal(p->vendor_id, 0x1af4);
	assert_int_equal(p->device_id, 0x1040 + VIRTIO_ID_RNG);
	assert_int_equal(p->revision, 1);
	assert_true(p->subsys_id >= 0x40);
	assert_int_equal(p->bar_size[0], VPCI_BAR_VIRTIO_SIZE);
	assert_int_equal(p->bar_size[1], VPCI_BAR_MSIX_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		off = find_vendor_cap(p, want[i].type);
		assert_true(off >= 0x40);
		assert_int_equal(p->cfg[off + 2], want[i].cap_len);
		assert_int_equal(p->cfg[off + 4], 0); /* BAR 0 */
		assert_int_equal(le32(p->cfg + off + 8), want[i].off);
		assert_int_equal(le32(p->cfg + off + 12), want[i].len);
	}
	/* rng has no device config: no DEVICE_CFG capability */
	assert_int_equal(find_vendor_cap(p, 4), -1);
	off = find_vendor_cap(p, 2);
	assert_int_equal(le32(p->cfg + off + 16), VPCI_NOTIFY_MULT); /* notify_off_multiplier */
	/* MSI-X: table size, table and PBA in BAR 1 */
	off = find_cap(p, 0x11);
	assert_true(off > 0);
	assert_int_equal(le16(p->cfg + off + 2) & 0x7ff, VPCI_MSIX_VECTORS - 1);
	assert_int_equal(le32(p->cfg + off + 4), VPCI_MSIX_TABLE_OFF | 1);
	assert_int_equal(le32(p->cfg + off + 8), VPCI_MSIX_PBA_OFF | 1);
}

static void test_common_cfg_reads(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *p = f->pci;

	assert_int_equal(bar_read(p, 0, CC(18), 2), 1); /* num_queues */
	bar_write(p, 0, CC(0), 1, 4);
	assert_int_equal(bar_read(p, 0, CC(4), 4), 3); /* VERSION_1 | ACCESS_PLATFORM */
	bar_write(p, 0, CC(0), 0, 4);
	assert_true(bar_read(p, 0, CC(4), 4) & 1u << VIRTIO_F_INDIRECT_DESC);
	bar_write(p, 0, CC(0), 7, 4);
	assert_int_equal(bar_read(p, 0, CC(4), 4), 0);
	/* queue 0: max size, no vector, disabled, notify off 0 */
	assert_int_equal(bar_read(p, 0, CC(24), 2), VIRTIO_QUEUE_MAX);
	assert_int_equal(bar_read(p, 0, CC(26), 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(bar_read(p, 0, CC(28), 2), 0);
	assert_int_equal(bar_read(p, 0, CC(30), 2), 0);
	/* a queue that does not exist reads size 0 */
	bar_write(p, 0, CC(22), 5, 2);
	assert_int_equal(bar_read(p, 0, CC(24), 2), 0);
	/* unmappable vectors read back as NO_VECTOR (§4.1.5.1.2) */
	bar_write(p, 0, CC(16), 100, 2);
	assert_int_equal(bar_read(p, 0, CC(16), 2), VIRTIO_MSI_NO_VECTOR);
	bar_write(p, 0, CC(16), 0, 2);
	assert_int_equal(bar_read(p, 0, CC(16), 2), 0);
	/* reads past the structures are zero, never out of bounds */
	assert_int_equal(bar_read(p, 0, VPCI_BAR_VIRTIO_SIZE - 2, 8), 0);
	assert_int_equal(bar_read(p, 0, VPCI_DEVICE_OFF, 4), 0);
}

static void test_feature_negotiation(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *p = f->pci;

	/* without VERSION_1 a modern-only device refuses FEATURES_OK */
	assert_int_equal(drv_negotiate(p, AP) & VIRTIO_STATUS_FEATURES_OK, 0);
	/* a feature that was not offered is refused too */
	assert_int_equal(drv_negotiate(p, V1 | 1ull << 40) & VIRTIO_STATUS_FEATURES_OK, 0);
	/* DRIVER_OK is not accepted without FEATURES_OK */
	drv_ok(p);
	assert_int_equal(dev_status(p) & VIRTIO_STATUS_DRIVER_OK, 0);
	assert_false(virtio_dev_running(f->dev));
	/* the good case */
	assert_int_equal(drv_negotiate(p, V1 | AP) & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(f->dev->driver_features, V1 | AP);
	/* features are frozen after FEATURES_OK */
	bar_write(p, 0, CC(8), 0, 4);
	bar_write(p, 0, CC(12), 1u << VIRTIO_F_INDIRECT_DESC, 4);
	assert_int_equal(f->dev->driver_features, V1 | AP);
	bar_write(p, 0, CC(8), 1, 4);
	assert_int_equal(bar_read(p, 0, CC(12), 4), 3);
	drv_ok(p);
	assert_true(virtio_dev_running(f->dev));
	/* reset clears status and features */
	bar_write(p, 0, CC(20), 0, 1);
	assert_int_equal(dev_status(p), 0);
	assert_int_equal(f->dev->driver_features, 0);
}

static void test_queue_setup(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *p = f->pci;
	struct fake_ring r;

	assert_true(drv_negotiate(p, V1) & VIRTIO_STATUS_FEATURES_OK);
	ring_init(&r, f->vm, (1ull << 32) + 0x1000, 16); /* rings in high RAM */
	drv_queue(p, 0, &r);
	assert_false(f->dev->broken);
	assert_int_equal(bar_read(p, 0, CC(28), 2), 1);
	assert_int_equal(bar_read(p, 0, CC(24), 2), 16);
	assert_int_equal(bar_read(p, 0, CC(32), 4), 0x1000);
	assert_int_equal(bar_read(p, 0, CC(36), 4), 1);
	assert_int_equal(f->dev->vq[0].avail_gpa, r.avail);
	assert_int_equal(f->dev->vq[0].used_gpa, r.used);
	/* queue fields are read-only once enabled */
	bar_write(p, 0, CC(24), 4, 2);
	bar_write(p, 0, CC(32), 0x5000, 4);
	assert_int_equal(bar_read(p, 0, CC(24), 2), 16);
	assert_int_equal(f->dev->vq[0].desc_gpa, r.desc);
	/* a queue size above the maximum breaks the device at enable */
	assert_true(drv_negotiate(p, V1) & VIRTIO_STATUS_FEATURES_OK);
	r.size = 512;
	drv_queue(p, 0, &r);
	assert_true(f->dev->broken);
	assert_int_equal(bar_read(p, 0, CC(28), 2), 0);
	/* misaligned used ring */
	assert_true(drv_negotiate(p, V1) & VIRTIO_STATUS_FEATURES_OK);
	ring_init(&r, f->vm, 0x1000, 16);
	r.used += 2;
	drv_queue(p, 0, &r);
	assert_true(f->dev->broken);
	assert_non_null(strstr(f->dev->broken_reason, "misaligned"));
}

static void msix_enable(struct pci_dev *p, bool enable, bool maskall)
{
	int off = find_cap(p, 0x11);
	uint16_t ctrl = le16(p->cfg + off + 2) & 0x7ff;

	ctrl |= (enable ? 0x8000 : 0) | (maskall ? 0x4000 : 0);
	put_le16(p->cfg + off + 2, ctrl);
	p->cfg_written(p, (unsigned)off + 2, 2);
}

static void test_msix(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *p = f->pci;
	struct fake_ring r;

	assert_true(drv_negotiate(p, V1) & VIRTIO_STATUS_FEATURES_OK);
	msix_enable(p, true, false);
	/* vector 1: address 0xfee00000, data 0x41, unmasked */
	bar_write(p, 1, 16 + 0, 0xfee00000u, 4);
	bar_write(p, 1, 16 + 4, 0, 4);
	bar_write(p, 1, 16 + 8, 0x41, 4);
	bar_write(p, 1, 16 + 12, 1, 4); /* still masked */
	assert_int_equal(bar_read(p, 1, 16 + 8, 4), 0x41);
	bar_write(p, 0, CC(22), 0, 2);
	bar_write(p, 0, CC(26), 1, 2);
	assert_int_equal(bar_read(p, 0, CC(26), 2), 1);
	ring_init(&r, f->vm, 0x1000, 8);
	drv_queue(p, 0, &r);
	drv_ok(p);

	ring_desc(&r, 0, 0x10000, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&r, 0);
	notify(p, 0);
	/* masked: pending bit in the PBA, no message */
	assert_int_equal(f->vm->msi_count, 0);
	assert_int_equal(bar_read(p, 1, VPCI_MSIX_PBA_OFF, 8), 1u << 1);
	/* unmasking delivers the pending message */
	bar_write(p, 1, 16 + 12, 0, 4);
	assert_int_equal(f->vm->msi_count, 1);
	assert_int_equal(f->vm->msi_addr, 0xfee00000u);
	assert_int_equal(f->vm->msi_data, 0x41);
	assert_int_equal(bar_read(p, 1, VPCI_MSIX_PBA_OFF, 8), 0);
	/* function mask holds messages back until cleared */
	msix_enable(p, true, true);
	ring_publish(&r, 0);
	notify(p, 0);
	assert_int_equal(f->vm->msi_count, 1);
	msix_enable(p, true, false);
	assert_int_equal(f->vm->msi_count, 2);
	/* no INTx while MSI-X is on */
	assert_int_equal(f->vm->intx_level, 0);
	/* a hostile ring sends the config interrupt to config_msix_vector */
	bar_write(p, 0, CC(16), 1, 2);
	ring_desc(&r, 0, VM_MMIO_HOLE_START, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&r, 0);
	notify(p, 0);
	assert_true(f->dev->broken);
	assert_int_equal(f->vm->msi_count, 3);
	/* PBA is read-only */
	bar_write(p, 1, VPCI_MSIX_PBA_OFF, 0xff, 4);
	assert_int_equal(bar_read(p, 1, VPCI_MSIX_PBA_OFF, 8), 0);
}

static uint64_t eventfd_count(int fd)
{
	uint64_t v = 0;

	return read(fd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

/* With irqfd routes (KVM_IRQFD + KVM_SET_GSI_ROUTING): one GSI-bound
 * eventfd per vector made at set-up; the route follows the table, sent
 * to KVM once per change; firing is an eventfd write, not KVM_SIGNAL_MSI;
 * masking still holds messages back in the PBA. */
static void test_msix_irqfd(void **state)
{
	struct vm *vm = fake_vm_new();
	struct pci_dev *p;
	struct fake_ring r;
	int fd1;

	(void)state;
	vm->irqfd = true;
	assert_int_equal(virtio_rng_create(vm), 0);
	p = vm->pci[0];
	assert_int_equal(vm->n_irqfd, VPCI_MSIX_VECTORS);
	fd1 = vm->irqfd_fd[1];
	assert_true(drv_negotiate(p, V1) & VIRTIO_STATUS_FEATURES_OK);
	msix_enable(p, true, false);
	bar_write(p, 1, 16 + 0, 0xfee00000u, 4);
	bar_write(p, 1, 16 + 4, 0, 4);
	bar_write(p, 1, 16 + 8, 0x41, 4);
	bar_write(p, 1, 16 + 12, 0, 4);
	bar_write(p, 0, CC(22), 0, 2);
	bar_write(p, 0, CC(26), 1, 2);
	ring_init(&r, vm, 0x1000, 8);
	drv_queue(p, 0, &r);
	drv_ok(p);
	assert_int_equal(vm->route_commits, 0); /* nothing fired yet */
	ring_desc(&r, 0, 0x10000, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&r, 0);
	notify(p, 0);
	assert_int_equal(vm->route_commits, 1);
	assert_int_equal(vm->route_addr[1], 0xfee00000u);
	assert_int_equal(vm->route_data[1], 0x41);
	assert_int_equal(eventfd_count(fd1), 1);
	assert_int_equal(vm->msi_count, 0);
	/* again: no new route */
	ring_publish(&r, 0);
	notify(p, 0);
	assert_int_equal(vm->route_commits, 1);
	assert_int_equal(eventfd_count(fd1), 1);
	/* the guest moves the vector (another CPU): one new route */
	bar_write(p, 1, 16 + 8, 0x52, 4);
	ring_publish(&r, 0);
	notify(p, 0);
	assert_int_equal(vm->route_commits, 2);
	assert_int_equal(vm->route_data[1], 0x52);
	assert_int_equal(eventfd_count(fd1), 1);
	/* masked: pending, no eventfd write until unmasked */
	bar_write(p, 1, 16 + 12, 1, 4);
	ring_publish(&r, 0);
	notify(p, 0);
	assert_int_equal(eventfd_count(fd1), 0);
	assert_int_equal(bar_read(p, 1, VPCI_MSIX_PBA_OFF, 8), 1u << 1);
	bar_write(p, 1, 16 + 12, 0, 4);
	assert_int_equal(eventfd_count(fd1), 1);
	assert_int_equal(vm->msi_count, 0);
	fake_vm_free(vm);
}

static void test_intx_isr(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *p = f->pci;
	struct fake_ring r;

	assert_true(drv_negotiate(p, V1) & VIRTIO_STATUS_FEATURES_OK);
	ring_init(&r, f->vm, 0x1000, 8);
	drv_queue(p, 0, &r);
	/* notifications before DRIVER_OK are ignored */
	ring_desc(&r, 0, 0x10000, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_publish(&r, 0);
	notify(p, 0);
	assert_int_equal(ring_used_idx(&r), 0);
	drv_ok(p);
	notify(p, 0);
	assert_int_equal(ring_used_idx(&r), 1);
	assert_int_equal(f->vm->intx_level, 1);
	assert_int_equal(bar_read(p, 0, VPCI_ISR_OFF, 1), 1);
	assert_int_equal(f->vm->intx_level, 0);
	/* a notify past the last queue is ignored */
	notify(p, 3);
	assert_false(f->dev->broken);
}

static void test_pci_cfg_window(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *p = f->pci;
	int c = find_vendor_cap(p, 5);

	/* read num_queues (common cfg offset 18, 2 bytes) through the window */
	p->cfg[c + 4] = 0;
	put_le32(p->cfg + c + 8, 18);
	put_le32(p->cfg + c + 12, 2);
	p->cfg_written(p, (unsigned)c + 8, 4);
	assert_int_equal(le16(p->cfg + c + 16), 1);
	/* write device_status = ACKNOWLEDGE through it */
	put_le32(p->cfg + c + 8, 20);
	put_le32(p->cfg + c + 12, 1);
	p->cfg[c + 16] = VIRTIO_STATUS_ACKNOWLEDGE;
	p->cfg_written(p, (unsigned)c + 16, 1);
	assert_int_equal(dev_status(p), VIRTIO_STATUS_ACKNOWLEDGE);
	/* bad length or BAR: ignored */
	put_le32(p->cfg + c + 12, 3);
	p->cfg[c + 16] = 0;
	p->cfg_written(p, (unsigned)c + 16, 1);
	assert_int_equal(dev_status(p), VIRTIO_STATUS_ACKNOWLEDGE);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_identity_and_caps), T(test_common_cfg_reads), T(test_feature_negotiation),
		T(test_queue_setup), T(test_msix), cmocka_unit_test(test_msix_irqfd), T(test_intx_isr), T(test_pci_cfg_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
