/* Unit tests: the PCI host - configuration mechanism #1, type 0 header,
 * the BAR sizing protocol, capability lists, MMIO routing to BARs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"
#include "vmm/kvm_uapi.h"
#include "vmm/vmm_core.h"

static struct pci_bus bus;
static struct pci_dev dev;
static unsigned last_bar, last_len, writes, cfg_calls, cfg_off;
static uint64_t last_off;

static void bar_read(struct pci_dev *d, int bar, uint64_t off, uint8_t *data, unsigned len)
{
	(void)d;
	last_bar = (unsigned)bar;
	last_off = off;
	last_len = len;
	memset(data, 0xab, len);
}
static void bar_write(struct pci_dev *d, int bar, uint64_t off, const uint8_t *data, unsigned len)
{
	(void)d;
	(void)data;
	last_bar = (unsigned)bar;
	last_off = off;
	last_len = len;
	writes++;
}
static void cfg_written(struct pci_dev *d, unsigned off, unsigned len)
{
	(void)d;
	(void)len;
	cfg_calls++;
	cfg_off = off;
}

static uint32_t conf1_read(unsigned slot, unsigned off, unsigned len)
{
	uint8_t a[4], d[4] = { 0 };
	put_le32(a, 0x80000000u | slot << 11 | (off & 0xfc));
	pci_conf1_io(&bus, 0xcf8, a, 4, true);
	pci_conf1_io(&bus, (uint16_t)(0xcfc + (off & 3)), d, len, false);
	return len == 4 ? le32(d) : len == 2 ? le16(d) : d[0];
}
static void conf1_write(unsigned slot, unsigned off, uint32_t v, unsigned len)
{
	uint8_t a[4], d[4];
	put_le32(a, 0x80000000u | slot << 11 | (off & 0xfc));
	put_le32(d, v);
	pci_conf1_io(&bus, 0xcf8, a, 4, true);
	pci_conf1_io(&bus, (uint16_t)(0xcfc + (off & 3)), d, len, true);
}

static int setup(void **state)
{
	(void)state;
	pci_bus_init(&bus, NULL);
	memset(&dev, 0, sizeof(dev));
	dev.vendor_id = 0x1af4;
	dev.device_id = 0x1042;
	dev.subsys_vendor_id = 0x1af4;
	dev.subsys_id = 0x0040;
	dev.class_code = 0x018000;
	dev.revision = 1;
	dev.bar_size[0] = 0x4000;
	dev.bar_size[2] = 0x1000;
	dev.bar_read = bar_read;
	dev.bar_write = bar_write;
	dev.cfg_written = cfg_written;
	/* a vendor capability before registration, an MSI-X-like one after */
	uint8_t cap1[16] = { 0x09, 0, 16 }, cap2[12] = { 0x11, 0, 0x03, 0x00 }, w2[12] = { 0, 0, 0, 0xc0 };
	assert_int_equal(pci_add_cap(&dev, cap1, NULL, sizeof(cap1)), 0x40);
	assert_int_equal(pci_bus_add(&bus, &dev), 0);
	assert_int_equal(pci_add_cap(&dev, cap2, w2, sizeof(cap2)), 0x50);
	writes = cfg_calls = 0;
	return 0;
}

static void test_header(void **state)
{
	(void)state;
	assert_int_equal(dev.slot, 1);
	assert_int_equal(dev.gsi, pci_slot_gsi(1));
	/* host bridge at 00:00.0 (class 06/00), then the device */
	assert_int_equal(conf1_read(0, 0x0a, 2), 0x0600);
	assert_int_equal(conf1_read(1, 0x00, 4), 0x10421af4);
	assert_int_equal(conf1_read(1, 0x08, 4), 0x01800001);
	assert_int_equal(conf1_read(1, 0x2c, 4), 0x00401af4);
	assert_int_equal(conf1_read(1, 0x0e, 1), 0);           /* header type 0 */
	assert_int_equal(conf1_read(1, 0x3d, 1), 1);           /* INTA# */
	assert_int_equal(conf1_read(1, 0x3c, 1), dev.gsi);
	assert_true(conf1_read(1, 0x04, 2) & 2);               /* memory decoding on */
	/* read-only fields ignore writes */
	conf1_write(1, 0x00, 0xffffffff, 4);
	assert_int_equal(conf1_read(1, 0x00, 4), 0x10421af4);
	/* empty slots, other functions and buses read all ones */
	assert_int_equal(conf1_read(7, 0x00, 4), 0xffffffff);
	uint8_t a[4], d[4];
	put_le32(a, 0x80000000u | 1 << 16 | 1 << 11);
	pci_conf1_io(&bus, 0xcf8, a, 4, true);
	pci_conf1_io(&bus, 0xcfc, d, 4, false);
	assert_int_equal(le32(d), 0xffffffff);
	/* CONFIG_ADDRESS reads back; byte access to 0xCF8 is not the latch */
	pci_conf1_io(&bus, 0xcf8, d, 4, false);
	assert_int_equal(le32(d), le32(a));
	d[0] = 1;
	pci_conf1_io(&bus, 0xcf8, d, 1, true);
	pci_conf1_io(&bus, 0xcf8, d, 4, false);
	assert_int_equal(le32(d), le32(a));
	/* enable bit clear: no access */
	put_le32(a, 1 << 11);
	pci_conf1_io(&bus, 0xcf8, a, 4, true);
	pci_conf1_io(&bus, 0xcfc, d, 4, false);
	assert_int_equal(le32(d), 0xffffffff);
}

