/* Unit tests: the fw_cfg device of a firmware boot (vmm/fw_cfg.c) - every
 * item's encoding (signature, ID, file directory, CPU counts, RAM size,
 * etc/e820, the Linux kernel items, the ACPI tables and the table-loader
 * script, run here through a model of OVMF's loader), the selector/data and
 * DMA ports, and DMA requests a hostile guest can make (addresses outside
 * RAM, ranges crossing the end of RAM or into the hole, wrapping addresses,
 * unknown selectors, writes to read-only items): error status, no access
 * outside RAM, the device keeps working. Also the firmware launch plan
 * (firmware_boot.c) against the generic OVMF fixture, the CMOS RTC and the
 * PIIX4 PM function OVMF programs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"
#include "vmm/firmware_boot.h"

#define KERNEL "tests/fixtures/measure/boot/vmlinuz-6.1.0-56-cloud-amd64"
#define OVMF "tests/fixtures/measure/firmware/OVMF-2022.11-6+deb12u2.fd"
#define RAM (1u << 20) /* 1 MiB of low RAM; high RAM 64 KiB at 4 GiB */
#define HIGH (64u << 10)

static uint8_t *ram;
static struct guest_mem mem;
static struct fw_cfg fc;

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM + HIGH);
	mem = (struct guest_mem){ .host = ram, .size = RAM + HIGH, .low_size = RAM };
	return ram && !fw_cfg_init(&fc, &mem) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	fw_cfg_destroy(&fc);
	free(ram);
	return 0;
}

/* Write a FWCfgDmaAccess at gpa acc. */
static void dma_req(uint64_t acc, uint32_t control, uint32_t length, uint64_t addr)
{
	uint8_t *a = gm_ptr(&mem, acc, 16);
	assert_non_null(a);
	put_be32(a, control);
	put_be32(a + 4, length);
	put_be64(a + 8, addr);
}

