/* pci.c - the PCI host: bus 0 behind configuration mechanism #1 (ports
 * 0xCF8/0xCFC, PCI Local Bus 3.0 §3.2.2.3.2), type 0 headers with the BAR
 * sizing protocol (§6.2.5.1), capability lists (§6.7), 32-bit memory BARs
 * placed in the MMIO hole, INTA# of slot s on GSI pci_slot_gsi(s). */
#include <errno.h>
#include <string.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_BAR0 0x10
#define CFG_CAP_PTR 0x34
#define CFG_INT_LINE 0x3c
#define CFG_INT_PIN 0x3d
#define CMD_MEM 0x0002
#define STATUS_CAP_LIST 0x0010
#define CAP_START 0x40

static void header_init(struct pci_dev *d)
{
	memset(d->cfg, 0, sizeof(d->cfg));
	memset(d->cfg_wmask, 0, sizeof(d->cfg_wmask));
	put_le16(d->cfg + 0x00, d->vendor_id);
	put_le16(d->cfg + 0x02, d->device_id);
	d->cfg[0x08] = d->revision;
	d->cfg[0x09] = (uint8_t)d->class_code;
	d->cfg[0x0a] = (uint8_t)(d->class_code >> 8);
	d->cfg[0x0b] = (uint8_t)(d->class_code >> 16);
	put_le16(d->cfg + 0x2c, d->subsys_vendor_id);
	put_le16(d->cfg + 0x2e, d->subsys_id);
	/* Writable: memory space, bus master, INTx disable; cache line size,
	 * latency timer, interrupt line. */
	put_le16(d->cfg_wmask + CFG_COMMAND, CMD_MEM | 0x0004 | 0x0400);
	d->cfg_wmask[0x0c] = 0xff;
	d->cfg_wmask[0x0d] = 0xff;
	d->cfg_wmask[CFG_INT_LINE] = 0xff;
	/* cap_next keeps a capability list added before registration */
	if (d->cap_next < CAP_START)
		d->cap_next = CAP_START;
}

void pci_bus_init(struct pci_bus *b, struct vm *vm)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	b->vm = vm;
	b->mmio_next = PCI_MMIO_START;
	b->set_line = vm ? vm_set_irq : NULL;
	/* 00:00.0 host bridge (class 06/00): Linux's conf1 sanity check looks
	 * for one (arch/x86/pci/direct.c). Red Hat's generic host bridge id. */
	struct pci_dev *h = &b->host_bridge;
	h->vendor_id = 0x1b36;
	h->device_id = 0x0008;
	h->subsys_vendor_id = 0x1b36;
	h->class_code = 0x060000;
	h->vm = vm;
	header_init(h);
	b->dev[0] = h;
}

int pci_add_cap(struct pci_dev *d, const void *cap, const void *wmask, unsigned len)
{
	unsigned off = d->cap_next < CAP_START ? CAP_START : d->cap_next;
	if (len < 2 || off + len > sizeof(d->cfg))
		return err_set(ENOSPC, "PCI %04x:%04x: no room for a %u-byte capability", d->vendor_id,
			       d->device_id, len);
	/* Registration may come later: keep the header consistent now. */
	if (!(le16(d->cfg + CFG_STATUS) & STATUS_CAP_LIST)) {
		d->cfg[CFG_CAP_PTR] = (uint8_t)off;
		put_le16(d->cfg + CFG_STATUS, le16(d->cfg + CFG_STATUS) | STATUS_CAP_LIST);
	} else {
		/* walk to the last capability and link it */
		unsigned p = d->cfg[CFG_CAP_PTR], guard = 0;
		while (d->cfg[p + 1] && guard++ < 64)
			p = d->cfg[p + 1];
		d->cfg[p + 1] = (uint8_t)off;
	}
	memcpy(d->cfg + off, cap, len);
	d->cfg[off + 1] = 0;
	if (wmask)
		memcpy(d->cfg_wmask + off, wmask, len);
	d->cfg_wmask[off] = d->cfg_wmask[off + 1] = 0; /* id and next stay read-only */
	d->cap_next = (uint8_t)((off + len + 3) & ~3u);
	if (off + len + 3 >= sizeof(d->cfg))
		d->cap_next = 0xff;
	return (int)off;
}

