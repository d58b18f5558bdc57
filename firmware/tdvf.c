/* TDVF metadata: the section list that tells the VMM which guest pages to
 * add (and measure) when it builds a TD.
 *
 * Layout: Intel TDX Virtual Firmware Design Guide, chapter 11 "TDVF
 * Metadata" (also OvmfPkg/ResetVector/X64/IntelTdxMetadata.asm and QEMU's
 * hw/i386/tdvf.c, which reads the same table):
 *   footer GUID table entry e47a6535-... : u32 offset of the descriptor,
 *                                          counted back from the image end
 *   descriptor: "TDVF", u32 Length (16 + 32 * count), u32 Version (1),
 *               u32 NumberOfSectionEntries
 *   section:    u32 DataOffset, u32 RawDataSize, u64 MemoryAddress,
 *               u64 MemoryDataSize, u32 Type, u32 Attributes
 * Every field comes from an untrusted file: read with the bounds-checked
 * reader, and reject anything the TDX module or the VMM would trip over. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "firmware.h"

#define TDVF_DESC_SIZE    16u
#define TDVF_SECTION_SIZE 32u
#define TDVF_VERSION      1u
#define TDVF_PAGE         4096u

static const char *const type_names[TDVF_TYPE_COUNT] = {
	[TDVF_BFV] = "BFV",         [TDVF_CFV] = "CFV",         [TDVF_TD_HOB] = "TD_HOB",
	[TDVF_TEMP_MEM] = "TempMem", [TDVF_PERM_MEM] = "PermMem", [TDVF_PAYLOAD] = "Payload",
	[TDVF_PAYLOAD_PARAM] = "PayloadParam",
};

const char *fw_tdvf_type_name(uint32_t type)
{
	return type < TDVF_TYPE_COUNT ? type_names[type] : "?";
}

static int read_section(struct reader *r, unsigned i, struct tdvf_section *s)
{
	char f[6][40];
	static const char *const names[6] = { "DataOffset", "RawDataSize", "MemoryAddress",
					      "MemoryDataSize", "Type", "Attributes" };

	for (int k = 0; k < 6; k++)
		snprintf(f[k], sizeof(f[k]), "TDVF section %u %s", i, names[k]);
	if (rd_u32(r, f[0], &s->data_offset) || rd_u32(r, f[1], &s->raw_size) || rd_u64(r, f[2], &s->gpa) ||
	    rd_u64(r, f[3], &s->size) || rd_u32(r, f[4], &s->type) || rd_u32(r, f[5], &s->attributes))
		return -EINVAL;
	return 0;
}

/* Per-section rules: TDVF Design Guide table "TDVF Section Type" (which
 * sections carry raw data) and the TDX module's 4 KiB page granularity for
 * TDH.MEM.PAGE.ADD; QEMU's tdvf_parse_and_check_section_entry applies the
 * same ones. */