/* Read an item through DMA into RAM at 0x8000 (select + read). */
static const uint8_t *dma_read(uint16_t key, uint32_t len)
{
	dma_req(0x1000, (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, len, 0x8000);
	assert_int_equal(fw_cfg_dma(&fc, 0x1000), 0);
	assert_int_equal(be32(ram + 0x1000), 0); /* control written back: done, no error */
	return ram + 0x8000;
}

static void pio_select(uint16_t key)
{
	uint8_t b[2];
	put_le16(b, key);
	fw_cfg_io(&fc, FW_CFG_PORT_SEL, b, 2, true);
}

static uint8_t pio_byte(void)
{
	uint8_t b;
	fw_cfg_io(&fc, FW_CFG_PORT_DATA, &b, 1, false);
	return b;
}

static void test_signature_id_ports(void **state)
{
	uint8_t b[8];
	(void)state;
	pio_select(FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		b[i] = pio_byte();
	assert_memory_equal(b, "QEMU", 4);
	assert_int_equal(pio_byte(), 0); /* past the end: zeros */
	pio_select(FW_CFG_ID);
	for (int i = 0; i < 4; i++)
		b[i] = pio_byte();
	assert_int_equal(le32(b), FW_CFG_F_TRADITIONAL | FW_CFG_F_DMA);
	/* the DMA register reads as "QEMU CFG" */
	fw_cfg_io(&fc, FW_CFG_PORT_DMA, b, 4, false);
	fw_cfg_io(&fc, FW_CFG_PORT_DMA + 4, b + 4, 4, false);
	assert_memory_equal(b, "QEMU CFG", 8);
	/* an unknown selector reads zeros, like a finished item */
	pio_select(0x1f);
	assert_int_equal(pio_byte(), 0);
	pio_select(0x7fff);
	assert_int_equal(pio_byte(), 0);
	/* writes to the data port change nothing */
	pio_select(FW_CFG_SIGNATURE);
	b[0] = 'X';
	fw_cfg_io(&fc, FW_CFG_PORT_DATA, b, 1, true);
	pio_select(FW_CFG_SIGNATURE);
	assert_int_equal(pio_byte(), 'Q');
}

static void test_file_dir(void **state)
{
	const uint8_t *d;
	uint8_t data[300];
	(void)state;
	memset(data, 0xab, sizeof(data));
	assert_int_equal(fw_cfg_add_file(&fc, "opt/zzz", data, 3), 0);
	assert_int_equal(fw_cfg_add_file(&fc, "etc/aaa", data, sizeof(data)), 0);
	assert_int_equal(fw_cfg_add_file(&fc, "etc/aaa", data, 1), -EEXIST);
	char longname[80];
	memset(longname, 'n', sizeof(longname));
	longname[FW_CFG_MAX_FILE_PATH] = 0; /* 56 bytes: no room for the NUL */
	assert_int_equal(fw_cfg_add_file(&fc, longname, data, 1), -EINVAL);
	/* directory: be32 count, entries sorted by name, selectors in that order */
	d = dma_read(FW_CFG_FILE_DIR, 4 + 2 * 64);
	assert_int_equal(be32(d), 2);
	assert_int_equal(be32(d + 4), 300);
	assert_int_equal(d[8] << 8 | d[9], FW_CFG_FILE_FIRST);
	assert_string_equal((const char *)d + 12, "etc/aaa");
	assert_int_equal(be32(d + 68), 3);
	assert_int_equal(d[72] << 8 | d[73], FW_CFG_FILE_FIRST + 1);
	assert_string_equal((const char *)d + 76, "opt/zzz");
	assert_int_equal(fw_cfg_file_select(&fc, "opt/zzz"), FW_CFG_FILE_FIRST + 1);
	assert_int_equal(fw_cfg_file_select(&fc, "nope"), -1);
	d = dma_read(FW_CFG_FILE_FIRST, 300);
	assert_int_equal(d[0], 0xab);
	assert_int_equal(d[299], 0xab);
	/* numbered items the device owns cannot be replaced */
	assert_int_equal(fw_cfg_add_item(&fc, FW_CFG_SIGNATURE, "XXXX", 4), -EINVAL);
	assert_int_equal(fw_cfg_add_item(&fc, FW_CFG_FILE_DIR, "", 0), -EINVAL);
	assert_int_equal(fw_cfg_add_item(&fc, FW_CFG_FILE_FIRST, "", 0), -EINVAL);
	assert_int_equal(fw_cfg_add_item(&fc, FW_CFG_ARCH_LOCAL + FW_CFG_ARCH_SLOTS, "", 0), -EINVAL);
}

static void test_dma_partial_skip_and_port_trigger(void **state)
{
	uint8_t b[4];
	(void)state;
	assert_int_equal(fw_cfg_add_item(&fc, FW_CFG_KERNEL_CMDLINE, "abcdefgh", 8), 0);
	/* select + read 3, then (no select) skip 2, read past the end: zeros */
	memset(ram + 0x8000, 0xee, 16);
	dma_req(0x1000, FW_CFG_KERNEL_CMDLINE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 3, 0x8000);
	assert_int_equal(fw_cfg_dma(&fc, 0x1000), 0);
	assert_memory_equal(ram + 0x8000, "abc", 3);
	assert_int_equal(ram[0x8003], 0xee);
	dma_req(0x1000, FW_CFG_DMA_CTL_SKIP, 2, 0);
	assert_int_equal(fw_cfg_dma(&fc, 0x1000), 0);
	dma_req(0x1000, FW_CFG_DMA_CTL_READ, 6, 0x8000);
	assert_int_equal(fw_cfg_dma(&fc, 0x1000), 0);
	assert_memory_equal(ram + 0x8000, "fgh\0\0\0", 6);
	/* the same transfer through the port: high half at 0x514, low half at 0x518 */
	dma_req(0x10000, FW_CFG_KERNEL_CMDLINE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 8, 0x9000);
	put_be32(b, 0);
	fw_cfg_io(&fc, FW_CFG_PORT_DMA, b, 4, true);
	put_be32(b, 0x10000);
	fw_cfg_io(&fc, FW_CFG_PORT_DMA + 4, b, 4, true);
	assert_memory_equal(ram + 0x9000, "abcdefgh", 8);
	assert_int_equal(be32(ram + 0x10000), 0);
	/* an access structure in high RAM (above 4 GiB) */
	dma_req((1ull << 32) + 0x100, FW_CFG_KERNEL_CMDLINE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 2,
		(1ull << 32) + 0x200);
	put_be32(b, 1);
	fw_cfg_io(&fc, FW_CFG_PORT_DMA, b, 4, true);
	put_be32(b, 0x100);
	fw_cfg_io(&fc, FW_CFG_PORT_DMA + 4, b, 4, true);
	assert_memory_equal(ram + RAM + 0x200, "ab", 2);
}

/* Hostile requests: error bit, nothing outside RAM touched, device usable. */
static void test_dma_hostile(void **state)
{
	const uint32_t sel_read = FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
	uint64_t errors = fc.dma_errors;
	(void)state;
	/* destination beyond RAM, in the hole, across the end of low RAM,
	 * across the end of high RAM, wrapping around 2^64, length 4 GiB - 1 */
	const uint64_t bad_dst[][2] = {
		{ 0x200000000ull, 4 }, { 0xc0000000ull, 4 }, { RAM - 2, 4 },
		{ (1ull << 32) + HIGH - 1, 4 }, { 0xfffffffffffffffeull, 4 }, { 0x8000, 0xffffffffu },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad_dst); i++) {
		ram[RAM - 2] = ram[RAM - 1] = 0x5a;
		dma_req(0x1000, sel_read, (uint32_t)bad_dst[i][1], bad_dst[i][0]);
		assert_int_equal(fw_cfg_dma(&fc, 0x1000), FW_CFG_DMA_CTL_ERROR);
		assert_int_equal(be32(ram + 0x1000), FW_CFG_DMA_CTL_ERROR);
		assert_int_equal(ram[RAM - 2], 0x5a); /* no partial write */
	}
	/* the access structure itself outside RAM or straddling its end:
	 * an error, nothing written anywhere */
	assert_int_equal(fw_cfg_dma(&fc, 0xfee00000ull), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(fw_cfg_dma(&fc, RAM - 8), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(fw_cfg_dma(&fc, UINT64_MAX - 4), FW_CFG_DMA_CTL_ERROR);
	/* writes: to a read-only item, to an unknown selector, to a file */
	memcpy(ram + 0x8000, "EVIL", 4);
	dma_req(0x1000, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4, 0x8000);
	assert_int_equal(fw_cfg_dma(&fc, 0x1000), FW_CFG_DMA_CTL_ERROR);
	dma_req(0x1000, 0x3fffu << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4, 0x8000);
	assert_int_equal(fw_cfg_dma(&fc, 0x1000), FW_CFG_DMA_CTL_ERROR);
	dma_req(0x1000, (FW_CFG_FILE_FIRST | FW_CFG_WRITE_CHANNEL) << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE,
		4, 0x8000);
	assert_int_equal(fw_cfg_dma(&fc, 0x1000), FW_CFG_DMA_CTL_ERROR);
	/* an unknown selector reads as zeros (QEMU's behaviour: OVMF stops
	 * dead on an error), its write is an error */
	memset(ram + 0x8000, 0xff, 8);
	dma_req(0x1000, 0x1234u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 8, 0x8000);
	assert_int_equal(fw_cfg_dma(&fc, 0x1000), 0);
	assert_memory_equal(ram + 0x8000, "\0\0\0\0\0\0\0\0", 8);
	dma_req(0x1000, 0xffffu << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 8, 0x8000);
	assert_int_equal(fw_cfg_dma(&fc, 0x1000), 0);
	/* no operation bit: nothing happens, no error */
	dma_req(0x1000, 0, 100, 0x200000000ull);
	assert_int_equal(fw_cfg_dma(&fc, 0x1000), 0);
	/* port: 2-byte and 1-byte accesses to the DMA register start nothing */
	uint8_t b[4] = { 0, 0, 0x10, 0 };
	dma_req(0x1000, sel_read, 4, 0x200000000ull);
	fw_cfg_io(&fc, FW_CFG_PORT_DMA + 4, b, 2, true);
	fw_cfg_io(&fc, FW_CFG_PORT_DMA + 7, b, 1, true);
	assert_int_equal(be32(ram + 0x1000), sel_read); /* untouched */
	assert_true(fc.dma_errors >= errors + 12);
	/* still works */
	assert_memory_equal(dma_read(FW_CFG_SIGNATURE, 4), "QEMU", 4);
}

static uint8_t *kernel;
static size_t kernel_len;

static void test_boot_items(void **state)
{
	static const uint8_t initrd[5000] = { [0] = 0x1f, [4999] = 0x8b };
	const char *cmd = "console=ttyS0 panic=-1";
	struct guest_mem big = { .host = ram, .size = 6ull << 30, .low_size = 3ull << 30 }; /* only the numbers are used */
	struct fw_cfg f;
	const struct fw_cfg_blob *b;
	(void)state;
	assert_int_equal(file_read(KERNEL, 64u << 20, &kernel, &kernel_len), 0);
	assert_int_equal(fw_cfg_init(&f, &big), 0);
	const struct fw_cfg_boot in = { kernel, kernel_len, KERNEL, initrd, sizeof(initrd), cmd, 2 };
	assert_int_equal(fw_cfg_boot_items(&f, &big, &in), 0);

	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_NB_CPUS));
	assert_int_equal(b->len, 2);
	assert_int_equal(le16(b->data), 2);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_MAX_CPUS));
	assert_int_equal(le16(b->data), 2);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_RAM_SIZE));
	assert_int_equal(b->len, 8);
	assert_int_equal(le64(b->data), 6ull << 30);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_X86_IRQ0_OVERRIDE));
	assert_int_equal(le32(b->data), 1);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_BOOT_MENU));
	assert_int_equal(le16(b->data), 0);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_UUID));
	assert_int_equal(b->len, 16);
	assert_memory_equal(b->data, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_NOGRAPHIC));
	assert_int_equal(b->len, 2);
	assert_int_equal(le16(b->data), 1);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_NUMA)); /* le64 node count 0, no arrays */
	assert_int_equal(b->len, 8);
	assert_int_equal(le64(b->data), 0);
	/* numbered items a firmware boot does not set read as absent */
	assert_null(fw_cfg_lookup(&f, FW_CFG_MACHINE_ID));
	assert_null(fw_cfg_lookup(&f, FW_CFG_KERNEL_ENTRY));
	assert_null(fw_cfg_lookup(&f, FW_CFG_BOOT_DEVICE));

	/* etc/e820: {le64 addr, le64 len, le32 type} for low and high RAM */
	assert_non_null(b = fw_cfg_lookup(&f, (uint16_t)fw_cfg_file_select(&f, "etc/e820")));
	assert_int_equal(b->len, 40);
	assert_int_equal(le64(b->data), 0);
	assert_int_equal(le64(b->data + 8), 3ull << 30);
	assert_int_equal(le32(b->data + 16), 1);
	assert_int_equal(le64(b->data + 20), 1ull << 32);
	assert_int_equal(le64(b->data + 28), 3ull << 30);
	assert_int_equal(le32(b->data + 36), 1);

	/* setup + kernel = the bzImage; setup carries the loader fields */
	size_t setup_len = (size_t)(kernel[0x1f1] + 1) * 512;
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_SETUP_SIZE));
	assert_int_equal(le32(b->data), setup_len);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_SETUP_ADDR));
	assert_int_equal(le32(b->data), 0x10000);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_SETUP_DATA));
	assert_int_equal(b->len, setup_len);
	assert_memory_equal(b->data, kernel, 0x210);
	assert_int_equal(b->data[0x210], 0xb0);
	assert_int_equal(b->data[0x211], kernel[0x211] | 0x80);
	assert_int_equal(le32(b->data + 0x228), 0x20000);
	assert_int_equal(le32(b->data + 0x21c), sizeof(initrd));
	uint32_t initrd_addr = le32(b->data + 0x218);
	assert_memory_equal(b->data + 0x230, kernel + 0x230, setup_len - 0x230);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_KERNEL_SIZE));
	assert_int_equal(le32(b->data), kernel_len - setup_len);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_KERNEL_ADDR));
	assert_int_equal(le32(b->data), 0x100000);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_KERNEL_DATA));
	assert_int_equal(b->len, kernel_len - setup_len);
	assert_memory_equal(b->data, kernel + setup_len, b->len);
	/* initrd: page aligned, below initrd_addr_max and the ACPI reserve */
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_INITRD_ADDR));
	assert_int_equal(le32(b->data), initrd_addr);
	assert_int_equal(initrd_addr & 0xfff, 0);
	assert_true(initrd_addr + sizeof(initrd) <= 0x7fffffffu);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_INITRD_SIZE));
	assert_int_equal(le32(b->data), sizeof(initrd));
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_INITRD_DATA));
	assert_memory_equal(b->data, initrd, sizeof(initrd));
	/* command line with its NUL */
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_CMDLINE_SIZE));
	assert_int_equal(le32(b->data), strlen(cmd) + 1);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_CMDLINE_DATA));
	assert_int_equal(b->len, strlen(cmd) + 1);
	assert_string_equal((const char *)b->data, cmd);
	assert_non_null(b = fw_cfg_lookup(&f, FW_CFG_CMDLINE_ADDR));
	assert_int_equal(le32(b->data), 0x20000);
	fw_cfg_destroy(&f);

	/* bad input: one-line errors, no items half made */
	assert_int_equal(fw_cfg_init(&f, &big), 0);
	const struct fw_cfg_boot junk = { (const uint8_t *)"MZ not a kernel", 15, "junk", NULL, 0, NULL, 1 };
	assert_int_not_equal(fw_cfg_boot_items(&f, &big, &junk), 0);
	/* an initrd larger than low RAM allows: named, refused */
	struct guest_mem tiny = { .host = ram, .size = 64u << 10, .low_size = 64u << 10 };
	const struct fw_cfg_boot big_initrd = { kernel, kernel_len, KERNEL, initrd, sizeof(initrd), NULL, 1 };
	struct fw_cfg f2;
	assert_int_equal(fw_cfg_init(&f2, &tiny), 0);
	assert_int_equal(fw_cfg_boot_items(&f2, &tiny, &big_initrd), -EFBIG);
	assert_non_null(strstr(err_msg(), "initrd"));
	fw_cfg_destroy(&f2);
	const struct fw_cfg_boot nocpu = { NULL, 0, NULL, NULL, 0, NULL, 0 };
	assert_int_equal(fw_cfg_boot_items(&f, &big, &nocpu), -EINVAL);
	fw_cfg_destroy(&f);
	free(kernel);
}

