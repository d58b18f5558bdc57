/* libFuzzer target: the fw_cfg DMA request path (vmm/fw_cfg.c) as a
 * hostile guest drives it. The input is the initial content of a small
 * guest RAM (16 KiB below 4 GiB, 16 KiB above) followed by a program of
 * 9-byte operations: [0] op, [1..8] little-endian value:
 *   0 select (port 0x510)      1 read the data port (value % 16 bytes)
 *   2 DMA high half (0x514)    3 DMA low half (0x518): starts a transfer
 *   4 a transfer at the value  5 write the value as a FWCfgDmaAccess
 *                                 (be32 control, be32 length, be64 address
 *                                 from the value's bytes) at value & 0x3ff0
 *   6 an 8-byte DMA write      7 read the DMA register
 * The device holds the items of a firmware boot (numbered items, files,
 * ACPI tables and the table loader). ASan checks every copy stays inside
 * RAM; the control word written back is only ever 0 or the error bit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "vmm/fw_cfg.h"

#define LOW (16u << 10)
#define HIGH (16u << 10)
#define OP 9

static struct fw_cfg fc;
static uint8_t *ram;
static struct guest_mem mem;

static void init_once(void)
{
	static const char cmd[] = "console=ttyS0 panic=-1";
	uint8_t blob[300];

	ram = malloc(LOW + HIGH);
	if (!ram)
		abort();
	mem = (struct guest_mem){ .host = ram, .size = LOW + HIGH, .low_size = LOW };
	memset(blob, 0x5a, sizeof(blob));
	if (fw_cfg_init(&fc, &mem) || fw_cfg_add_le16(&fc, FW_CFG_NB_CPUS, 2) ||
	    fw_cfg_add_item(&fc, FW_CFG_CMDLINE_DATA, cmd, sizeof(cmd)) ||
	    fw_cfg_add_item(&fc, FW_CFG_KERNEL_DATA, blob, sizeof(blob)) ||
	    fw_cfg_add_le32(&fc, FW_CFG_X86_IRQ0_OVERRIDE, 1) || fw_cfg_add_e820(&fc, &mem) ||
	    fw_cfg_add_acpi(&fc, 2) || fw_cfg_add_file(&fc, "opt/empty", "", 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t img = size < LOW + HIGH ? size : LOW + HIGH;

	if (!ram)
		init_once();
	memset(ram, 0, LOW + HIGH);
	memcpy(ram, data, img);
	fc.cur = NULL;
	fc.off = 0;
	fc.dma_addr = 0;
	/* the program follows the RAM image; with a short input, the input is both */
	const uint8_t *p = size > LOW + HIGH ? data + LOW + HIGH : data;
	size_t n = (size > LOW + HIGH ? size - LOW - HIGH : size) / OP;
	for (size_t i = 0; i < n && i < 256; i++, p += OP) {
		uint64_t v = le64(p + 1);
		uint8_t b[16];

		switch (p[0] % 8) {
		case 0:
			put_le16(b, (uint16_t)v);
			fw_cfg_io(&fc, FW_CFG_PORT_SEL, b, 2, true);
			break;
		case 1:
			fw_cfg_io(&fc, FW_CFG_PORT_DATA, b, (unsigned)(v % 16) + 1, false);
			break;
		case 2:
		case 3:
			memcpy(b, p + 1, 4);
			fw_cfg_io(&fc, (uint16_t)(FW_CFG_PORT_DMA + (p[0] % 8 == 3 ? 4 : 0)), b, 4, true);
			break;
		case 4: {
			uint32_t r = fw_cfg_dma(&fc, v % 2 ? v : (v & 0x3fff) + (v & 0x4000 ? (1ull << 32) : 0));
			if (r != 0 && r != FW_CFG_DMA_CTL_ERROR)
				abort();
			break;
		}
		case 5: {
			/* a request aimed at RAM mostly, sometimes anywhere */
			uint8_t *a = ram + (v & 0x3ff0);
			uint32_t len = (uint32_t)(v >> 16) & 0x7fff;
			uint64_t addr = v & (1ull << 63) ? v >> 8 : (v >> 20) & 0x7fff;
			a[0] = 0;
			a[1] = (uint8_t)(v >> 56);
			a[2] = 0;
			a[3] = (uint8_t)(1u << ((v >> 14) % 5)); /* one of ERROR, READ, SKIP, SELECT, WRITE */
			if (v & 0x8)
				a[3] |= 0x0a; /* select + read */
			for (int k = 0; k < 4; k++)
				a[4 + k] = (uint8_t)(len >> (24 - 8 * k));
			for (int k = 0; k < 8; k++)
				a[8 + k] = (uint8_t)(addr >> (56 - 8 * k));
			break;
		}
		case 6:
			memcpy(b, p + 1, 8);
			fw_cfg_io(&fc, FW_CFG_PORT_DMA, b, 8, true);
			break;
		default:
			fw_cfg_io(&fc, (uint16_t)(FW_CFG_PORT_DMA + (v & 7)), b, 1 + (unsigned)(v % 8), false);
			break;
		}
	}
	return 0;
}
