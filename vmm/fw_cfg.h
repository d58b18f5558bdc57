/* fw_cfg.h - internal to vmm/: the QEMU firmware configuration device
 * (fw_cfg) that OVMF reads when cvmm boots a firmware image
 * (docs/firmware.md), and the items of a firmware boot.
 *
 * Interface (as QEMU's docs/specs/fw_cfg.rst describes it, x86 ports):
 *   0x510  selector (16-bit write)
 *   0x511  data (byte reads at the current offset of the selected item)
 *   0x514  DMA: a 32-bit write of the high half of the guest address of a
 *          FWCfgDmaAccess {be32 control, be32 length, be64 address} at 0x514,
 *          of the low half at 0x518 starts the transfer; reads give the
 *          signature "QEMU CFG".
 * Items are numbered (0x0000-0x001f, arch-local 0x8000-) or named files
 * (selectors from 0x0020, listed by the big-endian directory at 0x0019). */
#ifndef CVMM_VMM_FW_CFG_H
#define CVMM_VMM_FW_CFG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/vm.h"

#define FW_CFG_PORT_SEL  0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA  0x514

/* numbered items */
#define FW_CFG_SIGNATURE     0x00 /* "QEMU" */
#define FW_CFG_ID            0x01 /* le32 feature bits */
#define FW_CFG_UUID          0x02 /* 16 bytes */
#define FW_CFG_RAM_SIZE      0x03 /* le64 */
#define FW_CFG_NOGRAPHIC     0x04 /* le16 */
#define FW_CFG_NB_CPUS       0x05 /* le16 boot CPUs */
#define FW_CFG_MACHINE_ID    0x06
#define FW_CFG_KERNEL_ADDR   0x07 /* le32 */
#define FW_CFG_KERNEL_SIZE   0x08 /* le32 */
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR   0x0a /* le32 */
#define FW_CFG_INITRD_SIZE   0x0b /* le32 */
#define FW_CFG_BOOT_DEVICE   0x0c /* le16 */
#define FW_CFG_NUMA          0x0d /* le64 node count, then arrays */
#define FW_CFG_BOOT_MENU     0x0e /* le16 */
#define FW_CFG_MAX_CPUS      0x0f /* le16 possible CPUs */
#define FW_CFG_KERNEL_ENTRY  0x10 /* le32 */
#define FW_CFG_KERNEL_DATA   0x11
#define FW_CFG_INITRD_DATA   0x12
#define FW_CFG_CMDLINE_ADDR  0x13 /* le32 */
#define FW_CFG_CMDLINE_SIZE  0x14 /* le32, with the NUL */
#define FW_CFG_CMDLINE_DATA  0x15
#define FW_CFG_SETUP_ADDR    0x16 /* le32 */
#define FW_CFG_SETUP_SIZE    0x17 /* le32 */
#define FW_CFG_SETUP_DATA    0x18
#define FW_CFG_FILE_DIR      0x19
#define FW_CFG_FILE_FIRST    0x20
#define FW_CFG_FILE_SLOTS    64
#define FW_CFG_WRITE_CHANNEL 0x4000
#define FW_CFG_ARCH_LOCAL    0x8000
#define FW_CFG_ARCH_SLOTS    8
#define FW_CFG_X86_IRQ0_OVERRIDE (FW_CFG_ARCH_LOCAL + 2) /* le32 */
#define FW_CFG_MAX_FILE_PATH 56

/* FW_CFG_ID feature bits */
#define FW_CFG_F_TRADITIONAL 0x1u
#define FW_CFG_F_DMA         0x2u
/* FWCfgDmaAccess control bits */
#define FW_CFG_DMA_CTL_ERROR  0x01u
#define FW_CFG_DMA_CTL_READ   0x02u
#define FW_CFG_DMA_CTL_SKIP   0x04u
#define FW_CFG_DMA_CTL_SELECT 0x08u
#define FW_CFG_DMA_CTL_WRITE  0x10u
#define FW_CFG_DMA_SIGNATURE  0x51454d5520434647ull /* "QEMU CFG", big-endian */

struct fw_cfg_blob {
	uint8_t *data; /* owned */
	uint32_t len;
};