static int check_section(const struct fw_image *fw, unsigned i, const struct tdvf_section *s)
{
	const char *p = fw->path;

	if (s->type >= TDVF_TYPE_COUNT)
		return err_set(EINVAL, "%s: TDVF section %u has unknown type %u", p, i, s->type);
	const char *t = fw_tdvf_type_name(s->type);
	if (s->attributes & ~(TDVF_ATTR_MR_EXTEND | TDVF_ATTR_PAGE_AUG))
		return err_set(EINVAL, "%s: TDVF section %u (%s) has unknown attribute bits %#x", p, i, t,
			       s->attributes);
	/* A page added with PAGE.AUG after TD build cannot be MR.EXTENDed. */
	if ((s->attributes & TDVF_ATTR_PAGE_AUG) && (s->attributes & TDVF_ATTR_MR_EXTEND))
		return err_set(EINVAL, "%s: TDVF section %u (%s) has both MR.EXTEND and PAGE.AUG", p, i, t);
	if (s->size == 0)
		return err_set(EINVAL, "%s: TDVF section %u (%s) has zero MemoryDataSize", p, i, t);
	if (s->gpa % TDVF_PAGE || s->size % TDVF_PAGE)
		return err_set(EINVAL, "%s: TDVF section %u (%s) memory %#llx+%#llx is not 4 KiB aligned", p, i, t,
			       (unsigned long long)s->gpa, (unsigned long long)s->size);
	if (s->size > TDVF_MAX_SECTION_SIZE)
		return err_set(EINVAL, "%s: TDVF section %u (%s) MemoryDataSize %#llx exceeds %#llx", p, i, t,
			       (unsigned long long)s->size, TDVF_MAX_SECTION_SIZE);
	/* 52-bit guest physical addresses (TDX GPAW 52 at most). */
	if (s->gpa > (1ull << 52) - s->size) /* size <= 1 GiB: no underflow */
		return err_set(EINVAL, "%s: TDVF section %u (%s) memory %#llx+%#llx is beyond 2^52", p, i, t,
			       (unsigned long long)s->gpa, (unsigned long long)s->size);
	if (s->raw_size > s->size)
		return err_set(EINVAL, "%s: TDVF section %u (%s) RawDataSize %#x exceeds MemoryDataSize %#llx", p, i,
			       t, s->raw_size, (unsigned long long)s->size);
	if (!range_ok(s->data_offset, s->raw_size, fw->size))
		return err_set(EINVAL, "%s: TDVF section %u (%s) data %#x+%#x is outside the %zu-byte image", p, i, t,
			       s->data_offset, s->raw_size, fw->size);
	switch (s->type) {
	case TDVF_BFV:
	case TDVF_CFV:
		if (s->raw_size == 0)
			return err_set(EINVAL, "%s: TDVF section %u (%s) has no raw data", p, i, t);
		break;
	case TDVF_TD_HOB:
	case TDVF_TEMP_MEM:
	case TDVF_PERM_MEM:
	case TDVF_PAYLOAD_PARAM:
		if (s->raw_size != 0)
			return err_set(EINVAL, "%s: TDVF section %u (%s) must not carry raw data (RawDataSize %#x)", p,
				       i, t, s->raw_size);
		break;
	default: /* Payload: in the image (td-shim) or loaded by the VMM */
		break;
	}
	return 0;
}

