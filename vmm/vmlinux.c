/* vmlinux.c - boot the kernel without its self-decompressor: inflate the
 * bzImage payload on the host (boot.rst: payload_offset / payload_length,
 * a compressed vmlinux ELF) and load its PT_LOAD segments at their physical
 * addresses; the vCPU then starts at the ELF entry (phys_startup_64) with
 * the same 64-bit boot protocol state. Under nested virtualization the
 * in-guest decompressor is the slowest part of a boot. Formats: LZ4 legacy
 * frames (Debian's kernels), gzip, xz; anything else (or any problem) makes
 * the caller fall back to the self-decompressing bzImage entry. */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <lz4.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/common.h"
#include "vmm/vmm_core.h"

#define VMLINUX_MAX (512u << 20)
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8u << 20) /* decompressed size of every block but the last */

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	if (need > VMLINUX_MAX)
		return -E2BIG;
	size_t n = *cap ? *cap : (16u << 20);
	while (n < need)
		n *= 2;
	uint8_t *p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

/* LZ4 legacy frame (lz4 -l, the kernel's LZ4 format): magic, then blocks of
 * [u32 compressed size][data]; a repeated magic starts another frame. The
 * kernel build appends the decompressed size (u32) to every payload. */
static int unlz4(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	struct reader r;
	uint32_t v;
	size_t cap = 0, n = 0;
	rd_init(&r, in, len, "bzImage payload");
	if (rd_u32(&r, "lz4 magic", &v) || v != LZ4_LEGACY_MAGIC)
		return -EINVAL;
	while (rd_left(&r) > 4) {
		const uint8_t *blk;
		if (rd_u32(&r, "lz4 block size", &v))
			return -EINVAL;
		if (v == LZ4_LEGACY_MAGIC)
			continue;
		if (v > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK) || rd_ptr(&r, "lz4 block", v, &blk))
			return -EINVAL;
		/* LZ4 expands at most 255:1; blocks inflate to <= 8 MiB */
		size_t room = (size_t)v * 255 + 16 < LZ4_LEGACY_BLOCK ? (size_t)v * 255 + 16 : LZ4_LEGACY_BLOCK;
		if (grow(out, &cap, n + room))
			return -E2BIG;
		int got = LZ4_decompress_safe((const char *)blk, (char *)*out + n, (int)v, (int)room);
		if (got < 0)
			return -EINVAL;
		n += (size_t)got;
	}
	*out_len = n;
	return 0;
}

static int ungzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	z_stream z = { 0 };
	size_t cap = 0;
	int rc = -EINVAL;
	if (len > UINT32_MAX || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -EINVAL;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	for (;;) {
		if (grow(out, &cap, z.total_out + (1u << 20))) {
			rc = -E2BIG;
			break;
		}
		z.next_out = *out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		int zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			*out_len = z.total_out;
			rc = 0;
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			break;
		if (zr == Z_BUF_ERROR && z.avail_in == 0)
			break; /* truncated */
	}
	inflateEnd(&z);
	return rc;
}

static int unxz(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = 0;
	int rc = -EINVAL;
	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK)
		return -EINVAL;
	s.next_in = in;
	s.avail_in = len;
	for (;;) {
		if (grow(out, &cap, s.total_out + (1u << 20))) {
			rc = -E2BIG;
			break;
		}
		s.next_out = *out + s.total_out;
		s.avail_out = cap - s.total_out;
		lzma_ret lr = lzma_code(&s, LZMA_FINISH);
		if (lr == LZMA_STREAM_END) {
			*out_len = s.total_out;
			rc = 0;
			break;
		}
		if (lr != LZMA_OK)
			break;
	}
	lzma_end(&s);
	return rc;
}

/* Copy the PT_LOAD segments of an x86-64 ELF into guest memory. */
static int load_elf(struct guest_mem *m, uint8_t *img, size_t len, uint64_t *lo, uint64_t *hi, uint64_t *entry)
{
	GElf_Ehdr eh;
	size_t nph;
	int rc = -EINVAL;
	bool entry_ok = false;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	Elf *e = elf_memory((char *)img, len);
	if (!e)
		return -EINVAL;
	if (elf_kind(e) != ELF_K_ELF || gelf_getclass(e) != ELFCLASS64 || !gelf_getehdr(e, &eh) ||
	    eh.e_machine != EM_X86_64 || elf_getphdrnum(e, &nph) != 0 || nph == 0)
		goto out;
	*lo = UINT64_MAX;
	*hi = 0;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			goto out;
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		uint8_t *dst = gm_ptr(m, ph.p_paddr, ph.p_memsz);
		if (ph.p_filesz > ph.p_memsz || !range_ok(ph.p_offset, ph.p_filesz, len) || !dst ||
		    ph.p_paddr < BOOT_HIGH_GPA)
			goto out;
		memcpy(dst, img + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr < *lo)
			*lo = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > *hi)
			*hi = ph.p_paddr + ph.p_memsz;
		if (eh.e_entry >= ph.p_paddr && eh.e_entry - ph.p_paddr < ph.p_filesz)
			entry_ok = true;
	}
	if (entry_ok) {
		*entry = eh.e_entry;
		rc = 0;
	}
out:
	elf_end(e);
	return rc;
}

int vmm_vmlinux_load(struct guest_mem *m, const struct bzimage *bz, uint64_t *lo, uint64_t *hi, uint64_t *entry)
{
	const uint8_t *p;
	uint8_t *out = NULL;
	size_t out_len = 0;
	int rc;

	if (!bz->payload_len || !range_ok(bz->payload_off, bz->payload_len, bz->kernel_len))
		return -ENOTSUP;
	p = bz->kernel + bz->payload_off;
	if (bz->payload_len >= 4 && le32(p) == LZ4_LEGACY_MAGIC)
		rc = unlz4(p, bz->payload_len, &out, &out_len);
	else if (bz->payload_len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		rc = ungzip(p, bz->payload_len, &out, &out_len);
	else if (bz->payload_len >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
		rc = unxz(p, bz->payload_len, &out, &out_len);
	else
		rc = -ENOTSUP;
	if (!rc)
		rc = load_elf(m, out, out_len, lo, hi, entry);
	free(out);
	return rc;
}
