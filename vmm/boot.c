/* boot.c - the x86-64 Linux boot protocol without firmware
 * (Documentation/arch/x86/boot.rst, zero-page.rst): parse the bzImage setup
 * header, place kernel, initrd and command line, build boot_params (the
 * "zero page") with the e820 map, and the identity page tables + GDT the
 * 64-bit entry point expects. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

/* boot_params outside the header (zero-page.rst). */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES   0x1e8
#define BP_E820_TABLE     0x2d0

#define LOADED_HIGH  0x01
#define XLF_KERNEL_64 0x01

int vmm_bzimage_parse(const uint8_t *img, size_t len, const char *what, struct bzimage *bz)
{
	struct reader r;
	uint8_t setup_sects, jump_len;
	uint16_t boot_flag;
	uint32_t magic;

	memset(bz, 0, sizeof(*bz));
	rd_init(&r, img, len, what);
	if (rd_seek(&r, "setup_sects", HDR_SETUP_SECTS) || rd_u8(&r, "setup_sects", &setup_sects) ||
	    rd_seek(&r, "boot_flag", HDR_BOOT_FLAG) || rd_u16(&r, "boot_flag", &boot_flag) ||
	    rd_seek(&r, "jump", HDR_JUMP + 1) || rd_u8(&r, "jump", &jump_len) ||
	    rd_u32(&r, "header", &magic))
		return -EINVAL;
	if (boot_flag != 0xaa55 || magic != 0x53726448 /* "HdrS" */)
		return err_set(EINVAL, "%s: not a bzImage (no boot_flag 0xAA55 / \"HdrS\" setup header)", what);
	if (rd_u16(&r, "version", &bz->version))
		return -EINVAL;
	if (bz->version < 0x020c)
		return err_set(EINVAL, "%s: boot protocol %u.%02u is too old (need 2.12 for the 64-bit entry)",
			       what, bz->version >> 8, bz->version & 0xff);
	/* The setup header ends at 0x202 + the jump's displacement byte. */
	size_t hdr_end = 0x202 + (size_t)jump_len;
	if (rd_seek(&r, "loadflags", HDR_LOADFLAGS) || rd_u8(&r, "loadflags", &bz->loadflags) ||
	    rd_seek(&r, "initrd_addr_max", HDR_INITRD_ADDR_MAX) ||
	    rd_u32(&r, "initrd_addr_max", &bz->initrd_addr_max) ||
	    rd_u32(&r, "kernel_alignment", &bz->kernel_alignment) ||
	    rd_seek(&r, "xloadflags", HDR_XLOADFLAGS) || rd_u16(&r, "xloadflags", &bz->xloadflags) ||
	    rd_u32(&r, "cmdline_size", &bz->cmdline_size) ||
	    rd_seek(&r, "payload_offset", HDR_PAYLOAD_OFFSET) || rd_u32(&r, "payload_offset", &bz->payload_off) ||
	    rd_u32(&r, "payload_length", &bz->payload_len) ||
	    rd_seek(&r, "pref_address", HDR_PREF_ADDRESS) || rd_u64(&r, "pref_address", &bz->pref_address) ||
	    rd_u32(&r, "init_size", &bz->init_size))
		return -EINVAL;
	if (!(bz->loadflags & LOADED_HIGH))
		return err_set(EINVAL, "%s: loadflags: not a bzImage (zImage loads low)", what);
	if (!(bz->xloadflags & XLF_KERNEL_64))
		return err_set(EINVAL, "%s: xloadflags: kernel has no 64-bit entry point", what);
	size_t setup_len = ((size_t)(setup_sects ? setup_sects : 4) + 1) * 512;
	if (hdr_end > setup_len || setup_len >= len)
		return err_set(EINVAL, "%s: setup_sects: setup (%zu bytes) does not fit in the file (%zu bytes)",
			       what, setup_len, len);
	bz->setup = img;
	bz->setup_len = setup_len;
	bz->kernel = img + setup_len;
	bz->kernel_len = len - setup_len;
	if (bz->kernel_alignment == 0 || (bz->kernel_alignment & (bz->kernel_alignment - 1)))
		bz->kernel_alignment = 0x200000;
	if (bz->init_size < bz->kernel_len)
		bz->init_size = (uint32_t)bz->kernel_len;
	return 0;
}

