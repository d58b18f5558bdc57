/* SEV metadata of an OVMF image: the sections the firmware wants the VMM to
 * pre-populate (OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm), the SEV-ES AP
 * reset block and the location of the SEV hashes table. QEMU reads the same
 * entries in target/i386/sev.c (sev_snp_parse_metadata, sev_es_find_reset_vector,
 * sev_add_kernel_loader_hashes).
 *
 * Metadata layout: the footer table entry dc886566-... holds a u32 offset
 * from the end of the image to a header {"ASEV", u32 size, u32 version = 1,
 * u32 num_items}, followed by num_items descriptors {u32 gpa, u32 size,
 * u32 type}. */
#include <errno.h>
#include <string.h>

#include "common/common.h"
#include "firmware.h"

#define SEV_META_HDR_LEN  16u
#define SEV_META_DESC_LEN 12u
#define PAGE_SIZE 4096u

const char *fw_sev_section_name(uint32_t type)
{
	switch (type) {
	case FW_SEV_SNP_SEC_MEM: return "SNP_SEC_MEM";
	case FW_SEV_SNP_SECRETS: return "SNP_SECRETS";
	case FW_SEV_CPUID: return "CPUID";
	case FW_SEV_SVSM_CAA: return "SVSM_CAA";
	case FW_SEV_SNP_KERNEL_HASHES: return "SNP_KERNEL_HASHES";
	default: return NULL;
	}
}

const struct fw_sev_section *fw_sev_find_section(const struct fw_sev_info *info, uint32_t type)
{
	for (size_t i = 0; i < info->n_sections; i++)
		if (info->sections[i].type == type)
			return &info->sections[i];
	return NULL;
}

/* Look up an optional footer entry: 0 and *found=false when absent. */
static int find_entry(const struct fw_image *fw, const char *guid, size_t min_len, const char *name,
		      const uint8_t **data, bool *found)
{
	size_t len = 0;
	int ret = fw_table_find(fw, guid, data, &len);

	*found = false;
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	if (len < min_len)
		return err_set(EINVAL, "%s: %s entry in the OVMF footer table is %zu bytes, needs %zu", fw->path,
			       name, len, min_len);
	*found = true;
	return 0;
}

static int check_section(const struct fw_image *fw, const struct fw_sev_section *s, size_t i)
{
	const char *name = fw_sev_section_name(s->type);
	uint64_t end = (uint64_t)s->gpa + s->size;

	if (!name)
		return err_set(EINVAL, "%s: SEV metadata section %zu has unknown type %#x", fw->path, i, s->type);
	if (!s->size)
		return 0; /* some builds (IntelTdx) declare empty sections: nothing to add */
	if (s->gpa % PAGE_SIZE || s->size % PAGE_SIZE)
		return err_set(EINVAL, "%s: SEV metadata section %zu (%s) gpa %#x size %#x is not page aligned",
			       fw->path, i, name, s->gpa, s->size);
	if (end > (1ull << 32))
		return err_set(EINVAL, "%s: SEV metadata section %zu (%s) gpa %#x size %#x is out of range (beyond 4 GiB)",
			       fw->path, i, name, s->gpa, s->size);
	if (end > fw->base_gpa)
		return err_set(EINVAL,
			       "%s: SEV metadata section %zu (%s) gpa %#x size %#x is out of range (overlaps the firmware "
			       "image at %#llx)", fw->path, i, name, s->gpa, s->size, (unsigned long long)fw->base_gpa);
	return 0;
}

static int parse_metadata(const struct fw_image *fw, const uint8_t *entry, struct fw_sev_info *info)
{
	uint32_t off = le32(entry), size, version, n;
	uint8_t sig[4];
	struct reader r;

	if (off < SEV_META_HDR_LEN || off > fw->size)
		return err_set(EINVAL, "%s: SEV metadata offset %#x from the end is out of range (image is %zu bytes)",
			       fw->path, off, fw->size);
	rd_init(&r, fw->data + (fw->size - off), off, fw->path);
	if (rd_bytes(&r, "SEV metadata signature", sig, 4) || rd_u32(&r, "SEV metadata size", &size) ||
	    rd_u32(&r, "SEV metadata version", &version) || rd_u32(&r, "SEV metadata item count", &n))
		return -EINVAL;
	if (memcmp(sig, "ASEV", 4))
		return err_set(EINVAL, "%s: SEV metadata at offset %#zx has a bad signature (not \"ASEV\")", fw->path,
			       fw->size - off);
	if (version != 1)
		return err_set(EINVAL, "%s: SEV metadata version %u is not supported (only 1)", fw->path, version);
	if (n > FW_SEV_MAX_SECTIONS)
		return err_set(EINVAL, "%s: SEV metadata declares %u sections, at most %u supported", fw->path, n,
			       FW_SEV_MAX_SECTIONS);
	if (size < SEV_META_HDR_LEN + n * SEV_META_DESC_LEN || size > off)
		return err_set(EINVAL, "%s: SEV metadata size %u is out of range for %u sections (%u bytes to the end)",
			       fw->path, size, n, off);
	for (uint32_t i = 0; i < n; i++) {
		struct fw_sev_section *s = &info->sections[i];

		if (rd_u32(&r, "SEV metadata section gpa", &s->gpa) || rd_u32(&r, "SEV metadata section size", &s->size) ||
		    rd_u32(&r, "SEV metadata section type", &s->type))
			return -EINVAL;
		int ret = check_section(fw, s, i);
		if (ret)
			return ret;
		for (uint32_t j = 0; j < i; j++) {
			const struct fw_sev_section *o = &info->sections[j];

			if (!s->size || !o->size)
				continue;
			if ((uint64_t)s->gpa < (uint64_t)o->gpa + o->size && (uint64_t)o->gpa < (uint64_t)s->gpa + s->size)
				return err_set(EINVAL, "%s: SEV metadata section %u (%s at %#x) overlaps section %u (%s at %#x)",
					       fw->path, i, fw_sev_section_name(s->type), s->gpa, j,
					       fw_sev_section_name(o->type), o->gpa);
		}
	}
	info->n_sections = n;
	return 0;
}

int fw_sev_parse(const struct fw_image *fw, struct fw_sev_info *info)
{
	const uint8_t *d = NULL;
	bool found;
	int ret;

	memset(info, 0, sizeof(*info));
	/* Validates the footer table as a whole: a missing table is an error here
	 * because every SEV-capable OVMF has one. */
	ret = fw_table_check(fw);
	if (ret)
		return ret;

	ret = find_entry(fw, FW_GUID_SEV_METADATA, 4, "SEV metadata", &d, &found);
	if (ret)
		return ret;
	if (found) {
		ret = parse_metadata(fw, d, info);
		if (ret)
			return ret;
	}

	ret = find_entry(fw, FW_GUID_SEV_ES_RESET, 4, "SEV-ES reset block", &d, &found);
	if (ret)
		return ret;
	if (found) {
		info->has_reset_block = true;
		info->ap_reset_eip = le32(d);
	}

	ret = find_entry(fw, FW_GUID_SEV_HASHES, 8, "SEV hashes table", &d, &found);
	if (ret)
		return ret;
	/* gpa 0 / size 0 is how generic OVMF builds say "no table". */
	if (found && le32(d)) {
		info->has_hashes_table = true;
		info->hashes_gpa = le32(d);
		info->hashes_size = le32(d + 4);
	}
	return 0;
}