int fw_tdvf_parse(const struct fw_image *fw, struct tdvf_metadata *md)
{
	const uint8_t *ent;
	size_t ent_len;
	uint32_t off, len, n, sig;
	struct reader r;
	unsigned hobs = 0, bfvs = 0;
	int ret;

	memset(md, 0, sizeof(*md));
	/* A broken or missing footer table has its own message. */
	ret = fw_table_check(fw);
	if (ret)
		return ret;
	ret = fw_table_find(fw, FW_GUID_TDX_METADATA, &ent, &ent_len);
	if (ret == -ENOENT)
		return err_set(ENOENT, "%s: no TDVF metadata (GUID %s not in the OVMF footer table; not a TDX firmware?)",
			       fw->path, FW_GUID_TDX_METADATA);
	if (ret)
		return ret;
	if (ent_len < 4)
		return err_set(EINVAL, "%s: TDVF metadata offset entry is %zu bytes, needs 4", fw->path, ent_len);
	off = le32(ent);
	if (off < TDVF_DESC_SIZE || off > fw->size)
		return err_set(EINVAL, "%s: TDVF metadata offset %#x is outside the %zu-byte image", fw->path, off,
			       fw->size);
	md->offset = fw->size - off;

	rd_init(&r, fw->data, fw->size, fw->path);
	if (rd_seek(&r, "TDVF descriptor", md->offset) || rd_u32(&r, "TDVF Signature", &sig) ||
	    rd_u32(&r, "TDVF Length", &len) || rd_u32(&r, "TDVF Version", &md->version) ||
	    rd_u32(&r, "TDVF NumberOfSectionEntries", &n))
		return -EINVAL;
	if (memcmp(fw->data + md->offset, "TDVF", 4))
		return err_set(EINVAL, "%s: TDVF descriptor at offset %#llx has bad signature %#010x (want \"TDVF\")",
			       fw->path, (unsigned long long)md->offset, sig);
	if (md->version != TDVF_VERSION)
		return err_set(EINVAL, "%s: TDVF metadata version %u is not supported (only 1)", fw->path,
			       md->version);
	/* QEMU rejects fewer than two sections: a TDVF needs at least its BFV
	 * and the memory it runs in. */
	if (n < 2 || n > TDVF_MAX_SECTIONS)
		return err_set(EINVAL, "%s: TDVF NumberOfSectionEntries %u is out of range (2..%u)", fw->path, n,
			       TDVF_MAX_SECTIONS);
	if (len != TDVF_DESC_SIZE + TDVF_SECTION_SIZE * n)
		return err_set(EINVAL, "%s: TDVF Length %u does not match %u sections (want %u)", fw->path, len, n,
			       TDVF_DESC_SIZE + TDVF_SECTION_SIZE * n);
	if (!range_ok(md->offset, len, fw->size))
		return err_set(EINVAL, "%s: TDVF metadata (%u bytes at offset %#llx) runs past the end of the image",
			       fw->path, len, (unsigned long long)md->offset);
	md->n = n;
	for (unsigned i = 0; i < n; i++) {
		struct tdvf_section *s = &md->s[i];

		if (read_section(&r, i, s) || check_section(fw, i, s))
			return -EINVAL;
		hobs += s->type == TDVF_TD_HOB;
		bfvs += s->type == TDVF_BFV;
		/* Overlapping sections would add the same GPA twice:
		 * TDH.MEM.PAGE.ADD fails on a mapped page. */
		for (unsigned j = 0; j < i; j++) {
			const struct tdvf_section *o = &md->s[j];

			if (s->gpa < o->gpa + o->size && o->gpa < s->gpa + s->size)
				return err_set(EINVAL,
					       "%s: TDVF section %u (%s %#llx+%#llx) overlaps section %u (%s %#llx+%#llx)",
					       fw->path, i, fw_tdvf_type_name(s->type), (unsigned long long)s->gpa,
					       (unsigned long long)s->size, j, fw_tdvf_type_name(o->type),
					       (unsigned long long)o->gpa, (unsigned long long)o->size);
		}
	}
	if (bfvs == 0)
		return err_set(EINVAL, "%s: TDVF metadata has no BFV section", fw->path);
	if (hobs > 1)
		return err_set(EINVAL, "%s: TDVF metadata has %u TD_HOB sections (at most one)", fw->path, hobs);
	return 0;
}

static const enum plan_kind kind_of[TDVF_TYPE_COUNT] = {
	[TDVF_BFV] = PLAN_NORMAL,        [TDVF_CFV] = PLAN_NORMAL,          [TDVF_TD_HOB] = PLAN_TD_HOB,
	[TDVF_TEMP_MEM] = PLAN_TEMP_MEM, [TDVF_PERM_MEM] = PLAN_PERM_MEM,   [TDVF_PAYLOAD] = PLAN_PAYLOAD,
	[TDVF_PAYLOAD_PARAM] = PLAN_PAYLOAD,
};

int fw_tdvf_plan(const struct fw_image *fw, const struct tdvf_metadata *md, struct launch_plan *plan)
{
	for (unsigned i = 0; i < md->n; i++) {
		const struct tdvf_section *s = &md->s[i];
		struct plan_step st = {
			.gpa = s->gpa, .len = s->size, .kind = kind_of[s->type], .vcpu = -1,
			.flags = ((s->attributes & TDVF_ATTR_MR_EXTEND) ? PLAN_F_EXTEND : 0) |
				 ((s->attributes & TDVF_ATTR_PAGE_AUG) ? PLAN_F_AUG : 0),
		};
		int ret;

		snprintf(st.label, sizeof(st.label), "%s", fw_tdvf_type_name(s->type));
		if (s->raw_size == s->size) {
			st.data = fw->data + s->data_offset;
		} else if (s->raw_size) {
			uint8_t *buf = calloc(1, s->size);

			if (!buf)
				return err_set(ENOMEM, "%s: TDVF section %u: out of memory", fw->path, i);
			memcpy(buf, fw->data + s->data_offset, s->raw_size);
			ret = plan_own(plan, buf);
			if (ret)
				return ret;
			st.data = buf;
		}
		ret = plan_add(plan, &st);
		if (ret)
			return ret;
	}
	return 0;
}
