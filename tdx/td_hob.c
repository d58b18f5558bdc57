/* The TD HOB: how the VMM tells TDVF where guest RAM is.
 *
 * TDVF Design Guide, "TD Hand-Off Block (HOB)": the VMM writes a HOB list
 * into the TD_HOB section before the TD is built: a PHIT (handoff info
 * table) followed by one resource descriptor per RAM range, accepted (added
 * by the VMM at build time: EFI_RESOURCE_SYSTEM_MEMORY) or unaccepted
 * (EFI_RESOURCE_MEMORY_UNACCEPTED, which TDVF accepts with TDG.MEM.PAGE.ACCEPT),
 * then the end-of-list HOB. HOB encodings: UEFI PI spec vol. 3, chapter 5.
 * The layout matches QEMU's hw/i386/tdvf-hob.c so a guest sees the same
 * memory map under either VMM. The TD_HOB section is PAGE.ADDed but not
 * MR.EXTENDed by the TDVF images we know, so its bytes do not reach MRTD;
 * TDVF measures it into RTMR0 instead. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tdx.h"

#define GIB(x)          ((uint64_t)(x) << 30)
/* QEMU q35 (hw/i386/pc_q35.c): guests of 2.75 GiB or more get 2 GiB below
 * 4 GiB, the rest above; smaller guests have all RAM below 4 GiB. */
#define Q35_LOWMEM_SPLIT 0xb0000000ull
#define Q35_LOWMEM       0x80000000ull

static int insert_at(struct tdx_ram_map *m, size_t i, uint64_t gpa, uint64_t len, enum tdx_ram_type t)
{
	if (!len)
		return 0;
	if (m->n >= TDX_RAM_MAX_ENTRIES)
		return err_set(E2BIG, "TD HOB: too many RAM ranges");
	memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(m->e[0]));
	m->e[i] = (struct tdx_ram_entry){ .gpa = gpa, .len = len, .type = t };
	m->n++;
	return 0;
}

/* Mark [gpa, gpa+len) added; it must lie inside one unaccepted entry.
 * Returns 1 when the range is not RAM at all. */
static int accept_range(struct tdx_ram_map *m, uint64_t gpa, uint64_t len, const char *label)
{
	for (size_t i = 0; i < m->n; i++) {
		struct tdx_ram_entry e = m->e[i];

		if (gpa >= e.gpa + e.len || gpa + len <= e.gpa)
			continue;
		if (gpa < e.gpa || gpa + len > e.gpa + e.len || e.type != TDX_RAM_UNACCEPTED)
			return err_set(EINVAL, "TD HOB: %s section %#llx+%#llx straddles the end of guest RAM", label,
				       (unsigned long long)gpa, (unsigned long long)len);
		/* split e into [head][added][tail] */
		m->e[i].len = gpa - e.gpa;
		size_t at = m->e[i].len ? i + 1 : i;
		if (!m->e[i].len) {
			memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof(m->e[0]));
			m->n--;
		}
		int ret = insert_at(m, at, gpa, len, TDX_RAM_ADDED);
		if (!ret)
			ret = insert_at(m, at + 1, gpa + len, e.gpa + e.len - (gpa + len), TDX_RAM_UNACCEPTED);
		return ret;
	}
	return 1;
}

