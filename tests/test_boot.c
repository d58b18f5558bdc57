/* Unit tests: x86 boot - bzImage setup header parsing, boot_params (zero
 * page) and e820 construction from a real Debian kernel
 * (tests/fixtures/measure/boot/vmlinuz-6.1.0-56-cloud-amd64), loading into
 * guest memory, identity page tables. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gelf.h>
#include <libelf.h>
#include <lz4.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

#define KERNEL "tests/fixtures/measure/boot/vmlinuz-6.1.0-56-cloud-amd64"

static uint8_t *img;
static size_t img_len;

static int setup(void **state)
{
	(void)state;
	return file_read(KERNEL, 64u << 20, &img, &img_len);
}
static int teardown(void **state)
{
	(void)state;
	free(img);
	return 0;
}

static void test_parse_real_kernel(void **state)
{
	struct bzimage bz;
	(void)state;
	assert_int_equal(vmm_bzimage_parse(img, img_len, KERNEL, &bz), 0);
	assert_int_equal(bz.version, 0x020f); /* Linux 6.1: protocol 2.15 */
	assert_true(bz.xloadflags & 1);       /* XLF_KERNEL_64 */
	assert_int_equal(bz.pref_address, 0x1000000);
	assert_int_equal(bz.kernel_alignment, 0x200000);
	assert_int_equal(bz.cmdline_size, 2047);
	assert_int_equal(bz.setup_len, (size_t)(img[0x1f1] + 1) * 512);
	assert_int_equal(bz.kernel_len + bz.setup_len, img_len);
	assert_true(bz.init_size >= bz.kernel_len);
	assert_int_equal(bz.initrd_addr_max, 0x7fffffff);
}

static void test_parse_rejects(void **state)
{
	struct bzimage bz;
	uint8_t *bad = malloc(img_len);
	(void)state;
	/* truncated inside the setup header */
	assert_int_equal(vmm_bzimage_parse(img, 0x210, "k", &bz), -EINVAL);
	assert_non_null(strstr(err_msg(), "k:"));
	/* setup only, no kernel */
	assert_int_equal(vmm_bzimage_parse(img, (img[0x1f1] + 1) * 512, "k", &bz), -EINVAL);
	/* no "HdrS" */
	memcpy(bad, img, img_len);
	bad[0x202] = 'X';
	assert_int_equal(vmm_bzimage_parse(bad, img_len, "k", &bz), -EINVAL);
	assert_non_null(strstr(err_msg(), "not a bzImage"));
	/* too old a protocol */
	memcpy(bad, img, img_len);
	put_le16(bad + 0x206, 0x0206);
	assert_int_equal(vmm_bzimage_parse(bad, img_len, "k", &bz), -EINVAL);
	assert_non_null(strstr(err_msg(), "2.06"));
	/* no 64-bit entry */
	memcpy(bad, img, img_len);
	bad[0x236] &= (uint8_t)~1;
	assert_int_equal(vmm_bzimage_parse(bad, img_len, "k", &bz), -EINVAL);
	assert_non_null(strstr(err_msg(), "64-bit"));
	/* setup_sects beyond the file */
	memcpy(bad, img, img_len);
	bad[0x1f1] = 0xff;
	assert_int_equal(vmm_bzimage_parse(bad, 0x20000, "k", &bz), -EINVAL);
	free(bad);
}

static void test_e820(void **state)
{
	struct e820_entry e[E820_MAX];
	struct guest_mem small = { .size = 512ull << 20, .low_size = 512ull << 20 };
	struct guest_mem big = { .size = 6ull << 30, .low_size = VM_MMIO_HOLE_START };
	(void)state;
	unsigned n = vmm_e820_build(&small, e, E820_MAX);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, 0x9fc00);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[1].addr, 0x9fc00);
	assert_int_equal(e[1].addr + e[1].size, 0x100000);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[2].addr, 0x100000);
	assert_int_equal(e[2].addr + e[2].size, 512ull << 20);
	n = vmm_e820_build(&big, e, E820_MAX);
	assert_int_equal(n, 4);
	assert_int_equal(e[2].addr + e[2].size, VM_MMIO_HOLE_START);
	assert_int_equal(e[3].addr, 1ull << 32);
	assert_int_equal(e[3].size, (6ull << 30) - VM_MMIO_HOLE_START);
	/* RAM total equals guest memory minus the reserved BIOS area */
	uint64_t ram = 0;
	for (unsigned i = 0; i < n; i++)
		if (e[i].type == E820_RAM)
			ram += e[i].size;
	assert_int_equal(ram, (6ull << 30) - (0x100000 - 0x9fc00));
}