/* OVMF's AcpiPlatformDxe, as a model: allocate each file, patch pointers,
 * fix checksums; then follow RSDP -> XSDT -> tables -> DSDT. */
static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_acpi_table_loader(void **state)
{
	struct fw_cfg f;
	const struct fw_cfg_blob *loader, *rsdp_f, *tables_f;
	static uint8_t space[0x20000]; /* "guest memory": rsdp at 0x100, tables at 0x1000 */
	const uint64_t base = 0x40000000;
	(void)state;
	assert_int_equal(fw_cfg_init(&f, &mem), 0);
	assert_int_equal(fw_cfg_add_acpi(&f, 2), 0);
	assert_non_null(loader = fw_cfg_lookup(&f, (uint16_t)fw_cfg_file_select(&f, "etc/table-loader")));
	assert_non_null(rsdp_f = fw_cfg_lookup(&f, (uint16_t)fw_cfg_file_select(&f, "etc/acpi/rsdp")));
	assert_non_null(tables_f = fw_cfg_lookup(&f, (uint16_t)fw_cfg_file_select(&f, "etc/acpi/tables")));
	assert_int_equal(rsdp_f->len, 36);
	assert_int_equal(loader->len % FW_CFG_LOADER_ENTRY, 0);
	assert_true(tables_f->len + 0x1000 <= sizeof(space));
	memset(space, 0, sizeof(space));
	unsigned allocs = 0, pointers = 0, sums = 0;
	for (uint32_t o = 0; o < loader->len; o += FW_CFG_LOADER_ENTRY) {
		const uint8_t *c = loader->data + o;
		const char *file = (const char *)c + 4;
		uint32_t type = le32(c);
		uint64_t at = !strcmp(file, "etc/acpi/rsdp") ? 0x100 : 0x1000;

		assert_true(!strcmp(file, "etc/acpi/rsdp") || !strcmp(file, "etc/acpi/tables"));
		if (type == FW_CFG_LOADER_ALLOCATE) {
			const struct fw_cfg_blob *b = at == 0x100 ? rsdp_f : tables_f;
			uint32_t align = le32(c + 60);
			assert_true(align && !(align & (align - 1)) && align <= 4096);
			assert_int_equal(c[64], at == 0x100 ? FW_CFG_LOADER_ZONE_FSEG : FW_CFG_LOADER_ZONE_HIGH);
			memcpy(space + at, b->data, b->len);
			allocs++;
		} else if (type == FW_CFG_LOADER_ADD_POINTER) {
			const char *pointee = (const char *)c + 60;
			uint32_t off = le32(c + 116);
			assert_string_equal(pointee, "etc/acpi/tables");
			assert_int_equal(c[120], 8);
			assert_int_equal(allocs, 2); /* pointers after both allocations */
			assert_true(le64(space + at + off) < tables_f->len);
			put_le64(space + at + off, le64(space + at + off) + base + 0x1000);
			pointers++;
		} else {
			assert_int_equal(type, FW_CFG_LOADER_ADD_CHECKSUM);
			uint32_t result = le32(c + 60), start = le32(c + 64), len = le32(c + 68);
			uint32_t flen = at == 0x100 ? rsdp_f->len : tables_f->len;
			assert_true(result < flen && range_ok(start, len, flen));
			assert_int_equal(space[at + result], 0); /* the loader sums with the byte at 0 */
			space[at + result] = (uint8_t)-sum8(space + at + start, len);
			sums++;
		}
	}
	assert_int_equal(allocs, 2);
	assert_int_equal(pointers, 4); /* RSDP->XSDT, XSDT->FADT, XSDT->MADT, FADT->DSDT */
	assert_int_equal(sums, 6);     /* XSDT, FADT, MADT, DSDT, RSDP x2 */
	/* follow the patched pointers */
	const uint8_t *r = space + 0x100;
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum8(r, 20), 0);
	assert_int_equal(sum8(r, 36), 0);
	const uint8_t *x = space + (le64(r + 24) - base);
	assert_memory_equal(x, "XSDT", 4);
	assert_int_equal(sum8(x, le32(x + 4)), 0);
	assert_int_equal(le32(x + 4), 36 + 16);
	bool fadt = false, madt = false;
	for (int i = 0; i < 2; i++) {
		const uint8_t *t = space + (le64(x + 36 + 8 * i) - base);
		assert_int_equal(sum8(t, le32(t + 4)), 0);
		if (!memcmp(t, "FACP", 4)) {
			fadt = true;
			const uint8_t *d = space + (le64(t + 140) - base);
			assert_memory_equal(d, "DSDT", 4);
			assert_int_equal(sum8(d, le32(d + 4)), 0);
			assert_int_equal(t[244], 1); /* sleep control register: system I/O */
			assert_int_equal(le64(t + 248), ACPI_SLEEP_PORT);
		} else if (!memcmp(t, "APIC", 4)) {
			madt = true;
			assert_int_equal(le32(t + 4), 36 + 8 + 2 * 8 + 12 + 6); /* two local APICs */
		}
	}
	assert_true(fadt && madt);
	fw_cfg_destroy(&f);
}