int pci_bus_add(struct pci_bus *b, struct pci_dev *d)
{
	/* Capabilities may have been added before: keep cfg beyond the header. */
	uint8_t caps[256 - CAP_START], capw[256 - CAP_START];
	uint8_t cap_ptr = d->cfg[CFG_CAP_PTR];
	bool has_caps = le16(d->cfg + CFG_STATUS) & STATUS_CAP_LIST;
	memcpy(caps, d->cfg + CAP_START, sizeof(caps));
	memcpy(capw, d->cfg_wmask + CAP_START, sizeof(capw));

	pthread_mutex_lock(&b->lock);
	unsigned slot = 1;
	while (slot < PCI_SLOTS && b->dev[slot])
		slot++;
	if (slot == PCI_SLOTS) {
		pthread_mutex_unlock(&b->lock);
		return err_set(ENOSPC, "PCI: all %d slots of bus 0 are used", PCI_SLOTS - 1);
	}
	uint64_t next = b->mmio_next;
	uint32_t addr[PCI_BARS] = { 0 };
	for (int i = 0; i < PCI_BARS; i++) {
		uint32_t sz = d->bar_size[i];
		if (!sz)
			continue;
		if (sz < 4096 || (sz & (sz - 1))) {
			pthread_mutex_unlock(&b->lock);
			return err_set(EINVAL, "PCI %04x:%04x: BAR%d size %u is not a power of two >= 4096",
				       d->vendor_id, d->device_id, i, sz);
		}
		next = (next + sz - 1) & ~((uint64_t)sz - 1); /* naturally aligned */
		if (next + sz > PCI_MMIO_END) {
			pthread_mutex_unlock(&b->lock);
			return err_set(ENOSPC, "PCI: the MMIO window is full");
		}
		addr[i] = (uint32_t)next;
		next += sz;
	}
	header_init(d);
	if (has_caps) {
		memcpy(d->cfg + CAP_START, caps, sizeof(caps));
		memcpy(d->cfg_wmask + CAP_START, capw, sizeof(capw));
		d->cfg[CFG_CAP_PTR] = cap_ptr;
		put_le16(d->cfg + CFG_STATUS, STATUS_CAP_LIST);
	}
	for (int i = 0; i < PCI_BARS; i++) {
		d->bar_addr[i] = addr[i];
		if (!d->bar_size[i])
			continue;
		/* 32-bit non-prefetchable memory BAR: type bits 0. */
		put_le32(d->cfg + CFG_BAR0 + 4 * i, addr[i]);
		put_le32(d->cfg_wmask + CFG_BAR0 + 4 * i, ~(d->bar_size[i] - 1));
	}
	d->slot = slot;
	d->gsi = pci_slot_gsi(slot);
	d->vm = b->vm;
	d->bus = b;
	d->cfg[CFG_INT_LINE] = (uint8_t)d->gsi;
	d->cfg[CFG_INT_PIN] = 1; /* INTA# */
	/* Firmware would enable decoding; there is none, and Linux keeps
	 * BARs it finds assigned. */
	put_le16(d->cfg + CFG_COMMAND, CMD_MEM);
	b->mmio_next = next;
	b->dev[slot] = d;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int pci_register(struct vm *vm, struct pci_dev *d)
{
	return pci_bus_add(&vm->pci, d);
}

/* A device without BARs at a fixed slot and function (chipset functions
 * of a firmware boot, piix.c); function 0 of the slot must come first. */
int pci_bus_add_fixed(struct pci_bus *b, struct pci_dev *d, unsigned slot, unsigned fn)
{
	for (int i = 0; i < PCI_BARS; i++)
		if (d->bar_size[i])
			return err_set(EINVAL, "PCI %04x:%04x: a fixed function has no BARs", d->vendor_id, d->device_id);
	if (!slot || slot >= PCI_SLOTS || fn > 7)
		return err_set(EINVAL, "PCI: no slot %u function %u", slot, fn);
	pthread_mutex_lock(&b->lock);
	if (fn ? !b->dev[slot] || b->func[slot][fn - 1] : b->dev[slot] != NULL) {
		pthread_mutex_unlock(&b->lock);
		return err_set(EBUSY, "PCI: slot %u function %u is not free", slot, fn);
	}
	header_init(d);
	d->slot = slot;
	d->gsi = pci_slot_gsi(slot);
	d->vm = b->vm;
	d->bus = b;
	if (fn)
		b->func[slot][fn - 1] = d;
	else
		b->dev[slot] = d;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static struct pci_dev *dev_at(struct pci_bus *b, unsigned slot, unsigned fn)
{
	if (slot >= PCI_SLOTS || fn > 7)
		return NULL;
	return fn ? b->func[slot][fn - 1] : b->dev[slot];
}

void pci_cfg_read(struct pci_bus *b, unsigned slot, unsigned fn, unsigned off, uint8_t *data, unsigned len)
{
	pthread_mutex_lock(&b->lock);
	struct pci_dev *d = dev_at(b, slot, fn);
	for (unsigned i = 0; i < len; i++)
		data[i] = d && off + i < sizeof(d->cfg) ? d->cfg[off + i] : 0xff;
	pthread_mutex_unlock(&b->lock);
}

static void bars_update(struct pci_dev *d)
{
	for (int i = 0; i < PCI_BARS; i++)
		if (d->bar_size[i])
			d->bar_addr[i] = le32(d->cfg + CFG_BAR0 + 4 * i) & ~(d->bar_size[i] - 1);
}

void pci_cfg_write(struct pci_bus *b, unsigned slot, unsigned fn, unsigned off, const uint8_t *data, unsigned len)
{
	pthread_mutex_lock(&b->lock);
	struct pci_dev *d = dev_at(b, slot, fn);
	if (!d || !range_ok(off, len, sizeof(d->cfg))) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	for (unsigned i = 0; i < len; i++) {
		uint8_t w = d->cfg_wmask[off + i];
		d->cfg[off + i] = (uint8_t)((d->cfg[off + i] & ~w) | (data[i] & w));
	}
	if (off < CFG_BAR0 + 4 * PCI_BARS && off + len > CFG_BAR0)
		bars_update(d);
	pthread_mutex_unlock(&b->lock);
	if (d->cfg_written && off + len > CAP_START) {
		unsigned o = off < CAP_START ? CAP_START : off;
		d->cfg_written(d, o, off + len - o);
	}
}

void pci_conf1_io(struct pci_bus *b, uint16_t port, uint8_t *data, unsigned len, bool write)
{
	if (port == 0xcf8) {
		/* CONFIG_ADDRESS is dword-only; byte probes of 0xCFB are ignored. */
		if (len != 4) {
			if (!write)
				memset(data, 0xff, len);
			return;
		}
		if (write)
			b->cf8 = le32(data);
		else
			put_le32(data, b->cf8);
		return;
	}
	if (port < 0xcfc || port > 0xcff)
		return;
	uint32_t a = b->cf8;
	unsigned bus = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f, fn = (a >> 8) & 7;
	unsigned off = (a & 0xfc) + (port - 0xcfc);
	if (!(a & 0x80000000u) || bus != 0 || !range_ok(off, len, 256)) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	if (write)
		pci_cfg_write(b, slot, fn, off, data, len);
	else
		pci_cfg_read(b, slot, fn, off, data, len);
}

bool pci_mmio(struct pci_bus *b, uint64_t addr, uint8_t *data, unsigned len, bool write)
{
	struct pci_dev *hit = NULL;
	int bar = -1;
	uint64_t off = 0;

	pthread_mutex_lock(&b->lock);
	for (unsigned s = 1; s < PCI_SLOTS && !hit; s++) {
		struct pci_dev *d = b->dev[s];
		if (!d || !(le16(d->cfg + CFG_COMMAND) & CMD_MEM))
			continue;
		for (int i = 0; i < PCI_BARS; i++) {
			uint64_t base = d->bar_addr[i], sz = d->bar_size[i];
			if (sz && base && addr >= base && addr - base < sz && range_ok(addr - base, len, sz)) {
				hit = d;
				bar = i;
				off = addr - base;
				break;
			}
		}
	}
	pthread_mutex_unlock(&b->lock);
	if (!hit)
		return false;
	if (write) {
		if (hit->bar_write)
			hit->bar_write(hit, bar, off, data, len);
	} else {
		memset(data, 0, len);
		if (hit->bar_read)
			hit->bar_read(hit, bar, off, data, len);
	}
	return true;
}

unsigned pci_bus_irqs(struct pci_bus *b, struct mpt_pci_irq *out, unsigned max)
{
	unsigned n = 0;
	pthread_mutex_lock(&b->lock);
	for (unsigned s = 1; s < PCI_SLOTS && n < max; s++)
		if (b->dev[s])
			out[n++] = (struct mpt_pci_irq){ (uint8_t)s, (uint8_t)b->dev[s]->gsi };
	pthread_mutex_unlock(&b->lock);
	return n;
}

void pci_set_intx(struct pci_dev *d, bool level)
{
	struct pci_bus *b = d->bus;
	unsigned line;
	bool was, now;

	/* INTx disable (command bit 10) masks the pin (§6.2.2). */
	if (level && (le16(d->cfg + CFG_COMMAND) & 0x0400))
		level = false;
	if (!b || d->gsi < PCI_GSI_BASE || d->gsi >= PCI_GSI_BASE + 8 || d->slot >= PCI_SLOTS)
		return;
	line = d->gsi - PCI_GSI_BASE;
	pthread_mutex_lock(&b->lock);
	was = b->intx_slots[line] != 0;
	if (level)
		b->intx_slots[line] |= 1u << d->slot;
	else
		b->intx_slots[line] &= ~(1u << d->slot);
	now = b->intx_slots[line] != 0;
	/* level-triggered: the IOAPIC re-delivers at EOI while the line stays
	 * high, so only the wired-OR's transitions reach KVM */
	if (was != now && b->set_line)
		b->set_line(b->vm, d->gsi, now);
	pthread_mutex_unlock(&b->lock);
}