static void test_boot_params(void **state)
{
	struct bzimage bz;
	uint8_t zp[4096];
	struct guest_mem m = { .size = 512ull << 20, .low_size = 512ull << 20 };
	struct boot_layout l = {
		.kernel_gpa = 0x1000000, .initrd_gpa = 0x1f000000, .initrd_size = 0x123456,
		.cmdline_gpa = BOOT_CMDLINE_GPA, .rsdp_gpa = BOOT_ACPI_GPA,
	};
	(void)state;
	assert_int_equal(vmm_bzimage_parse(img, img_len, KERNEL, &bz), 0);
	assert_int_equal(vmm_boot_params_build(zp, &bz, &m, &l, 20), 0);
	/* setup header copied: boot flag, HdrS, version, setup_sects */
	assert_int_equal(le16(zp + 0x1fe), 0xaa55);
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(le16(zp + 0x206), 0x020f);
	assert_int_equal(zp[0x1f1], img[0x1f1]);
	/* loader fields */
	assert_int_equal(zp[0x210], 0xff);
	assert_true(zp[0x211] & 0x81); /* LOADED_HIGH | CAN_USE_HEAP */
	assert_int_equal(le32(zp + 0x228), BOOT_CMDLINE_GPA);
	assert_int_equal(le32(zp + 0x218), 0x1f000000);
	assert_int_equal(le32(zp + 0x21c), 0x123456);
	assert_int_equal(le64(zp + 0x070), BOOT_ACPI_GPA);
	/* e820 in the zero page */
	assert_int_equal(zp[0x1e8], 3);
	assert_int_equal(le64(zp + 0x2d0 + 20 * 2), 0x100000);
	assert_int_equal(le64(zp + 0x2d0 + 20 * 2 + 8), (512ull << 20) - 0x100000);
	assert_int_equal(le32(zp + 0x2d0 + 20 * 2 + 16), E820_RAM);
	/* command line longer than the kernel's cmdline_size */
	assert_int_equal(vmm_boot_params_build(zp, &bz, &m, &l, 4096), -E2BIG);
	assert_non_null(strstr(err_msg(), "--cmdline"));
}

static void test_load(void **state)
{
	struct guest_mem m;
	struct boot_layout bl;
	uint8_t initrd[10000];
	size_t setup_len = (size_t)(img[0x1f1] + 1) * 512;
	(void)state;
	memset(initrd, 0x5a, sizeof(initrd));
	assert_int_equal(gm_alloc(&m, 128ull << 20), 0);

	/* default: the payload (LZ4) inflated on the host, vmlinux loaded */
	assert_int_equal(vmm_boot_load(&m, img, img_len, KERNEL, initrd, sizeof(initrd), "console=ttyS0 x=1",
				       BOOT_ACPI_GPA, &bl), 0);
	assert_int_equal(bl.entry_gpa, 0x1000000); /* phys_startup_64, the ELF entry */
	assert_memory_not_equal(gm_ptr(&m, 0x1000000, 4096), img + setup_len, 4096);
	uint8_t *zp = gm_ptr(&m, BOOT_ZERO_PAGE_GPA, 4096);
	assert_string_equal((char *)gm_ptr(&m, le32(zp + 0x228), 18), "console=ttyS0 x=1");
	/* initrd at the top of RAM, page aligned, intact, above the kernel */
	uint32_t ird = le32(zp + 0x218);
	assert_int_equal(ird % 4096, 0);
	assert_true(ird + sizeof(initrd) <= (128u << 20));
	assert_true(ird + sizeof(initrd) > (128u << 20) - 4096);
	assert_memory_equal(gm_ptr(&m, ird, sizeof(initrd)), initrd, sizeof(initrd));
	assert_int_equal(le32(zp + 0x21c), sizeof(initrd));

	/* vmlinux segments directly */
	struct bzimage bz;
	uint64_t lo, hi, e;
	assert_int_equal(vmm_bzimage_parse(img, img_len, KERNEL, &bz), 0);
	assert_int_equal(vmm_vmlinux_load(&m, &bz, &lo, &hi, &e), 0);
	assert_int_equal(lo, 0x1000000);
	assert_true(hi > lo + bz.kernel_len && hi < (128u << 20));
	assert_int_equal(e, 0x1000000);
	/* a damaged payload is refused (the caller then boots the bzImage) */
	uint8_t *bad = malloc(img_len);
	memcpy(bad, img, img_len);
	bad[setup_len + bz.payload_off + 100] ^= 0xff;
	struct bzimage bz2;
	assert_int_equal(vmm_bzimage_parse(bad, img_len, KERNEL, &bz2), 0);
	assert_int_not_equal(vmm_vmlinux_load(&m, &bz2, &lo, &hi, &e), 0);
	free(bad);

	/* self-decompressing bzImage entry on request */
	setenv("CVMM_GUEST_DECOMPRESS", "1", 1);
	assert_int_equal(vmm_boot_load(&m, img, img_len, KERNEL, initrd, sizeof(initrd), "", BOOT_ACPI_GPA,
				       &bl), 0);
	unsetenv("CVMM_GUEST_DECOMPRESS");
	assert_int_equal(bl.entry_gpa, 0x1000200); /* pref_address + 0x200 (startup_64) */
	assert_memory_equal(gm_ptr(&m, 0x1000000, 4096), img + setup_len, 4096);
	gm_free(&m);

	/* too little memory for the kernel */
	assert_int_equal(gm_alloc(&m, 16ull << 20), 0);
	assert_int_equal(vmm_boot_load(&m, img, img_len, KERNEL, NULL, 0, "", 0, &bl), -ENOMEM);
	assert_non_null(strstr(err_msg(), "--mem"));
	gm_free(&m);
}