struct fw_cfg {
	pthread_mutex_t lock;
	const struct guest_mem *mem;      /* where DMA transfers go */
	struct fw_cfg_blob item[FW_CFG_FILE_FIRST];
	struct fw_cfg_blob arch[FW_CFG_ARCH_SLOTS];
	struct fw_cfg_blob file[FW_CFG_FILE_SLOTS]; /* sorted by name */
	char name[FW_CFG_FILE_SLOTS][FW_CFG_MAX_FILE_PATH];
	unsigned nfiles;
	/* guest-visible state */
	const struct fw_cfg_blob *cur;    /* NULL: invalid selector */
	uint32_t off;
	uint64_t dma_addr;
	/* counters for tests and the debug log */
	uint64_t dma_errors;
	int debug_fd;                     /* >= 0: one line per selector (CVMM_DEBUG_FIRMWARE) */
};

/* A device with the signature, ID (traditional + DMA) and an empty file
 * directory; DMA reads and writes guest memory mem. */
int fw_cfg_init(struct fw_cfg *fc, const struct guest_mem *mem);
void fw_cfg_destroy(struct fw_cfg *fc);
/* Numbered (or arch-local) item: the bytes are copied. Replaces an item
 * already there; FW_CFG_SIGNATURE, FW_CFG_ID and FW_CFG_FILE_DIR are the
 * device's own. */
int fw_cfg_add_item(struct fw_cfg *fc, uint16_t key, const void *data, size_t len);
int fw_cfg_add_le16(struct fw_cfg *fc, uint16_t key, uint16_t v);
int fw_cfg_add_le32(struct fw_cfg *fc, uint16_t key, uint32_t v);
int fw_cfg_add_le64(struct fw_cfg *fc, uint16_t key, uint64_t v);
/* Named file (name < 56 bytes, unique), bytes copied; the directory stays
 * sorted by name and selectors follow that order (as QEMU's). */
int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, size_t len);
/* The selector of a named file, or -1. */
int fw_cfg_file_select(const struct fw_cfg *fc, const char *name);
/* The item behind a selector as the guest would see it (NULL if none). */
const struct fw_cfg_blob *fw_cfg_lookup(const struct fw_cfg *fc, uint16_t key);

/* Port I/O (pio_fn): 0x510-0x511 and 0x514-0x51b. */
void fw_cfg_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write);
/* One DMA request whose FWCfgDmaAccess is at guest address access (what a
 * write of the low half to 0x518 does). Returns the control word written
 * back: 0 or FW_CFG_DMA_CTL_ERROR (also when the access structure itself
 * is not in RAM, where nothing can be written back). */
uint32_t fw_cfg_dma(struct fw_cfg *fc, uint64_t access);

/* ---- the items of a firmware boot (fw_cfg_items.c, fw_cfg_acpi.c) ---- */
struct fw_cfg_boot {
	const uint8_t *kernel;   /* bzImage, may be NULL (no kernel items) */
	size_t kernel_len;
	const char *kernel_path; /* for messages */
	const uint8_t *initrd;
	size_t initrd_len;
	const char *cmdline;     /* may be NULL */
	unsigned vcpus;
};
/* QEMU's x86 set: RAM size, CPU counts, etc/e820 (RAM of m), the Linux
 * kernel items (setup/kernel/initrd/cmdline), boot menu, "bootorder",
 * NUMA (none), IRQ0 override, and the ACPI tables with the table loader. */
int fw_cfg_boot_items(struct fw_cfg *fc, const struct guest_mem *m, const struct fw_cfg_boot *b);
/* etc/e820: {le64 address, le64 length, le32 type} per RAM range of m. */
int fw_cfg_add_e820(struct fw_cfg *fc, const struct guest_mem *m);
/* etc/acpi/rsdp, etc/acpi/tables (vmm_acpi_build's tables, relocatable)
 * and etc/table-loader (ALLOCATE, ADD_POINTER, ADD_CHECKSUM commands). */
int fw_cfg_add_acpi(struct fw_cfg *fc, unsigned vcpus);

/* table-loader commands (QEMU hw/acpi/bios-linker-loader.c), 128 bytes each */
#define FW_CFG_LOADER_ENTRY   128
#define FW_CFG_LOADER_ALLOCATE 1
#define FW_CFG_LOADER_ADD_POINTER 2
#define FW_CFG_LOADER_ADD_CHECKSUM 3
#define FW_CFG_LOADER_ZONE_HIGH 1
#define FW_CFG_LOADER_ZONE_FSEG 2

#endif
