/* fw_cfg.c - the fw_cfg device (vmm/fw_cfg.h): items, the sorted file
 * directory, the selector/data ports and the DMA interface.
 *
 * Everything the guest sends is untrusted: a selector names an item or
 * nothing (reads of nothing, and past an item's end, give zeros, as
 * QEMU's); a DMA request moves bytes only between an item and guest RAM
 * that gm_ptr() vouches for, and any request it cannot honour (an address
 * outside RAM, a range crossing the end of RAM or into the hole, a write -
 * no item here is writable) ends with the error bit in its control word.
 * Nothing a guest writes can make the device loop longer than the request
 * length allows or touch memory outside RAM. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/fw_cfg.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

static int blob_set(struct fw_cfg_blob *b, const void *data, size_t len)
{
	uint8_t *copy;

	if (len > UINT32_MAX)
		return err_set(EFBIG, "fw_cfg: an item of %zu bytes is too large (at most 4 GiB - 1)", len);
	copy = malloc(len ? len : 1);
	if (!copy)
		return err_set(ENOMEM, "out of memory");
	if (len)
		memcpy(copy, data, len);
	free(b->data);
	b->data = copy;
	b->len = (uint32_t)len;
	return 0;
}

/* FW_CFG_FILE_DIR: be32 count, then per file {be32 size, be16 select,
 * be16 reserved, char name[56]}. */
static int dir_rebuild(struct fw_cfg *fc)
{
	size_t len = 4 + (size_t)fc->nfiles * 64;
	uint8_t *d = calloc(1, len);

	if (!d)
		return err_set(ENOMEM, "out of memory");
	put_be32(d, fc->nfiles);
	for (unsigned i = 0; i < fc->nfiles; i++) {
		uint8_t *e = d + 4 + 64 * i;
		uint16_t sel = (uint16_t)(FW_CFG_FILE_FIRST + i);

		put_be32(e, fc->file[i].len);
		e[4] = (uint8_t)(sel >> 8);
		e[5] = (uint8_t)sel;
		memcpy(e + 8, fc->name[i], FW_CFG_MAX_FILE_PATH);
	}
	free(fc->item[FW_CFG_FILE_DIR].data);
	fc->item[FW_CFG_FILE_DIR].data = d;
	fc->item[FW_CFG_FILE_DIR].len = (uint32_t)len;
	return 0;
}

int fw_cfg_init(struct fw_cfg *fc, const struct guest_mem *mem)
{
	uint8_t id[4];
	int rc;

	memset(fc, 0, sizeof(*fc));
	pthread_mutex_init(&fc->lock, NULL);
	fc->mem = mem;
	fc->debug_fd = -1;
	put_le32(id, FW_CFG_F_TRADITIONAL | FW_CFG_F_DMA);
	rc = blob_set(&fc->item[FW_CFG_SIGNATURE], "QEMU", 4);
	if (!rc)
		rc = blob_set(&fc->item[FW_CFG_ID], id, sizeof(id));
	if (!rc)
		rc = dir_rebuild(fc);
	if (rc)
		fw_cfg_destroy(fc);
	return rc;
}

void fw_cfg_destroy(struct fw_cfg *fc)
{
	for (unsigned i = 0; i < FW_CFG_FILE_FIRST; i++)
		free(fc->item[i].data);
	for (unsigned i = 0; i < FW_CFG_ARCH_SLOTS; i++)
		free(fc->arch[i].data);
	for (unsigned i = 0; i < FW_CFG_FILE_SLOTS; i++)
		free(fc->file[i].data);
	pthread_mutex_destroy(&fc->lock);
	memset(fc, 0, sizeof(*fc));
}

int fw_cfg_add_item(struct fw_cfg *fc, uint16_t key, const void *data, size_t len)
{
	if (key & FW_CFG_ARCH_LOCAL) {
		unsigned i = key & ~FW_CFG_ARCH_LOCAL;
		if (i >= FW_CFG_ARCH_SLOTS)
			return err_set(EINVAL, "fw_cfg: arch-local item %#x out of range", key);
		return blob_set(&fc->arch[i], data, len);
	}
	if (key >= FW_CFG_FILE_FIRST || key == FW_CFG_SIGNATURE || key == FW_CFG_ID || key == FW_CFG_FILE_DIR)
		return err_set(EINVAL, "fw_cfg: item %#x is not a settable numbered item", key);
	return blob_set(&fc->item[key], data, len);
}

