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

/* The program headers of the vmlinux ELF at the start of its first
 * inflated block. libelf wants the section headers inside the image it is
 * given, and they sit at the end of the file (not inflated yet): parse a
 * copy of the ELF and program headers with the section header fields
 * cleared (ELF-64 Object File Format: e_shoff 0x28, e_shnum 0x3c,
 * e_shstrndx 0x3e). */
#define ELF_SEGS_MAX 16
struct elf_segs {
	unsigned n;
	uint64_t entry;
	struct { uint64_t off, filesz, paddr, memsz; } s[ELF_SEGS_MAX];
};

static int elf_segments(const uint8_t *head, size_t len, struct elf_segs *out)
{
	GElf_Ehdr eh;
	size_t nph;
	int rc = -EINVAL;
	if (len < 64 || le16(head + 0x38) == 0xffff) /* e_phnum PN_XNUM: count in section 0 */
		return -EINVAL;
	uint64_t phend = le64(head + 0x20) + (uint64_t)le16(head + 0x36) * le16(head + 0x38);
	if (phend < 64 || phend > len || phend > 65536)
		return -EINVAL;
	uint8_t *copy = malloc(phend);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, head, phend);
	memset(copy + 0x28, 0, 8);
	memset(copy + 0x3c, 0, 4);
	if (elf_version(EV_CURRENT) == EV_NONE) {
		free(copy);
		return -ENOTSUP;
	}
	Elf *e = elf_memory((char *)copy, phend);
	if (!e) {
		free(copy);
		return -EINVAL;
	}
	if (elf_kind(e) != ELF_K_ELF || gelf_getclass(e) != ELFCLASS64 || !gelf_getehdr(e, &eh) ||
	    eh.e_machine != EM_X86_64 || elf_getphdrnum(e, &nph) != 0 || nph == 0)
		goto out;
	out->n = 0;
	out->entry = eh.e_entry;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			goto out;
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (out->n == ELF_SEGS_MAX || ph.p_filesz > ph.p_memsz)
			goto out;
		out->s[out->n].off = ph.p_offset;
		out->s[out->n].filesz = ph.p_filesz;
		out->s[out->n].paddr = ph.p_paddr;
		out->s[out->n].memsz = ph.p_memsz;
		out->n++;
	}
	rc = out->n ? 0 : -EINVAL;
out:
	elf_end(e);
	free(copy);
	return rc;
}

/* Copy the part of the file at [off, off + len) that PT_LOAD segments
 * hold into guest memory. */
static void scatter(struct guest_mem *m, const struct elf_segs *segs, uint64_t off, const uint8_t *p, size_t len)
{
	for (unsigned i = 0; i < segs->n; i++) {
		uint64_t s = segs->s[i].off, e = s + segs->s[i].filesz;
		uint64_t from = off > s ? off : s, to = off + len < e ? off + len : e;
		if (from < to)
			memcpy(gm_ptr(m, segs->s[i].paddr + (from - s), to - from), p + (from - off), to - from);
	}
}

/* LZ4 legacy frame (lz4 -l, the kernel's LZ4 format): magic, then blocks of
 * [u32 compressed size][data], each inflating independently to 8 MiB (the
 * last one less); a repeated magic starts another frame. The kernel build
 * appends the decompressed size (u32). The ELF is never inflated whole:
 * each block inflates into one reused 8 MiB buffer and its part of the
 * PT_LOAD segments is copied from there. That spares faulting in and
 * zeroing a buffer of the whole vmlinux (53 MiB for Debian's 6.1), the
 * largest cost of loading a kernel under nested virtualization (page
 * clearing is emulated there). Inflating the blocks that lie inside one
 * segment straight into guest memory saved no measurable time more. */
static int lz4_load(struct guest_mem *m, const uint8_t *in, size_t len, uint64_t *lo, uint64_t *hi,
		    uint64_t *entry)
{
	struct reader r;
	struct elf_segs segs = { 0 };
	uint32_t v;
	uint64_t off = 0;
	int rc = -EINVAL;
	bool entry_ok = false;
	uint8_t *bounce = malloc(LZ4_LEGACY_BLOCK);
	if (!bounce)
		return -ENOMEM;
	rd_init(&r, in, len, "bzImage payload");
	if (rd_u32(&r, "lz4 magic", &v) || v != LZ4_LEGACY_MAGIC)
		goto out;
	while (rd_left(&r) > 4) {
		const uint8_t *blk;
		if (rd_u32(&r, "lz4 block size", &v))
			goto out;
		if (v == LZ4_LEGACY_MAGIC)
			continue;
		if (v > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK) || rd_ptr(&r, "lz4 block", v, &blk) ||
		    off > VMLINUX_MAX)
			goto out;
		int got = LZ4_decompress_safe((const char *)blk, (char *)bounce, (int)v, LZ4_LEGACY_BLOCK);
		if (got < 0)
			goto out;
		if (off == 0) {
			/* the first block holds the ELF and program headers */
			if (elf_segments(bounce, (size_t)got, &segs))
				goto out;
			for (unsigned i = 0; i < segs.n; i++) {
				uint8_t *dst = gm_ptr(m, segs.s[i].paddr, segs.s[i].memsz);
				if (!dst || segs.s[i].paddr < BOOT_HIGH_GPA || segs.s[i].off > VMLINUX_MAX ||
				    segs.s[i].filesz > VMLINUX_MAX)
					goto out;
				/* beyond the file part: zero (fresh memory already is) */
				memset(dst + segs.s[i].filesz, 0, segs.s[i].memsz - segs.s[i].filesz);
			}
		}
		scatter(m, &segs, off, bounce, (size_t)got);
		off += (size_t)got;
	}
	/* every segment's file part inflated; the entry inside one */
	*lo = UINT64_MAX;
	*hi = 0;
	for (unsigned i = 0; i < segs.n; i++) {
		if (segs.s[i].off + segs.s[i].filesz > off)
			goto out;
		if (segs.s[i].paddr < *lo)
			*lo = segs.s[i].paddr;
		if (segs.s[i].paddr + segs.s[i].memsz > *hi)
			*hi = segs.s[i].paddr + segs.s[i].memsz;
		if (segs.entry >= segs.s[i].paddr && segs.entry - segs.s[i].paddr < segs.s[i].filesz)
			entry_ok = true;
	}
	if (segs.n && entry_ok) {
		*entry = segs.entry;
		rc = 0;
	}
out:
	free(bounce);
	return rc;
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
		return lz4_load(m, p, bz->payload_len, lo, hi, entry);
	if (bz->payload_len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
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
