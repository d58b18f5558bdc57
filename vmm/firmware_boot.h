/* firmware_boot.h - internal to vmm/: `cvmm run --firmware FILE` on the kvm
 * platform (docs/firmware.md). The image is mapped read-only at the top of
 * 4 GiB (QEMU's -bios), the kernel, initrd, command line, e820 map and ACPI
 * tables reach the firmware through fw_cfg, and the chipset pieces OVMF
 * needs (i440FX/PIIX4 PM with its timer and PM1 control, the CMOS RTC) are
 * emulated. The load is the launch plan: one step, the image. */
#ifndef CVMM_VMM_FIRMWARE_BOOT_H
#define CVMM_VMM_FIRMWARE_BOOT_H

#include "vmm/fw_cfg.h"
#include "vmm/vmm_core.h"

/* ---- CMOS RTC (rtc.c), ports 0x70-0x71 ---- */
struct rtc {
	uint8_t index;
	uint8_t ram[128];
};
/* Register A/B defaults, the RAM size bytes for m. */
void rtc_init(struct rtc *r, const struct guest_mem *m);
void rtc_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write);

/* ---- i440FX / PIIX4 (piix.c) ---- */
#define PIIX_PM_BASE 0xb000 /* the PMBA OVMF programs (PIIX4_PMBA_VALUE) */
#define PIIX_PM_LEN  0x40
struct piix {
	struct pci_dev isa, pm;
	uint64_t t0; /* CLOCK_MONOTONIC ns at reset: PM timer zero */
	struct vm *vm;
};
/* Host bridge id 8086:1237, 00:01.0 PIIX3 ISA, 00:01.3 PIIX4 PM. */
int piix_init(struct piix *p, struct pci_bus *b);
void piix_pm_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write);

/* ---- the firmware boot (firmware_boot.c) ---- */
struct fw_boot {
	struct fw_image img;   /* the file as read */
	uint8_t *rom;          /* page-aligned copy mapped at img.base_gpa */
	size_t rom_len;
	struct fw_cfg cfg;
	struct rtc rtc;
	struct piix piix;
};
/* Read and check the image (before any KVM resource: input errors first). */
int vmm_firmware_read(const char *path, struct fw_boot **out);
/* The launch plan of a firmware boot: the image at the top of 4 GiB. */
int vmm_firmware_plan(const struct fw_boot *fb, struct launch_plan *plan);
/* Copy every step of plan into the ROM buffer (which KVM maps) and point
 * the steps at it: what the guest sees is what the plan says. */
int vmm_firmware_rom_fill(struct fw_boot *fb, struct launch_plan *plan);
/* Chipset devices and fw_cfg ports; before legacy_ports() and the PCI devices. */
int vmm_firmware_devices(struct vm *vm);
/* Build the plan, map it, fill fw_cfg with the boot items. */
int vmm_firmware_load(struct vm *vm, const struct fw_cfg_boot *b);
void vmm_firmware_free(struct fw_boot *fb);

#endif