unsigned vmm_e820_build(const struct guest_mem *m, struct e820_entry *e, unsigned max)
{
	unsigned n = 0;
	if (max < 4)
		return 0;
	e[n++] = (struct e820_entry){ 0, BOOT_EBDA_GPA, E820_RAM };
	/* EBDA, ACPI tables, MP table: what a BIOS would reserve. */
	e[n++] = (struct e820_entry){ BOOT_EBDA_GPA, BOOT_HIGH_GPA - BOOT_EBDA_GPA, E820_RESERVED };
	if (m->low_size > BOOT_HIGH_GPA)
		e[n++] = (struct e820_entry){ BOOT_HIGH_GPA, m->low_size - BOOT_HIGH_GPA, E820_RAM };
	if (m->size > m->low_size)
		e[n++] = (struct e820_entry){ 1ull << 32, m->size - m->low_size, E820_RAM };
	return n;
}

int vmm_boot_params_build(uint8_t zp[4096], const struct bzimage *bz, const struct guest_mem *m,
			  const struct boot_layout *l, size_t cmdline_len)
{
	struct e820_entry e[E820_MAX];

	memset(zp, 0, 4096);
	/* Copy the setup header as the kernel wrote it, then set the loader's
	 * fields (boot.rst "DETAILS OF HEADER FIELDS", "write" / "modify"). */
	size_t hdr_end = 0x202 + (size_t)bz->setup[HDR_JUMP + 1];
	memcpy(zp + HDR_SETUP_SECTS, bz->setup + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	zp[HDR_TYPE_OF_LOADER] = 0xff; /* undefined loader */
	zp[HDR_LOADFLAGS] = (uint8_t)(bz->loadflags | CAN_USE_HEAP);
	put_le16(zp + HDR_HEAP_END_PTR, 0xfe00);
	put_le32(zp + HDR_CMD_LINE_PTR, (uint32_t)l->cmdline_gpa);
	put_le32(zp + BP_EXT_CMD_LINE_PTR, (uint32_t)(l->cmdline_gpa >> 32));
	if (cmdline_len > bz->cmdline_size)
		return err_set(E2BIG, "--cmdline: %zu bytes, the kernel accepts at most %u", cmdline_len,
			       bz->cmdline_size);
	put_le32(zp + HDR_RAMDISK_IMAGE, (uint32_t)l->initrd_gpa);
	put_le32(zp + HDR_RAMDISK_SIZE, (uint32_t)l->initrd_size);
	put_le32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(l->initrd_gpa >> 32));
	put_le32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)(l->initrd_size >> 32));
	put_le64(zp + BP_ACPI_RSDP_ADDR, l->rsdp_gpa);

	unsigned n = vmm_e820_build(m, e, E820_MAX);
	zp[BP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = zp + BP_E820_TABLE + 20 * i;
		put_le64(p, e[i].addr);
		put_le64(p + 8, e[i].size);
		put_le32(p + 16, e[i].type);
	}
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

int vmm_boot_load(struct guest_mem *m, const uint8_t *img, size_t img_len, const char *kernel_path,
		  const uint8_t *initrd, size_t initrd_len, const char *cmdline, uint64_t rsdp_gpa,
		  struct boot_layout *out)
{
	struct bzimage bz;
	struct boot_layout l = { .cmdline_gpa = BOOT_CMDLINE_GPA, .rsdp_gpa = rsdp_gpa };
	int rc = vmm_bzimage_parse(img, img_len, kernel_path, &bz);
	if (rc)
		return rc;

	/* Kernel: preferably inflated here and loaded as vmlinux (vmlinux.c);
	 * else the bzImage at its preferred address if it fits, or the lowest
	 * aligned address above 1 MiB (relocatable kernels decompress
	 * themselves anywhere). init_size bytes must be free from there. */
	uint64_t lo, hi, lowest;
	if (!getenv("CVMM_GUEST_DECOMPRESS") && vmm_vmlinux_load(m, &bz, &lo, &hi, &l.entry_gpa) == 0) {
		l.kernel_gpa = lo;
		l.kernel_end = hi;
		lowest = hi > lo + bz.init_size ? hi : lo + bz.init_size;
	} else {
		err_clear();
		l.kernel_gpa = bz.pref_address ? bz.pref_address : BOOT_KERNEL_DEFAULT;
		if (!range_ok(l.kernel_gpa, bz.init_size, m->low_size))
			l.kernel_gpa = align_up(BOOT_HIGH_GPA, bz.kernel_alignment);
		void *k = gm_ptr(m, l.kernel_gpa, bz.init_size);
		if (!k)
			return err_set(ENOMEM, "%s: the kernel needs %u bytes at 0x%llx: more than --mem allows",
				       kernel_path, bz.init_size, (unsigned long long)l.kernel_gpa);
		memcpy(k, bz.kernel, bz.kernel_len);
		l.kernel_end = l.kernel_gpa + bz.kernel_len;
		/* 64-bit entry: startup_64 (boot.rst "64-bit BOOT PROTOCOL") */
		l.entry_gpa = l.kernel_gpa + 0x200;
		lowest = l.kernel_gpa + bz.init_size;
	}