static void test_bar_sizing(void **state)
{
	(void)state;
	uint32_t bar0 = conf1_read(1, 0x10, 4), bar2 = conf1_read(1, 0x18, 4);
	assert_int_equal(bar0, PCI_MMIO_START);
	assert_int_equal(bar2 % 0x1000, 0);
	assert_true(bar2 >= bar0 + 0x4000);
	/* sizing: write all ones, read ~(size - 1) with the type bits (32-bit mem = 0) */
	conf1_write(1, 0x10, 0xffffffff, 4);
	assert_int_equal(conf1_read(1, 0x10, 4), 0xffffc000);
	conf1_write(1, 0x10, bar0, 4);
	assert_int_equal(conf1_read(1, 0x10, 4), bar0);
	/* unused BARs and the expansion ROM size to zero */
	conf1_write(1, 0x14, 0xffffffff, 4);
	assert_int_equal(conf1_read(1, 0x14, 4), 0);
	conf1_write(1, 0x30, 0xffffffff, 4);
	assert_int_equal(conf1_read(1, 0x30, 4), 0);
	/* moving a BAR moves its MMIO window; low bits are dropped */
	conf1_write(1, 0x10, 0xd0000123, 4);
	assert_int_equal(conf1_read(1, 0x10, 4), 0xd0000000);
	assert_int_equal(dev.bar_addr[0], 0xd0000000);
	uint8_t data[4];
	assert_true(pci_mmio(&bus, 0xd0000010, data, 4, false));
	assert_false(pci_mmio(&bus, bar0 + 0x10, data, 4, false));
}

static void test_capabilities(void **state)
{
	(void)state;
	assert_true(conf1_read(1, 0x06, 2) & 0x10); /* status: capability list */
	unsigned p = conf1_read(1, 0x34, 1), ids[4], n = 0;
	while (p && n < 4) {
		ids[n++] = conf1_read(1, p, 1);
		p = conf1_read(1, p + 1, 1);
	}
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], 0x09);
	assert_int_equal(ids[1], 0x11);
	/* capability bytes are writable only where the device said so */
	conf1_write(1, 0x52, 0xffff, 2);
	assert_int_equal(conf1_read(1, 0x52, 2), 0xc003);
	assert_int_equal(cfg_calls, 1);
	assert_int_equal(cfg_off, 0x52);
	conf1_write(1, 0x40, 0xff, 1); /* id and next are read-only */
	assert_int_equal(conf1_read(1, 0x40, 2), 0x5009);
	/* header writes do not call the device */
	conf1_write(1, 0x3c, 5, 1);
	assert_int_equal(cfg_calls, 2); /* the 0x40 write above */
	/* full: no room for another 200-byte capability */
	uint8_t big[200] = { 0x09 };
	assert_int_equal(pci_add_cap(&dev, big, NULL, sizeof(big)), -ENOSPC);
}

static void test_mmio(void **state)
{
	(void)state;
	uint8_t data[8] = { 0 };
	uint32_t bar2 = dev.bar_addr[2];
	assert_true(pci_mmio(&bus, bar2 + 0x20, data, 4, false));
	assert_int_equal(last_bar, 2);
	assert_int_equal(last_off, 0x20);
	assert_int_equal(data[0], 0xab);
	assert_true(pci_mmio(&bus, dev.bar_addr[0] + 0x3ffc, data, 4, true));
	assert_int_equal(writes, 1);
	assert_int_equal(last_off, 0x3ffc);
	/* straddling the end of a BAR, or outside any: not claimed */
	assert_false(pci_mmio(&bus, dev.bar_addr[0] + 0x3ffc, data, 8, true));
	assert_false(pci_mmio(&bus, bar2 + 0x1000, data, 4, false));
	assert_false(pci_mmio(&bus, 0xfee00000, data, 4, false));
	/* memory decoding off: BARs do not respond */
	conf1_write(1, 0x04, 0, 2);
	assert_false(pci_mmio(&bus, bar2, data, 4, false));
	conf1_write(1, 0x04, 2, 2);
	assert_true(pci_mmio(&bus, bar2, data, 4, false));
	assert_int_equal(writes, 1);
}