int fw_cfg_add_le16(struct fw_cfg *fc, uint16_t key, uint16_t v)
{
	uint8_t b[2];
	put_le16(b, v);
	return fw_cfg_add_item(fc, key, b, sizeof(b));
}

int fw_cfg_add_le32(struct fw_cfg *fc, uint16_t key, uint32_t v)
{
	uint8_t b[4];
	put_le32(b, v);
	return fw_cfg_add_item(fc, key, b, sizeof(b));
}

int fw_cfg_add_le64(struct fw_cfg *fc, uint16_t key, uint64_t v)
{
	uint8_t b[8];
	put_le64(b, v);
	return fw_cfg_add_item(fc, key, b, sizeof(b));
}

int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, size_t len)
{
	struct fw_cfg_blob b = { 0 };
	size_t nlen = strlen(name);
	unsigned at = 0;
	int rc;

	if (!nlen || nlen >= FW_CFG_MAX_FILE_PATH)
		return err_set(EINVAL, "fw_cfg: file name '%s' must be 1-%d bytes", name, FW_CFG_MAX_FILE_PATH - 1);
	if (fc->nfiles == FW_CFG_FILE_SLOTS)
		return err_set(ENOSPC, "fw_cfg: no room for file '%s' (%d files)", name, FW_CFG_FILE_SLOTS);
	while (at < fc->nfiles && strcmp(fc->name[at], name) < 0)
		at++;
	if (at < fc->nfiles && !strcmp(fc->name[at], name))
		return err_set(EEXIST, "fw_cfg: file '%s' exists", name);
	if ((rc = blob_set(&b, data, len)))
		return rc;
	memmove(&fc->file[at + 1], &fc->file[at], (fc->nfiles - at) * sizeof(fc->file[0]));
	memmove(&fc->name[at + 1], &fc->name[at], (fc->nfiles - at) * sizeof(fc->name[0]));
	fc->file[at] = b;
	memset(fc->name[at], 0, FW_CFG_MAX_FILE_PATH);
	memcpy(fc->name[at], name, nlen);
	fc->nfiles++;
	return dir_rebuild(fc);
}

int fw_cfg_file_select(const struct fw_cfg *fc, const char *name)
{
	for (unsigned i = 0; i < fc->nfiles; i++)
		if (!strcmp(fc->name[i], name))
			return (int)(FW_CFG_FILE_FIRST + i);
	return -1;
}

const struct fw_cfg_blob *fw_cfg_lookup(const struct fw_cfg *fc, uint16_t key)
{
	const struct fw_cfg_blob *b = NULL;
	unsigned i = key & ~(FW_CFG_ARCH_LOCAL | FW_CFG_WRITE_CHANNEL);

	if (key & FW_CFG_ARCH_LOCAL)
		b = i < FW_CFG_ARCH_SLOTS ? &fc->arch[i] : NULL;
	else if (i < FW_CFG_FILE_FIRST)
		b = &fc->item[i];
	else if (i - FW_CFG_FILE_FIRST < fc->nfiles)
		b = &fc->file[i - FW_CFG_FILE_FIRST];
	return b && b->data ? b : NULL;
}