	/* Initrd: as high as allowed, below initrd_addr_max and the hole,
	 * above the kernel's working area. */
	if (initrd_len) {
		uint64_t top = (uint64_t)bz.initrd_addr_max + 1;
		if (top > m->low_size)
			top = m->low_size;
		if (initrd_len > top || ((top - initrd_len) & ~0xfffull) < lowest)
			return err_set(ENOMEM, "--initrd: %zu bytes do not fit below 0x%llx beside the kernel; raise --mem",
				       initrd_len, (unsigned long long)top);
		l.initrd_gpa = (top - initrd_len) & ~0xfffull;
		l.initrd_size = initrd_len;
		memcpy(gm_ptr(m, l.initrd_gpa, initrd_len), initrd, initrd_len);
	}

	size_t clen = strlen(cmdline);
	if (clen >= BOOT_CMDLINE_MAX)
		return err_set(E2BIG, "--cmdline: %zu bytes is too long", clen);
	uint8_t *zp = gm_ptr(m, BOOT_ZERO_PAGE_GPA, 4096);
	uint8_t *cl = gm_ptr(m, BOOT_CMDLINE_GPA, clen + 1);
	if (!zp || !cl)
		return err_set(ENOMEM, "guest memory too small for the zero page");
	rc = vmm_boot_params_build(zp, &bz, m, &l, clen);
	if (rc)
		return rc;
	memcpy(cl, cmdline, clen + 1);
	l.cmdline_len = clen + 1;
	*out = l;
	return 0;
}

int vmm_boot_page_tables(struct guest_mem *m)
{
	uint8_t *pml4 = gm_ptr(m, BOOT_PML4_GPA, 4096);
	uint8_t *pdpt = gm_ptr(m, BOOT_PDPT_GPA, 4096);
	uint8_t *pd = gm_ptr(m, BOOT_PD_GPA, 4 * 4096);
	uint8_t *gdt = gm_ptr(m, BOOT_GDT_GPA, 8 * 8);
	if (!pml4 || !pdpt || !pd || !gdt)
		return err_set(ENOMEM, "guest memory too small for the boot page tables");
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	/* Present | writable; PD entries add PS (2 MiB pages). Identity map
	 * of [0, 4 GiB): the entry point needs kernel, zero page, command
	 * line and initrd mapped (boot.rst "64-bit BOOT PROTOCOL"). */
	put_le64(pml4, BOOT_PDPT_GPA | 0x3);
	for (unsigned i = 0; i < 4; i++)
		put_le64(pdpt + 8 * i, (BOOT_PD_GPA + 4096ull * i) | 0x3);
	for (unsigned i = 0; i < 4 * 512; i++)
		put_le64(pd + 8 * i, ((uint64_t)i << 21) | 0x83);
	/* GDT: null, null, 64-bit code (selector 0x10), data (0x18), TSS (0x20). */
	static const uint64_t gdt_entries[] = {
		0, 0, 0x00af9b000000ffffull, 0x00cf93000000ffffull, 0x00008b0000000fffull,
	};
	memset(gdt, 0, 64);
	for (unsigned i = 0; i < ARRAY_SIZE(gdt_entries); i++)
		put_le64(gdt + 8 * i, gdt_entries[i]);

	/* There is no BIOS, but Linux's last reboot method (BOOT_BIOS, and
	 * the default BOOT_EFI without EFI on hardware-reduced ACPI) jumps to
	 * the real-mode reset vector: answer with an i8042 reset request. */
	static const uint8_t reset_stub[] = {
		0xb0, 0xfe,       /* mov al, 0xfe */
		0xe6, 0x64,       /* out 0x64, al  (i8042: pulse reset) */
		0xf4,             /* hlt */
		0xeb, 0xfd,       /* jmp hlt */
	};
	uint8_t *rv = gm_ptr(m, BOOT_RESET_VECTOR, sizeof(reset_stub));
	if (!rv)
		return err_set(ENOMEM, "guest memory too small for the reset vector");
	memcpy(rv, reset_stub, sizeof(reset_stub));
	return 0;
}