static void test_bus_limits(void **state)
{
	static struct pci_dev many[32];
	struct mpt_pci_irq irqs[32];
	(void)state;
	struct pci_dev bad = { .bar_size = { 3000 } };
	assert_int_equal(pci_bus_add(&bus, &bad), -EINVAL);
	unsigned added = 0;
	for (unsigned i = 0; i < 32; i++) {
		many[i].bar_size[0] = 4096;
		if (pci_bus_add(&bus, &many[i]) == 0)
			added++;
	}
	assert_int_equal(added, 30); /* slots 2..31 */
	assert_non_null(strstr(err_msg(), "slots"));
	unsigned n = pci_bus_irqs(&bus, irqs, 32);
	assert_int_equal(n, 31);
	assert_int_equal(irqs[0].slot, 1);
	assert_int_equal(irqs[30].slot, 31);
	assert_int_equal(irqs[30].gsi, 16 + 31 % 8);
}

/* Nine devices: slots 1 and 9 share GSI 17. One device's deassert must not
 * drop the line while the other still asserts it (issue 15: lost INTx). */
static unsigned line_calls, line_gsi;
static int line_level;
static void record_line(struct vm *vm, unsigned gsi, int level)
{
	(void)vm;
	line_calls++;
	line_gsi = gsi;
	line_level = level;
}

static void test_shared_intx(void **state)
{
	static struct pci_dev many[9];
	(void)state;
	bus.set_line = record_line;
	line_calls = 0;
	for (unsigned i = 0; i < 8; i++) { /* slots 2..9 */
		memset(&many[i], 0, sizeof(many[i]));
		many[i].bar_size[0] = 4096;
		assert_int_equal(pci_bus_add(&bus, &many[i]), 0);
	}
	struct pci_dev *a = &dev, *b = &many[7];
	assert_int_equal(a->slot, 1);
	assert_int_equal(b->slot, 9);
	assert_int_equal(a->gsi, b->gsi);
	pci_set_intx(a, true);
	assert_int_equal(line_calls, 1);
	assert_int_equal(line_gsi, 17);
	assert_int_equal(line_level, 1);
	pci_set_intx(b, true); /* already high: no new transition */
	assert_int_equal(line_calls, 1);
	pci_set_intx(a, false); /* a's ISR read: b still asserts */
	assert_int_equal(line_calls, 1);
	assert_int_equal(line_level, 1);
	pci_set_intx(a, false); /* twice is harmless */
	assert_int_equal(line_calls, 1);
	pci_set_intx(b, false);
	assert_int_equal(line_calls, 2);
	assert_int_equal(line_level, 0);
	/* another line is independent */
	pci_set_intx(&many[0], true);
	assert_int_equal(line_gsi, 18);
	assert_int_equal(line_level, 1);
	pci_set_intx(a, true);
	assert_int_equal(line_gsi, 17);
	assert_int_equal(line_calls, 4);
	/* INTx disable in the command register masks the pin */
	pci_set_intx(a, false);
	conf1_write(1, 0x04, 0x0402, 2);
	pci_set_intx(a, true);
	assert_int_equal(line_gsi, 17);
	assert_int_equal(line_level, 0);
}

/* KVM_SET_GSI_ROUTING replaces the table: the irqfd routes start from
 * KVM's own defaults (arch/x86/kvm/irq_comm.c default_routing). */
static void test_default_routes(void **state)
{
	struct kvm_irq_routing_entry e[40];
	unsigned n, ioapic = 0, pic = 0;
	(void)state;
	n = irq_route_default_table(e);
	assert_int_equal(n, 40);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(e[i].type, KVM_IRQ_ROUTING_IRQCHIP);
		assert_true(e[i].gsi < 24);
		if (e[i].u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC) {
			assert_int_equal(e[i].u.irqchip.pin, e[i].gsi);
			ioapic++;
		} else {
			assert_true(e[i].gsi < 16);
			assert_int_equal(e[i].u.irqchip.irqchip,
					 e[i].gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE);
			assert_int_equal(e[i].u.irqchip.pin, e[i].gsi % 8);
			pic++;
		}
	}
	assert_int_equal(ioapic, 24);
	assert_int_equal(pic, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_header, setup),
		cmocka_unit_test_setup(test_bar_sizing, setup),
		cmocka_unit_test_setup(test_capabilities, setup),
		cmocka_unit_test_setup(test_mmio, setup),
		cmocka_unit_test_setup(test_bus_limits, setup),
		cmocka_unit_test_setup(test_shared_intx, setup),
		cmocka_unit_test(test_default_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