/* The firmware boot plan: one step, the whole image, ending at 4 GiB; the
 * ROM the guest sees holds exactly the plan's bytes. */
static void test_firmware_plan(void **state)
{
	struct fw_boot *fb;
	struct launch_plan plan;
	uint8_t *file;
	size_t len;
	(void)state;
	assert_int_equal(file_read(OVMF, 64u << 20, &file, &len), 0);
	assert_int_equal(vmm_firmware_read(OVMF, &fb), 0);
	assert_int_equal(vmm_firmware_plan(fb, &plan), 0);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.steps[0].gpa, (1ull << 32) - len);
	assert_int_equal(plan.steps[0].len, len);
	assert_int_equal(plan.steps[0].kind, PLAN_NORMAL);
	assert_string_equal(plan.steps[0].label, "firmware");
	assert_int_equal(vmm_firmware_rom_fill(fb, &plan), 0);
	assert_ptr_equal(plan.steps[0].data, fb->rom);
	assert_memory_equal(fb->rom, file, len);
	/* the image ends at 4 GiB: the reset vector 0xfffffff0 is its 16th-last byte */
	assert_int_equal(plan.steps[0].gpa + plan.steps[0].len, 1ull << 32);
	/* a step outside the image is refused */
	plan.steps[0].gpa -= 4096;
	assert_int_equal(vmm_firmware_rom_fill(fb, &plan), -EINVAL);
	plan_free(&plan);
	vmm_firmware_free(fb);
	free(file);
	/* 64 KiB that are no OVMF build (no footer GUID table): refused, named */
	char tmp[] = "/tmp/test_fw_cfg.XXXXXX";
	int fd = mkstemp(tmp);
	static const uint8_t zeros[65536];
	assert_true(fd >= 0);
	assert_int_equal(write(fd, zeros, sizeof(zeros)), sizeof(zeros));
	close(fd);
	assert_int_not_equal(vmm_firmware_read(tmp, &fb), 0);
	assert_non_null(strstr(err_msg(), "not an OVMF image"));
	assert_non_null(strstr(err_msg(), tmp));
	unlink(tmp);
	/* not a firmware image: named, refused */
	assert_int_not_equal(vmm_firmware_read("tests/fixtures/does-not-exist.fd", &fb), 0);
	assert_non_null(strstr(err_msg(), "does-not-exist"));
}