/* The LZ4 payload is inflated block by block through a bounce buffer: the
 * result must equal inflating the whole vmlinux and copying its PT_LOAD
 * segments. */
static void test_vmlinux_streamed(void **state)
{
	struct bzimage bz;
	struct guest_mem m;
	uint64_t lo, hi, e;
	(void)state;
	assert_int_equal(vmm_bzimage_parse(img, img_len, KERNEL, &bz), 0);
	assert_int_equal(gm_alloc(&m, 128ull << 20), 0);
	assert_int_equal(vmm_vmlinux_load(&m, &bz, &lo, &hi, &e), 0);

	/* reference: the whole legacy frame inflated here */
	const uint8_t *p = bz.kernel + bz.payload_off;
	size_t cap = 128u << 20, n = 0, i = 4;
	uint8_t *elf = malloc(cap);
	assert_non_null(elf);
	assert_int_equal(le32(p), 0x184c2102u);
	while (i + 4 < bz.payload_len) {
		uint32_t v = le32(p + i);
		i += 4;
		if (v == 0x184c2102u)
			continue;
		int got = LZ4_decompress_safe((const char *)p + i, (char *)elf + n, (int)v, (int)(cap - n));
		assert_true(got > 0);
		n += (size_t)got;
		i += v;
	}
	assert_int_equal(n, le32(p + bz.payload_len - 4)); /* the appended size */
	elf_version(EV_CURRENT);
	Elf *el = elf_memory((char *)elf, n);
	size_t nph, loads = 0;
	assert_non_null(el);
	assert_int_equal(elf_getphdrnum(el, &nph), 0);
	for (size_t k = 0; k < nph; k++) {
		GElf_Phdr ph;
		assert_non_null(gelf_getphdr(el, (int)k, &ph));
		if (ph.p_type != PT_LOAD)
			continue;
		loads++;
		assert_true(ph.p_paddr >= lo && ph.p_paddr + ph.p_memsz <= hi);
		assert_memory_equal(gm_ptr(&m, ph.p_paddr, ph.p_filesz), elf + ph.p_offset, ph.p_filesz);
	}
	assert_int_equal(loads, 4); /* text, data, percpu, init+bss */
	elf_end(el);
	free(elf);

	/* a payload cut short leaves a segment incomplete: refused */
	struct bzimage cut = bz;
	cut.payload_len = bz.payload_len / 2;
	assert_int_not_equal(vmm_vmlinux_load(&m, &cut, &lo, &hi, &e), 0);
	gm_free(&m);
}

static void test_page_tables(void **state)
{
	struct guest_mem m;
	(void)state;
	assert_int_equal(gm_alloc(&m, 32ull << 20), 0);
	assert_int_equal(vmm_boot_page_tables(&m), 0);
	uint8_t *pml4 = gm_ptr(&m, BOOT_PML4_GPA, 4096);
	uint8_t *pdpt = gm_ptr(&m, BOOT_PDPT_GPA, 4096);
	assert_int_equal(le64(pml4), BOOT_PDPT_GPA | 3);
	assert_int_equal(le64(pml4 + 8), 0);
	/* identity: walk a few addresses through PML4 -> PDPT -> PD (2 MiB) */
	static const uint64_t probe[] = { 0, 0x1000200, 0x7fe00000, 0xfee00000, 0xffffffff };
	for (size_t i = 0; i < ARRAY_SIZE(probe); i++) {
		uint64_t va = probe[i];
		uint64_t pdpte = le64(pdpt + 8 * ((va >> 30) & 511));
		assert_true(pdpte & 1);
		uint8_t *pd = gm_ptr(&m, pdpte & ~0xfffull, 4096);
		assert_non_null(pd);
		uint64_t pde = le64(pd + 8 * ((va >> 21) & 511));
		assert_int_equal(pde & 0x83, 0x83); /* present, writable, 2 MiB */
		assert_int_equal((pde & ~0x1fffffull) | (va & 0x1fffff), va);
	}
	/* GDT: 64-bit code at 0x10 (L bit), flat data at 0x18 */
	uint8_t *gdt = gm_ptr(&m, BOOT_GDT_GPA, 40);
	assert_int_equal(le64(gdt + 0x10), 0x00af9b000000ffffull);
	assert_int_equal(le64(gdt + 0x18), 0x00cf93000000ffffull);
	/* reset vector: mov al, 0xfe; out 0x64, al */
	assert_memory_equal(gm_ptr(&m, 0xffff0, 4), "\xb0\xfe\xe6\x64", 4);
	gm_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_real_kernel),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_e820),
		cmocka_unit_test(test_boot_params),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_vmlinux_streamed),
		cmocka_unit_test(test_page_tables),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
