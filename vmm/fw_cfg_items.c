/* fw_cfg_items.c - the fw_cfg items of a firmware boot (vmm/fw_cfg.h):
 * what QEMU's x86 machines give OVMF to boot a Linux kernel passed with
 * -kernel/-initrd/-append (docs/firmware.md lists them with their
 * encodings). OVMF's QemuKernelLoaderFsDxe concatenates setup + kernel
 * into the image it starts through the EFI stub; the address items are
 * for loaders that start the kernel the legacy way. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "vmm/fw_cfg.h"
#include "vmm/vmm_core.h"

/* Where QEMU's x86 Linux loader puts the pieces (boot protocol >= 2.02). */
#define LINUX_REAL_ADDR    0x10000u  /* setup */
#define LINUX_CMDLINE_ADDR 0x20000u
#define LINUX_PROT_ADDR    0x100000u /* protected-mode kernel */
#define ACPI_DATA_SIZE     0x20000u  /* kept free below the top of low RAM */

int fw_cfg_add_e820(struct fw_cfg *fc, const struct guest_mem *m)
{
	uint8_t e[2 * 20] = { 0 };
	size_t n = 0;

	put_le64(e, 0);
	put_le64(e + 8, m->low_size);
	put_le32(e + 16, E820_RAM);
	n = 20;
	if (m->size > m->low_size) {
		put_le64(e + 20, 1ull << 32);
		put_le64(e + 28, m->size - m->low_size);
		put_le32(e + 36, E820_RAM);
		n = 40;
	}
	return fw_cfg_add_file(fc, "etc/e820", e, n);
}

static int kernel_items(struct fw_cfg *fc, const struct guest_mem *m, const struct fw_cfg_boot *b)
{
	struct bzimage bz;
	uint32_t initrd_addr = 0;
	size_t clen = b->cmdline ? strlen(b->cmdline) + 1 : 1;
	uint8_t *setup;
	int rc = vmm_bzimage_parse(b->kernel, b->kernel_len, b->kernel_path, &bz);

	if (rc)
		return rc;
	if (b->initrd) {
		uint64_t max = m->low_size > ACPI_DATA_SIZE ? m->low_size - ACPI_DATA_SIZE - 1 : 0;
		if (bz.initrd_addr_max && bz.initrd_addr_max < max)
			max = bz.initrd_addr_max;
		if (b->initrd_len > max || b->initrd_len >= UINT32_MAX)
			return err_set(EFBIG, "initrd (%zu bytes) does not fit below %#llx: raise --mem", b->initrd_len,
				       (unsigned long long)max);
		initrd_addr = (uint32_t)((max - b->initrd_len) & ~0xfffull);
	}
	if (clen > BOOT_CMDLINE_MAX || (bz.cmdline_size && clen - 1 > bz.cmdline_size))
		return err_set(EINVAL, "--cmdline: %zu bytes, the kernel takes at most %u", clen - 1,
			       bz.cmdline_size ? bz.cmdline_size : (unsigned)BOOT_CMDLINE_MAX - 1);
	/* The setup part with the loader fields filled in, as QEMU's loader
	 * leaves it for the firmware. */
	setup = malloc(bz.setup_len);
	if (!setup)
		return err_set(ENOMEM, "out of memory");
	memcpy(setup, bz.setup, bz.setup_len);
	setup[HDR_TYPE_OF_LOADER] = 0xb0; /* QEMU */
	setup[HDR_LOADFLAGS] |= CAN_USE_HEAP;
	put_le16(setup + HDR_HEAP_END_PTR, (uint16_t)(LINUX_CMDLINE_ADDR - LINUX_REAL_ADDR - 0x200));
	put_le32(setup + HDR_CMD_LINE_PTR, LINUX_CMDLINE_ADDR);
	put_le32(setup + HDR_RAMDISK_IMAGE, initrd_addr);
	put_le32(setup + HDR_RAMDISK_SIZE, (uint32_t)b->initrd_len);

	rc = fw_cfg_add_le32(fc, FW_CFG_SETUP_ADDR, LINUX_REAL_ADDR);
	if (!rc)
		rc = fw_cfg_add_le32(fc, FW_CFG_SETUP_SIZE, (uint32_t)bz.setup_len);
	if (!rc)
		rc = fw_cfg_add_item(fc, FW_CFG_SETUP_DATA, setup, bz.setup_len);
	free(setup);
	if (!rc)
		rc = fw_cfg_add_le32(fc, FW_CFG_KERNEL_ADDR, LINUX_PROT_ADDR);
	if (!rc)
		rc = fw_cfg_add_le32(fc, FW_CFG_KERNEL_SIZE, (uint32_t)bz.kernel_len);
	if (!rc)
		rc = fw_cfg_add_item(fc, FW_CFG_KERNEL_DATA, bz.kernel, bz.kernel_len);
	if (!rc)
		rc = fw_cfg_add_le32(fc, FW_CFG_CMDLINE_ADDR, LINUX_CMDLINE_ADDR);
	if (!rc)
		rc = fw_cfg_add_le32(fc, FW_CFG_CMDLINE_SIZE, (uint32_t)clen);
	if (!rc)
		rc = fw_cfg_add_item(fc, FW_CFG_CMDLINE_DATA, b->cmdline ? b->cmdline : "", clen);
	if (!rc && b->initrd) {
		rc = fw_cfg_add_le32(fc, FW_CFG_INITRD_ADDR, initrd_addr);
		if (!rc)
			rc = fw_cfg_add_le32(fc, FW_CFG_INITRD_SIZE, (uint32_t)b->initrd_len);
		if (!rc)
			rc = fw_cfg_add_item(fc, FW_CFG_INITRD_DATA, b->initrd, b->initrd_len);
	}
	return rc;
}

int fw_cfg_boot_items(struct fw_cfg *fc, const struct guest_mem *m, const struct fw_cfg_boot *b)
{
	uint8_t zero16[16] = { 0 };
	int rc;

	if (!b->vcpus || b->vcpus > UINT16_MAX)
		return err_set(EINVAL, "fw_cfg: %u vCPUs", b->vcpus);
	rc = fw_cfg_add_item(fc, FW_CFG_UUID, zero16, sizeof(zero16));
	if (!rc)
		rc = fw_cfg_add_le64(fc, FW_CFG_RAM_SIZE, m->size);
	if (!rc)
		rc = fw_cfg_add_le16(fc, FW_CFG_NOGRAPHIC, 1);
	if (!rc)
		rc = fw_cfg_add_le16(fc, FW_CFG_NB_CPUS, (uint16_t)b->vcpus);
	if (!rc)
		rc = fw_cfg_add_le16(fc, FW_CFG_MAX_CPUS, (uint16_t)b->vcpus);
	if (!rc)
		rc = fw_cfg_add_le16(fc, FW_CFG_BOOT_MENU, 0);
	if (!rc)
		rc = fw_cfg_add_le64(fc, FW_CFG_NUMA, 0); /* no NUMA nodes */
	if (!rc)
		rc = fw_cfg_add_le32(fc, FW_CFG_X86_IRQ0_OVERRIDE, 1);
	if (!rc)
		rc = fw_cfg_add_e820(fc, m);
	if (!rc && b->kernel)
		rc = kernel_items(fc, m, b);
	if (!rc)
		rc = fw_cfg_add_acpi(fc, b->vcpus);
	return rc;
}
