/* Firmware image loading and the OVMF footer GUID table.
 *
 * Layout (OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm, also read by QEMU's
 * pc_system_ovmf_table_find): the last 32 bytes of the image hold the reset
 * vector; just before them sits the footer entry {u16 table_size, GUID
 * 96b582de-...}. table_size covers every entry including the footer. Entries
 * are read backwards: each is {data[len-18], u16 len, GUID}. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "firmware.h"

/* One page: enough for the footer table and SEV metadata (sev-snp-measure's
 * fixtures keep only the last 4 KiB of OVMF, next to a precomputed
 * --snp-ovmf-hash). What a measurement needs is checked where it is read. */
#define FW_MIN_SIZE  4096u
#define FW_MAX_SIZE  (64u << 20)
#define ENTRY_HDR    18u            /* u16 length + GUID */
#define FOOTER_OFF(sz) ((sz) - 32 - ENTRY_HDR)

int guid_parse(const char *s, struct efi_guid *g)
{
	unsigned v[16];

	if (strlen(s) != 36 ||
	    sscanf(s, "%2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-%2x%2x%2x%2x%2x%2x", &v[3], &v[2], &v[1], &v[0], &v[5],
		   &v[4], &v[7], &v[6], &v[8], &v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15]) != 16)
		return err_set(EINVAL, "bad GUID '%s'", s);
	for (int i = 0; i < 16; i++)
		g->b[i] = (uint8_t)v[i];
	return 0;
}

void guid_format(const struct efi_guid *g, char out[37])
{
	const uint8_t *b = g->b;

	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[3], b[2], b[1],
		 b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int fw_from_bytes(const uint8_t *data, size_t size, const char *name, struct fw_image *fw)
{
	*fw = (struct fw_image){ .path = name, .data = (uint8_t *)data, .size = size };
	if (size < FW_MIN_SIZE)
		return err_set(EINVAL, "%s: firmware is %zu bytes, too short (at least %u, one page)", name, size, FW_MIN_SIZE);
	if (size > FW_MAX_SIZE)
		return err_set(EINVAL, "%s: firmware is %zu bytes, too large (at most %u)", name, size, FW_MAX_SIZE);
	if (size % 4096)
		return err_set(EINVAL, "%s: firmware size %zu is not a multiple of 4096 (truncated?)", name, size);
	fw->base_gpa = (1ull << 32) - size;
	return 0;
}

int fw_load(const char *path, struct fw_image *fw)
{
	uint8_t *data;
	size_t len;
	int ret = file_read_any(path, FW_MAX_SIZE, &data, &len);

	if (ret)
		return ret;
	ret = fw_from_bytes(data, len, path, fw);
	if (ret)
		free(data);
	return ret;
}

void fw_free(struct fw_image *fw)
{
	free(fw->data);
	fw->data = NULL;
}

/* Walk the table; call fn for each entry until it returns non-zero. */
static int table_walk(const struct fw_image *fw, int (*fn)(void *ctx, const uint8_t *guid, const uint8_t *d, size_t n),
		      void *ctx)
{
	struct efi_guid footer;
	size_t foot = FOOTER_OFF(fw->size), end;
	uint16_t table_size;

	guid_parse(FW_GUID_TABLE_FOOTER, &footer);
	if (memcmp(fw->data + foot + 2, footer.b, 16))
		return err_set(ENOENT, "%s: no OVMF footer GUID table (not an OVMF image?)", fw->path);
	table_size = le16(fw->data + foot);
	if (table_size < ENTRY_HDR || table_size - ENTRY_HDR > foot)
		return err_set(EINVAL, "%s: OVMF footer table size %u is out of range", fw->path, table_size);
	end = foot;                    /* entries occupy [foot - (table_size-18), foot) */
	size_t start = foot - (table_size - ENTRY_HDR);
	while (end > start) {
		uint16_t len;

		if (end - start < ENTRY_HDR)
			return err_set(EINVAL, "%s: OVMF footer table: %zu stray bytes at offset %#zx", fw->path,
				       end - start, start);
		len = le16(fw->data + end - ENTRY_HDR);
		if (len < ENTRY_HDR || len > end - start)
			return err_set(EINVAL, "%s: OVMF footer table entry at offset %#zx has bad length %u", fw->path,
				       end - ENTRY_HDR, len);
		int r = fn(ctx, fw->data + end - 16, fw->data + end - len, len - ENTRY_HDR);
		if (r)
			return r;
		end -= len;
	}
	return 0;
}

struct find_ctx {
	struct efi_guid want;
	const uint8_t *data;
	size_t len;
};

static int find_fn(void *ctx, const uint8_t *guid, const uint8_t *d, size_t n)
{
	struct find_ctx *c = ctx;

	if (memcmp(guid, c->want.b, 16))
		return 0;
	c->data = d;
	c->len = n;
	return 1;
}

int fw_table_find(const struct fw_image *fw, const char *guid, const uint8_t **data, size_t *len)
{
	struct find_ctx c = {0};
	int ret = guid_parse(guid, &c.want);

	if (ret)
		return ret;
	ret = table_walk(fw, find_fn, &c);
	if (ret < 0)
		return ret;
	if (!c.data)
		return -ENOENT;
	*data = c.data;
	*len = c.len;
	return 0;
}

static int check_fn(void *ctx, const uint8_t *guid, const uint8_t *d, size_t n)
{
	(void)ctx, (void)guid, (void)d, (void)n;
	return 0;
}

int fw_table_check(const struct fw_image *fw)
{
	return table_walk(fw, check_fn, NULL);
}