int tdx_ram_map_build(const struct tdvf_metadata *md, uint64_t mem, struct tdx_ram_map *m)
{
	uint64_t below = mem >= Q35_LOWMEM_SPLIT ? Q35_LOWMEM : mem;

	memset(m, 0, sizeof(*m));
	if (mem < (16u << 20))
		return err_set(EINVAL, "--mem: %llu bytes is too small for a TD (at least 16 MiB)",
			       (unsigned long long)mem);
	if (mem % 4096)
		return err_set(EINVAL, "--mem: %llu bytes is not a multiple of 4 KiB", (unsigned long long)mem);
	m->e[m->n++] = (struct tdx_ram_entry){ .gpa = 0, .len = below, .type = TDX_RAM_UNACCEPTED };
	if (mem > below)
		m->e[m->n++] = (struct tdx_ram_entry){ .gpa = GIB(4), .len = mem - below, .type = TDX_RAM_UNACCEPTED };
	for (unsigned i = 0; i < md->n; i++) {
		const struct tdvf_section *s = &md->s[i];
		const char *name = fw_tdvf_type_name(s->type);
		int ret;

		if (s->attributes & TDVF_ATTR_PAGE_AUG)
			continue;
		/* Sections outside RAM are not reported: BFV/CFV live in the
		 * flash range below 4 GiB, and some TDVF-like firmware (td-shim)
		 * keeps its TempMem there too; TDVF finds those through its own
		 * metadata. A section that straddles the end of RAM is an error. */
		ret = accept_range(m, s->gpa, s->size, name);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static uint8_t *hob_header(uint8_t *p, uint16_t type, uint16_t len)
{
	put_le16(p, type);
	put_le16(p + 2, len);
	put_le32(p + 4, 0); /* Reserved */
	return p + 8;
}

int tdx_hob_build(const struct tdx_ram_map *map, uint64_t hob_gpa, uint8_t *buf, size_t len, size_t *used)
{
	size_t need = TDX_HOB_HANDOFF_SIZE + map->n * TDX_HOB_RESOURCE_SIZE + TDX_HOB_END_SIZE;
	uint8_t *p = buf, *phit;

	if (need > len)
		return err_set(ENOSPC, "TD HOB: %zu bytes needed, the TD_HOB section has %zu", need, len);
	memset(buf, 0, len);

	/* EFI_HOB_HANDOFF_INFO_TABLE: Version, BootMode, then five u64
	 * (EfiMemoryTop/Bottom, EfiFreeMemoryTop/Bottom stay 0 as in QEMU,
	 * EfiEndOfHobList is the GPA just past the end-of-list HOB). */
	phit = p;
	p = hob_header(p, TDX_HOB_TYPE_HANDOFF, TDX_HOB_HANDOFF_SIZE);
	put_le32(p, TDX_HOB_HANDOFF_VERSION);
	put_le32(p + 4, 0); /* BOOT_WITH_FULL_CONFIGURATION */
	p = phit + TDX_HOB_HANDOFF_SIZE;

	/* EFI_HOB_RESOURCE_DESCRIPTOR: Owner GUID (zero), ResourceType,
	 * ResourceAttribute, PhysicalStart, ResourceLength. */
	for (size_t i = 0; i < map->n; i++) {
		const struct tdx_ram_entry *e = &map->e[i];
		uint8_t *q = hob_header(p, TDX_HOB_TYPE_RESOURCE_DESC, TDX_HOB_RESOURCE_SIZE) + 16;

		put_le32(q, e->type == TDX_RAM_ADDED ? TDX_RESOURCE_SYSTEM_MEMORY : TDX_RESOURCE_MEMORY_UNACCEPTED);
		put_le32(q + 4, TDX_RESOURCE_ATTR_TDVF);
		put_le64(q + 8, e->gpa);
		put_le64(q + 16, e->len);
		p += TDX_HOB_RESOURCE_SIZE;
	}
	p = hob_header(p, TDX_HOB_TYPE_END, TDX_HOB_END_SIZE);
	put_le64(phit + 8 + 8 + 32, hob_gpa + (uint64_t)(p - buf)); /* EfiEndOfHobList */
	if (used)
		*used = need;
	return 0;
}

int tdx_plan_build(const struct fw_image *fw, const struct tdvf_metadata *md, uint64_t mem, struct launch_plan *plan)
{
	struct tdx_ram_map map;
	int ret = tdx_ram_map_build(md, mem, &map);

	if (!ret)
		ret = fw_tdvf_plan(fw, md, plan);
	if (ret)
		return ret;
	for (size_t i = 0; i < plan->n; i++) {
		struct plan_step *st = &plan->steps[i];
		uint8_t *hob;

		if (st->kind != PLAN_TD_HOB)
			continue;
		hob = malloc(st->len);
		if (!hob)
			return err_set(ENOMEM, "TD HOB: out of memory");
		ret = plan_own(plan, hob);
		if (!ret)
			ret = tdx_hob_build(&map, st->gpa, hob, st->len, NULL);
		if (ret)
			return ret;
		st->data = hob;
	}
	return 0;
}
