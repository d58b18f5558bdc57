/* piix.c - the parts of an i440FX/PIIX4 PC that OVMF relies on when cvmm
 * boots firmware (docs/firmware.md). OVMF tells the chipset by the host
 * bridge's device id: 8086:1237 (i440FX) makes it program the ACPI PM I/O
 * base of the PIIX4 power-management function (00:01.3, PMBA at config
 * 0x40, enabled by PMREGMISC bit 0 at 0x80) to 0xB000 and time its delays
 * with the ACPI PM timer there. So:
 *   00:00.0 host bridge 8086:1237
 *   00:01.0 PIIX3 ISA bridge 8086:7000 (multi-function; PIRQ routing bytes
 *           0x60-0x63 writable, unused: interrupts follow the DSDT's _PRT)
 *   00:01.3 PIIX4 PM 8086:7113
 *   PM I/O block at PIIX_PM_BASE: PM1 status/enable (reads 0), PM1 control
 *   (SLP_EN with SLP_TYP 0 - PIIX4 soft-off, what OVMF's ResetSystem
 *   (EfiResetShutdown) writes, and how Linux powers off an EFI guest whose
 *   FADT is hardware-reduced - or 5, cvmm's \_S5, powers off), the 24-bit
 *   PM timer at 3.579545 MHz. */
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "vmm/firmware_boot.h"

#define PIIX4_PMBA 0x40
#define PIIX4_PMREGMISC 0x80
#define PM_TIMER_HZ 3579545ull
#define PM1_CNT_SLP_EN (1u << 13)

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int piix_init(struct piix *p, struct pci_bus *b)
{
	struct pci_dev *isa = &p->isa, *pm = &p->pm;
	int rc;

	memset(p, 0, sizeof(*p));
	p->t0 = now_ns();
	p->vm = b->vm;
	/* the host bridge says i440FX */
	b->host_bridge.vendor_id = 0x8086;
	b->host_bridge.device_id = 0x1237;
	put_le16(b->host_bridge.cfg + 0x00, 0x8086);
	put_le16(b->host_bridge.cfg + 0x02, 0x1237);

	isa->vendor_id = 0x8086;
	isa->device_id = 0x7000;
	isa->class_code = 0x060100; /* ISA bridge */
	rc = pci_bus_add_fixed(b, isa, 1, 0);
	if (rc)
		return rc;
	isa->cfg[0x0e] = 0x80; /* header type 0, multi-function */
	for (unsigned i = 0x60; i < 0x64; i++) {
		isa->cfg[i] = 0x80; /* PIRQ routing disabled */
		isa->cfg_wmask[i] = 0xff;
	}

	pm->vendor_id = 0x8086;
	pm->device_id = 0x7113;
	pm->revision = 0x03;
	pm->class_code = 0x068000; /* other bridge */
	rc = pci_bus_add_fixed(b, pm, 1, 3);
	if (rc)
		return rc;
	pm->cfg[PIIX4_PMBA] = 0x01; /* I/O space indicator */
	put_le32(pm->cfg_wmask + PIIX4_PMBA, 0xffc0);
	pm->cfg_wmask[PIIX4_PMREGMISC] = 0x01;
	pm->cfg_wmask[0x04] |= 0x01; /* command: I/O space */
	return 0;
}

/* PM1a_CNT as PIIX4 decodes it (16 bits at +4), the timer at +8. */
void piix_pm_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write)
{
	struct piix *p = opaque;
	unsigned off = port - PIIX_PM_BASE;

	if (write) {
		if (off == 4 && len >= 2) {
			uint16_t v = le16(data);
			unsigned typ = (v >> 10) & 7;
			/* PIIX4 soft-off is SLP_TYP 0 (QEMU's PIIX4, OVMF's
			 * ResetShutdown); 5 is the \_S5 of cvmm's DSDT */
			if ((v & PM1_CNT_SLP_EN) && (typ == 0 || typ == 5))
				vm_request_exit(p->vm, VMM_EXIT_POWEROFF, "guest powered off (ACPI S5, PM1a control)");
		}
		return;
	}
	memset(data, 0, len);
	if (off == 8) {
		uint64_t ns = now_ns() - p->t0;
		uint64_t ticks = ns / 1000000000ull * PM_TIMER_HZ + ns % 1000000000ull * PM_TIMER_HZ / 1000000000ull;
		uint32_t v = (uint32_t)ticks & 0xffffff;
		for (unsigned i = 0; i < len && i < 4; i++)
			data[i] = (uint8_t)(v >> (8 * i));
	}
}