static void select_item(struct fw_cfg *fc, uint16_t key)
{
	fc->cur = fw_cfg_lookup(fc, key);
	fc->off = 0;
	if (fc->debug_fd >= 0) {
		/* snprintf + write: dprintf would lseek, which no vCPU seccomp list has */
		unsigned f = (key & 0x3fff) - FW_CFG_FILE_FIRST;
		char line[128];
		int n = snprintf(line, sizeof(line), "cvmm: fw_cfg select %#06x %s (%u bytes)\n", key,
				 !(key & FW_CFG_ARCH_LOCAL) && f < fc->nfiles ? fc->name[f] : "",
				 fc->cur ? fc->cur->len : 0);
		if (n > 0 && write(fc->debug_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0) {
			/* a debug line that cannot be written is lost */
		}
	}
}

/* Called with the lock held. */
static uint32_t dma_locked(struct fw_cfg *fc, uint64_t access)
{
	uint8_t *acc = gm_ptr(fc->mem, access, 16);
	uint32_t control, length, error = 0;
	uint64_t addr;
	enum { OP_NONE, OP_READ, OP_WRITE, OP_SKIP } op;

	if (!acc) {
		fc->dma_errors++;
		return FW_CFG_DMA_CTL_ERROR; /* nowhere to report it */
	}
	control = be32(acc);
	length = be32(acc + 4);
	addr = be64(acc + 8);
	if (control & FW_CFG_DMA_CTL_SELECT)
		select_item(fc, (uint16_t)(control >> 16));
	op = control & FW_CFG_DMA_CTL_READ ? OP_READ
	     : control & FW_CFG_DMA_CTL_WRITE ? OP_WRITE
	     : control & FW_CFG_DMA_CTL_SKIP ? OP_SKIP
					       : OP_NONE;
	if (op == OP_WRITE) {
		/* no item is writable: a write is refused as a whole */
		error = length ? FW_CFG_DMA_CTL_ERROR : 0;
	} else if (op != OP_NONE && length) {
		const struct fw_cfg_blob *e = fc->cur;
		uint32_t avail = e && fc->off < e->len ? e->len - fc->off : 0;
		uint32_t n = length < avail ? length : avail;

		if (op == OP_READ) {
			uint8_t *dst = gm_ptr(fc->mem, addr, length);
			if (!dst) {
				error = FW_CFG_DMA_CTL_ERROR;
			} else {
				if (n)
					memcpy(dst, e->data + fc->off, n);
				memset(dst + n, 0, length - n); /* past the end (or no item): zeros */
			}
		}
		if (!error)
			fc->off += n;
	}
	if (error)
		fc->dma_errors++;
	put_be32(acc, error);
	return error;
}

uint32_t fw_cfg_dma(struct fw_cfg *fc, uint64_t access)
{
	uint32_t r;

	pthread_mutex_lock(&fc->lock);
	r = dma_locked(fc, access);
	pthread_mutex_unlock(&fc->lock);
	return r;
}

void fw_cfg_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool write)
{
	struct fw_cfg *fc = opaque;
	uint64_t start = 0;
	bool go = false;

	pthread_mutex_lock(&fc->lock);
	if (port == FW_CFG_PORT_SEL) {
		if (write)
			select_item(fc, len >= 2 ? le16(data) : data[0]);
		else
			memset(data, 0, len);
	} else if (port == FW_CFG_PORT_DATA) {
		/* writes to the data port are ignored (QEMU >= 2.4) */
		for (unsigned i = 0; !write && i < len; i++) {
			const struct fw_cfg_blob *e = fc->cur;
			data[i] = e && fc->off < e->len ? e->data[fc->off++] : 0;
		}
	} else if (port >= FW_CFG_PORT_DMA && port < FW_CFG_PORT_DMA + 8) {
		unsigned off = port - FW_CFG_PORT_DMA;
		if (!write) {
			for (unsigned i = 0; i < len; i++)
				data[i] = off + i < 8 ? (uint8_t)(FW_CFG_DMA_SIGNATURE >> (56 - 8 * (off + i))) : 0xff;
		} else if (len == 4 && off == 0) {
			fc->dma_addr = (uint64_t)be32(data) << 32;
		} else if (len == 4 && off == 4) {
			start = fc->dma_addr | be32(data);
			fc->dma_addr = 0;
			go = true;
		} else if (len == 8 && off == 0) {
			start = be64(data);
			fc->dma_addr = 0;
			go = true;
		}
	} else if (!write) {
		memset(data, 0xff, len);
	}
	if (go)
		dma_locked(fc, start);
	pthread_mutex_unlock(&fc->lock);
}