static uint8_t rtc_rd(struct rtc *r, uint8_t idx)
{
	uint8_t v;
	rtc_io(r, 0x70, &idx, 1, true);
	rtc_io(r, 0x71, &v, 1, false);
	return v;
}

static void test_rtc(void **state)
{
	struct rtc r;
	struct guest_mem m = { .size = 6ull << 30, .low_size = 3ull << 30 };
	uint8_t v;
	(void)state;
	rtc_init(&r, &m);
	assert_int_equal(rtc_rd(&r, 0x0d), 0x80);        /* valid RAM and time */
	assert_int_equal(rtc_rd(&r, 0x0a) & 0x80, 0);    /* no update in progress */
	assert_int_equal(rtc_rd(&r, 0x0b), 0x02);        /* 24 h, BCD */
	v = rtc_rd(&r, 0x32);                            /* century, BCD */
	assert_true(v == 0x20 || v == 0x21);
	v = rtc_rd(&r, 0x08);                            /* month 01-12 in BCD */
	assert_true(v >= 1 && v <= 0x12 && (v & 0xf) <= 9);
	v = rtc_rd(&r, 0x80 | 0x04);                     /* NMI bit ignored: hours */
	assert_true(v <= 0x23 && (v & 0xf) <= 9);
	/* memory above 16 MiB (64 KiB units) and above 4 GiB */
	assert_int_equal(rtc_rd(&r, 0x34) | rtc_rd(&r, 0x35) << 8, ((3ull << 30) - (16 << 20)) >> 16);
	assert_int_equal(rtc_rd(&r, 0x5b) | rtc_rd(&r, 0x5c) << 8 | rtc_rd(&r, 0x5d) << 16, (3ull << 30) >> 16);
	/* the clock is the host's UTC time (as gmtime_r tells it), in BCD */
	for (int tries = 0; tries < 100; tries++) {
		time_t t1 = time(NULL);
		uint8_t sec = rtc_rd(&r, 0), min = rtc_rd(&r, 2), hour = rtc_rd(&r, 4), day = rtc_rd(&r, 7);
		uint8_t mon = rtc_rd(&r, 8), year = rtc_rd(&r, 9), wday = rtc_rd(&r, 6), cent = rtc_rd(&r, 0x32);
		struct tm tm;
		if (time(NULL) != t1)
			continue; /* a second boundary passed while reading */
		gmtime_r(&t1, &tm);
#define BCD(v) ((uint8_t)(((v) / 10) << 4 | (v) % 10))
		assert_int_equal(sec, BCD(tm.tm_sec));
		assert_int_equal(min, BCD(tm.tm_min));
		assert_int_equal(hour, BCD(tm.tm_hour));
		assert_int_equal(day, BCD(tm.tm_mday));
		assert_int_equal(mon, BCD(tm.tm_mon + 1));
		assert_int_equal(year, BCD(tm.tm_year % 100));
		assert_int_equal(cent, BCD((tm.tm_year + 1900) / 100));
		assert_int_equal(wday, tm.tm_wday + 1);
		break;
	}
	/* binary mode */
	uint8_t idx = 0x0b, b = 0x06;
	rtc_io(&r, 0x70, &idx, 1, true);
	rtc_io(&r, 0x71, &b, 1, true);
	v = rtc_rd(&r, 0x08);
	assert_true(v >= 1 && v <= 12);
	/* register D cannot be cleared by the guest */
	idx = 0x0d, b = 0;
	rtc_io(&r, 0x70, &idx, 1, true);
	rtc_io(&r, 0x71, &b, 1, true);
	assert_int_equal(rtc_rd(&r, 0x0d), 0x80);
}

