/* fw_cfg_acpi.c - the ACPI tables of a firmware boot, handed to the
 * firmware through fw_cfg the way QEMU does (hw/acpi/bios-linker-loader.c
 * is the reference for the command format): the tables cvmm builds for a
 * direct boot (acpi.c: XSDT, FADT, MADT, DSDT) become the file
 * etc/acpi/tables, the RSDP etc/acpi/rsdp, and etc/table-loader tells the
 * firmware to allocate both, patch every pointer between tables with the
 * address it chose and fix the checksums. OVMF's AcpiPlatformDxe then
 * installs each table a pointer leads to (not the XSDT: it makes its own).
 *
 * The tables are built for address 0, so every pointer in them holds the
 * offset of its target inside etc/acpi/tables, which is what an
 * ADD_POINTER command expects. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "vmm/fw_cfg.h"
#include "vmm/vmm_core.h"

#define RSDP_FILE "etc/acpi/rsdp"
#define TABLES_FILE "etc/acpi/tables"
#define LOADER_FILE "etc/table-loader"
#define RSDP_LEN 36
#define HDR_LEN 36
#define FADT_X_DSDT 140
#define MAX_CMDS 32

struct loader {
	uint8_t cmd[MAX_CMDS][FW_CFG_LOADER_ENTRY];
	unsigned n;
};

static uint8_t *next_cmd(struct loader *l, uint32_t type)
{
	uint8_t *c = l->n < MAX_CMDS ? l->cmd[l->n++] : NULL;
	if (c) {
		memset(c, 0, FW_CFG_LOADER_ENTRY);
		put_le32(c, type);
	}
	return c;
}

static int allocate(struct loader *l, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *c = next_cmd(l, FW_CFG_LOADER_ALLOCATE);
	if (!c)
		return err_set(ENOSPC, "table-loader: too many commands");
	memcpy(c + 4, file, strlen(file));
	put_le32(c + 4 + FW_CFG_MAX_FILE_PATH, align);
	c[4 + FW_CFG_MAX_FILE_PATH + 4] = zone;
	return 0;
}

static int add_pointer(struct loader *l, const char *pointer_file, const char *pointee_file, uint32_t off,
		       uint8_t size)
{
	uint8_t *c = next_cmd(l, FW_CFG_LOADER_ADD_POINTER);
	if (!c)
		return err_set(ENOSPC, "table-loader: too many commands");
	memcpy(c + 4, pointer_file, strlen(pointer_file));
	memcpy(c + 4 + FW_CFG_MAX_FILE_PATH, pointee_file, strlen(pointee_file));
	put_le32(c + 4 + 2 * FW_CFG_MAX_FILE_PATH, off);
	c[4 + 2 * FW_CFG_MAX_FILE_PATH + 4] = size;
	return 0;
}

/* The checksum byte at result (zeroed here) covers [start, start+len). */
static int add_checksum(struct loader *l, uint8_t *blob, const char *file, uint32_t result, uint32_t start,
			uint32_t len)
{
	uint8_t *c = next_cmd(l, FW_CFG_LOADER_ADD_CHECKSUM);
	if (!c)
		return err_set(ENOSPC, "table-loader: too many commands");
	blob[result] = 0;
	memcpy(c + 4, file, strlen(file));
	put_le32(c + 4 + FW_CFG_MAX_FILE_PATH, result);
	put_le32(c + 4 + FW_CFG_MAX_FILE_PATH + 4, start);
	put_le32(c + 4 + FW_CFG_MAX_FILE_PATH + 8, len);
	return 0;
}

/* A table header at off inside [0, len) (the tables come from acpi.c,
 * still: check before following them). */
static bool table_at(const uint8_t *t, size_t len, uint64_t off)
{
	return off >= RSDP_LEN && range_ok(off, HDR_LEN, len) && range_ok(off, le32(t + off + 4), len) &&
	       le32(t + off + 4) >= HDR_LEN;
}

int fw_cfg_add_acpi(struct fw_cfg *fc, unsigned vcpus)
{
	struct loader *l = calloc(1, sizeof(*l));
	uint8_t *t = malloc(BOOT_ACPI_SIZE), rsdp[RSDP_LEN];
	uint32_t sums[16];
	unsigned nsums = 0;
	uint64_t xsdt, dsdt = 0;
	size_t len;
	int rc = !l || !t ? err_set(ENOMEM, "out of memory") : 0;

	if (!rc)
		rc = vmm_acpi_build(t, BOOT_ACPI_SIZE, 0, vcpus, &len);
	if (rc)
		goto out;
	/* the RSDP goes to a file of its own; its bytes in the tables blob are unused */
	memcpy(rsdp, t, RSDP_LEN);
	memset(t, 0, RSDP_LEN);
	xsdt = le64(rsdp + 24);
	if (!table_at(t, len, xsdt) || memcmp(t + xsdt, "XSDT", 4)) {
		rc = err_set(EINVAL, "ACPI: no XSDT behind the RSDP");
		goto out;
	}
	rc = allocate(l, RSDP_FILE, 16, FW_CFG_LOADER_ZONE_FSEG);
	if (!rc)
		rc = allocate(l, TABLES_FILE, 64, FW_CFG_LOADER_ZONE_HIGH);
	if (!rc)
		rc = add_pointer(l, RSDP_FILE, TABLES_FILE, 24, 8);
	sums[nsums++] = (uint32_t)xsdt;
	for (uint32_t e = HDR_LEN; !rc && e + 8 <= le32(t + xsdt + 4); e += 8) {
		uint64_t tab = le64(t + xsdt + e);

		if (!table_at(t, len, tab) || nsums + 2 > ARRAY_SIZE(sums)) {
			rc = err_set(EINVAL, "ACPI: XSDT entry %u is not a table", (e - HDR_LEN) / 8);
			break;
		}
		rc = add_pointer(l, TABLES_FILE, TABLES_FILE, (uint32_t)(xsdt + e), 8);
		sums[nsums++] = (uint32_t)tab;
		if (!rc && !memcmp(t + tab, "FACP", 4) && le32(t + tab + 4) >= FADT_X_DSDT + 8) {
			dsdt = le64(t + tab + FADT_X_DSDT);
			if (!table_at(t, len, dsdt)) {
				rc = err_set(EINVAL, "ACPI: the FADT's X_DSDT is not a table");
				break;
			}
			rc = add_pointer(l, TABLES_FILE, TABLES_FILE, (uint32_t)(tab + FADT_X_DSDT), 8);
			sums[nsums++] = (uint32_t)dsdt;
		}
	}
	if (!rc && !dsdt)
		rc = err_set(EINVAL, "ACPI: no FADT with a DSDT in the XSDT");
	/* checksums after every pointer is patched */
	for (unsigned i = 0; !rc && i < nsums; i++)
		rc = add_checksum(l, t, TABLES_FILE, sums[i] + 9, sums[i], le32(t + sums[i] + 4));
	if (!rc)
		rc = add_checksum(l, rsdp, RSDP_FILE, 8, 0, 20);
	if (!rc)
		rc = add_checksum(l, rsdp, RSDP_FILE, 32, 0, RSDP_LEN);
	if (!rc)
		rc = fw_cfg_add_file(fc, RSDP_FILE, rsdp, RSDP_LEN);
	if (!rc)
		rc = fw_cfg_add_file(fc, TABLES_FILE, t, len);
	if (!rc)
		rc = fw_cfg_add_file(fc, LOADER_FILE, l->cmd, (size_t)l->n * FW_CFG_LOADER_ENTRY);
out:
	free(l);
	free(t);
	return rc;
}