/* The PIIX4 PM function as OVMF programs it, the PM timer, S5. */
static void test_piix(void **state)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct piix p;
	uint8_t d[4];
	(void)state;
	assert_non_null(vm);
	pthread_mutex_init(&vm->exit_lock, NULL);
	vm->exit_status = -1;
	vm->exit_efd = eventfd(0, EFD_CLOEXEC);
	pci_bus_init(&vm->pci, vm);
	assert_int_equal(piix_init(&p, &vm->pci), 0);
	pci_cfg_read(&vm->pci, 0, 0, 0, d, 4);
	assert_int_equal(le32(d), 0x12378086u); /* i440FX: OVMF picks the PIIX4 path */
	pci_cfg_read(&vm->pci, 1, 0, 0, d, 4);
	assert_int_equal(le32(d), 0x70008086u);
	pci_cfg_read(&vm->pci, 1, 0, 0x0e, d, 1);
	assert_int_equal(d[0] & 0x80, 0x80); /* multi-function */
	pci_cfg_read(&vm->pci, 1, 3, 0, d, 4);
	assert_int_equal(le32(d), 0x71138086u);
	pci_cfg_read(&vm->pci, 1, 2, 0, d, 4);
	assert_int_equal(le32(d), 0xffffffffu); /* absent function */
	/* PlatformPei: PMBA = 0xb000, PCICMD.IOSE, PMREGMISC.PMIOSE */
	put_le32(d, 0xb000);
	pci_cfg_write(&vm->pci, 1, 3, 0x40, d, 4);
	d[0] = 1;
	pci_cfg_write(&vm->pci, 1, 3, 0x04, d, 1);
	pci_cfg_write(&vm->pci, 1, 3, 0x80, d, 1);
	pci_cfg_read(&vm->pci, 1, 3, 0x40, d, 4);
	assert_int_equal(le32(d), 0xb001);
	pci_cfg_read(&vm->pci, 1, 3, 0x80, d, 1);
	assert_int_equal(d[0], 1);
	pci_cfg_read(&vm->pci, 1, 3, 0x04, d, 1);
	assert_int_equal(d[0] & 1, 1);
	/* slot 1 is taken: the next device goes to slot 2 */
	struct pci_dev dev = { .vendor_id = 0x1af4, .device_id = 0x1041, .bar_size = { 4096 } };
	assert_int_equal(pci_bus_add(&vm->pci, &dev), 0);
	assert_int_equal(dev.slot, 2);
	assert_int_equal(pci_bus_add_fixed(&vm->pci, &dev, 1, 3), -EINVAL); /* has a BAR */
	/* PM timer: 24 bits, counting up */
	uint32_t t1, t2;
	piix_pm_io(&p, PIIX_PM_BASE + 8, d, 4, false);
	t1 = le32(d);
	usleep(2000);
	piix_pm_io(&p, PIIX_PM_BASE + 8, d, 4, false);
	t2 = le32(d);
	assert_true(t1 <= 0xffffff && t2 <= 0xffffff);
	assert_true(((t2 - t1) & 0xffffff) >= 3579545 / 1000); /* >= 1 ms of ticks */
	/* PM1a control: S3 (SLP_TYP 1) does nothing, soft-off powers off */
	put_le16(d, 1 << 10 | 1 << 13);
	piix_pm_io(&p, PIIX_PM_BASE + 4, d, 2, true);
	assert_int_equal(vm->exit_status, -1);
	put_le16(d, 0 << 10); /* SLP_TYP without SLP_EN: nothing */
	piix_pm_io(&p, PIIX_PM_BASE + 4, d, 2, true);
	assert_int_equal(vm->exit_status, -1);
	put_le16(d, 0 << 10 | 1 << 13); /* OVMF's ResetShutdown: SLP_TYP 0, SLP_EN */
	piix_pm_io(&p, PIIX_PM_BASE + 4, d, 2, true);
	assert_int_equal(vm->exit_status, VMM_EXIT_POWEROFF);
	close(vm->exit_efd);
	pthread_mutex_destroy(&vm->exit_lock);
	free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_id_ports),
		cmocka_unit_test(test_file_dir),
		cmocka_unit_test(test_dma_partial_skip_and_port_trigger),
		cmocka_unit_test(test_dma_hostile),
		cmocka_unit_test(test_boot_items),
		cmocka_unit_test(test_acpi_table_loader),
		cmocka_unit_test(test_firmware_plan),
		cmocka_unit_test(test_rtc),
		cmocka_unit_test(test_piix),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
