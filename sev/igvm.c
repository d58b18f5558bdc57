/* IGVM files (microsoft/igvm, igvm_defs): the fixed header {magic "IGVM",
 * format_version, variable_header_offset, variable_header_size,
 * total_file_size, checksum} (version 2 adds architecture and page_size),
 * then variable headers {u32 type, u32 length, content} each padded to 8
 * bytes, in three stages: platform (0x1..0x100), initialization
 * (0x101..0x200), directives (0x301..0x400). The checksum is the CRC32 of
 * the fixed header (checksum field zero) and the variable headers. File
 * offsets in headers count from the start of the file and point into the
 * data section after the variable headers.
 *
 * The launch digest follows COCONUT-SVSM's igvmmeasure (tools/igvmmeasure):
 * for the chosen platform's compatibility mask, in directive order,
 *   PAGE_DATA NORMAL: UNMEASURED if flagged unmeasured; without data a
 *     NORMAL page of zeros (a ZERO page with --native-zero); with data a
 *     NORMAL page; SECRETS: a secrets page; CPUID_DATA/CPUID_XF: a CPUID
 *     page; other types are not measured; a 2 MiB page is 512 pages;
 *   PARAMETER_INSERT: one UNMEASURED page at its gpa;
 *   VP_CONTEXT holding an SEV VMSA (for an SEV-SNP or SEV-ES platform): a
 *     VMSA page at the directive's gpa;
 *   SNP_ID_BLOCK: its LD is the digest the launch must produce.
 * SEV and SEV-ES instead hash (SHA-256) the data of every page that has
 * data and every VMSA, in order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "common/common.h"
#include "igvm.h"
#include "sev.h"
#include "tdx/tdx.h"

#define FIXED_V1 24u
#define FIXED_V2 32u
#define PAGE 4096u
#define PAGE_2M (2u << 20)
#define MAX_HEADERS (1u << 20)

static size_t align8(size_t x) { return (x + 7) & ~(size_t)7; }

const char *igvm_vht_name(uint32_t t)
{
	switch (t) {
	case IGVM_VHT_SUPPORTED_PLATFORM: return "SUPPORTED_PLATFORM";
	case IGVM_VHT_GUEST_POLICY: return "GUEST_POLICY";
	case IGVM_VHT_RELOCATABLE_REGION: return "RELOCATABLE_REGION";
	case IGVM_VHT_PAGE_TABLE_RELOCATION_REGION: return "PAGE_TABLE_RELOCATION_REGION";
	case 0x104: return "CORIM_DOCUMENT";
	case 0x105: return "CORIM_SIGNATURE";
	case 0x106: return "CCA_POLICY";
	case IGVM_VHT_PARAMETER_AREA: return "PARAMETER_AREA";
	case IGVM_VHT_PAGE_DATA: return "PAGE_DATA";
	case IGVM_VHT_PARAMETER_INSERT: return "PARAMETER_INSERT";
	case IGVM_VHT_VP_CONTEXT: return "VP_CONTEXT";
	case IGVM_VHT_REQUIRED_MEMORY: return "REQUIRED_MEMORY";
	case IGVM_VHT_VP_COUNT_PARAMETER: return "VP_COUNT_PARAMETER";
	case IGVM_VHT_SRAT: return "SRAT";
	case IGVM_VHT_MADT: return "MADT";
	case IGVM_VHT_MMIO_RANGES: return "MMIO_RANGES";
	case IGVM_VHT_SNP_ID_BLOCK: return "SNP_ID_BLOCK";
	case IGVM_VHT_MEMORY_MAP: return "MEMORY_MAP";
	case IGVM_VHT_ERROR_RANGE: return "ERROR_RANGE";
	case IGVM_VHT_COMMAND_LINE: return "COMMAND_LINE";
	case IGVM_VHT_SLIT: return "SLIT";
	case IGVM_VHT_PPTT: return "PPTT";
	case IGVM_VHT_VBS_MEASUREMENT: return "VBS_MEASUREMENT";
	case IGVM_VHT_DEVICE_TREE: return "DEVICE_TREE";
	case IGVM_VHT_ENVIRONMENT_INFO_PARAMETER: return "ENVIRONMENT_INFO_PARAMETER";
	default: return NULL;
	}
}

const char *igvm_platform_name(uint32_t t)
{
	static const char *const names[] = { "NATIVE", "VSM_ISOLATION", "SEV_SNP", "TDX", "SEV", "SEV_ES", "CCA" };

	return t < ARRAY_SIZE(names) ? names[t] : "unknown";
}

static int data_at(const struct igvm *f, size_t data_start, uint32_t off, size_t n, const char *field,
		   const uint8_t *base, const uint8_t **out)
{
	if (off < data_start || !range_ok(off, n, f->size))
		return err_set(EINVAL, "%s: %s file offset %#x (+%#zx) is outside the data section %#zx..%#zx", f->what,
			       field, off, n, data_start, f->size);
	*out = base + off;
	return 0;
}

/* The platform type a compatibility mask names (one SUPPORTED_PLATFORM bit). */
static int mask_platform(const struct igvm *f, uint32_t mask)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->h[i].type == IGVM_VHT_SUPPORTED_PLATFORM && (f->h[i].mask & mask))
			return f->h[i].platform_type;
	return -1;
}

static int parse_one(struct igvm *f, struct reader *r, struct igvm_hdr *h, size_t data_start, const uint8_t *base)
{
	const char *name = igvm_vht_name(h->type);
	uint32_t u32v, mask_all = 0;
	uint16_t u16v;
	uint8_t u8v;
	int ret = 0;

#define NEED(n)                                                                                                 \
	do {                                                                                                    \
		if (h->length != (n))                                                                          \
			return err_set(EINVAL, "%s: %s header at offset %#x has length %u, expected %u", f->what, \
				       name, h->offset, h->length, (unsigned)(n));                              \
	} while (0)
	switch (h->type) {
	case IGVM_VHT_SUPPORTED_PLATFORM:
		NEED(16);
		if (rd_u32(r, "platform compatibility_mask", &h->mask) || rd_u8(r, "platform highest_vtl", &h->highest_vtl) ||
		    rd_u8(r, "platform platform_type", &h->platform_type) ||
		    rd_u16(r, "platform platform_version", &h->platform_version) ||
		    rd_u64(r, "platform shared_gpa_boundary", &h->value))
			return -EINVAL;
		if (!h->mask || (h->mask & (h->mask - 1)))
			return err_set(EINVAL, "%s: SUPPORTED_PLATFORM at offset %#x: compatibility mask %#x is not one bit",
				       f->what, h->offset, h->mask);
		for (size_t i = 0; i < f->n; i++)
			if (f->h[i].type == IGVM_VHT_SUPPORTED_PLATFORM)
				mask_all |= f->h[i].mask;
		if (mask_all & h->mask)
			return err_set(EINVAL, "%s: SUPPORTED_PLATFORM at offset %#x reuses compatibility mask %#x", f->what,
				       h->offset, h->mask);
		return 0;
	case IGVM_VHT_GUEST_POLICY:
		NEED(16);
		return rd_u64(r, "guest policy", &h->value) || rd_u32(r, "guest policy compatibility_mask", &h->mask) ||
			       rd_u32(r, "guest policy reserved", &u32v) ? -EINVAL : 0;
	case IGVM_VHT_PARAMETER_AREA:
		NEED(16);
		if (rd_u64(r, "parameter area number_of_bytes", &h->value) ||
		    rd_u32(r, "parameter area index", &h->index) || rd_u32(r, "parameter area file_offset", &h->file_offset))
			return -EINVAL;
		if (h->value > (1ull << 32) || h->value % PAGE)
			return err_set(EINVAL, "%s: PARAMETER_AREA %u: size %#llx is not a page multiple below 4 GiB",
				       f->what, h->index, (unsigned long long)h->value);
		if (h->file_offset)
			return data_at(f, data_start, h->file_offset, h->value, "PARAMETER_AREA", base, &h->data);
		return 0;
	case IGVM_VHT_PAGE_DATA:
		NEED(24);
		if (rd_u64(r, "page data gpa", &h->gpa) || rd_u32(r, "page data compatibility_mask", &h->mask) ||
		    rd_u32(r, "page data file_offset", &h->file_offset) || rd_u32(r, "page data flags", &h->flags) ||
		    rd_u16(r, "page data data_type", &h->data_type) || rd_u16(r, "page data reserved", &u16v))
			return -EINVAL;
		if (u16v || (h->flags & ~7u))
			return err_set(EINVAL, "%s: PAGE_DATA at offset %#x: reserved bits set", f->what, h->offset);
		if (h->gpa % ((h->flags & IGVM_PAGE_F_2MB) ? PAGE_2M : PAGE))
			return err_set(EINVAL, "%s: PAGE_DATA at offset %#x: gpa %#llx is not aligned to its page size",
				       f->what, h->offset, (unsigned long long)h->gpa);
		if (h->file_offset && (h->flags & IGVM_PAGE_F_2MB))
			return err_set(EINVAL, "%s: PAGE_DATA at offset %#x: 2 MiB pages with data are not supported", f->what,
				       h->offset);
		if (h->file_offset)
			return data_at(f, data_start, h->file_offset, PAGE, "PAGE_DATA", base, &h->data);
		return 0;
	case IGVM_VHT_PARAMETER_INSERT:
		NEED(16);
		if (rd_u64(r, "parameter insert gpa", &h->gpa) || rd_u32(r, "parameter insert compatibility_mask", &h->mask) ||
		    rd_u32(r, "parameter insert index", &h->index))
			return -EINVAL;
		if (h->gpa % PAGE)
			return err_set(EINVAL, "%s: PARAMETER_INSERT at offset %#x: gpa %#llx is not page aligned", f->what,
				       h->offset, (unsigned long long)h->gpa);
		for (size_t i = f->n; i-- > 0;)
			if (f->h[i].type == IGVM_VHT_PARAMETER_AREA && f->h[i].index == h->index)
				return 0;
		return err_set(EINVAL, "%s: PARAMETER_INSERT at offset %#x: parameter area %u was not declared", f->what,
			       h->offset, h->index);
	case IGVM_VHT_VP_CONTEXT:
		NEED(20);
		if (rd_u64(r, "VP context gpa", &h->gpa) || rd_u32(r, "VP context compatibility_mask", &h->mask) ||
		    rd_u32(r, "VP context file_offset", &h->file_offset) || rd_u16(r, "VP context vp_index", &u16v))
			return -EINVAL;
		h->index = u16v;
		ret = mask_platform(f, h->mask);
		if (ret == IGVM_PLATFORM_SEV_SNP || ret == IGVM_PLATFORM_SEV_ES) {
			if (h->gpa % PAGE)
				return err_set(EINVAL, "%s: VP_CONTEXT at offset %#x: VMSA gpa %#llx is not page aligned",
					       f->what, h->offset, (unsigned long long)h->gpa);
			return data_at(f, data_start, h->file_offset, PAGE, "VP_CONTEXT VMSA", base, &h->data);
		}
		return 0;
	case IGVM_VHT_SNP_ID_BLOCK:
		NEED(IGVM_SNP_ID_BLOCK_LEN);
		if (rd_u32(r, "SNP ID block compatibility_mask", &h->mask) ||
		    rd_u8(r, "SNP ID block author_key_enabled", &u8v) ||
		    rd_ptr(r, "SNP ID block", IGVM_SNP_ID_BLOCK_LEN - 5, &h->data))
			return -EINVAL;
		h->data -= 5;
		return 0;
	default:
		return 0; /* other headers: listed, not measured (their length was bounds-checked) */
	}
#undef NEED
}

int igvm_parse(const uint8_t *data, size_t len, const char *what, struct igvm *f)
{
	uint32_t magic, vh_off, vh_size, total, sum, arch = 0, page_size = 0;
	size_t fixed, data_start, cap = 0;
	uint8_t hdr[FIXED_V2];
	struct reader r;
	int stage = 0, ret;
	uLong crc;

	*f = (struct igvm){ .what = what, .size = len };
	rd_init(&r, data, len, what);
	if (rd_u32(&r, "IGVM magic", &magic) || rd_u32(&r, "IGVM format_version", &f->version) ||
	    rd_u32(&r, "IGVM variable_header_offset", &vh_off) || rd_u32(&r, "IGVM variable_header_size", &vh_size) ||
	    rd_u32(&r, "IGVM total_file_size", &total) || rd_u32(&r, "IGVM checksum", &sum))
		return -EINVAL;
	if (magic != IGVM_MAGIC)
		return err_set(EINVAL, "%s: not an IGVM file (magic %#x, expected \"IGVM\")", what, magic);
	if (f->version != 1 && f->version != 2)
		return err_set(EINVAL, "%s: IGVM format version %u is not supported (1 or 2)", what, f->version);
	fixed = f->version == 1 ? FIXED_V1 : FIXED_V2;
	if (f->version == 2) {
		if (rd_u32(&r, "IGVM architecture", &arch) || rd_u32(&r, "IGVM page_size", &page_size))
			return -EINVAL;
		if (arch != 0 || page_size != PAGE)
			return err_set(EINVAL, "%s: IGVM architecture %u page size %u: only x64 with 4 KiB pages", what,
				       arch, page_size);
	}
	if (total != len)
		return err_set(EINVAL, "%s: IGVM total_file_size %u does not match the file (%zu bytes)", what, total, len);
	if (vh_off < fixed || vh_off % 8 || !range_ok(vh_off, vh_size, len))
		return err_set(EINVAL, "%s: IGVM variable headers at %#x+%#x are out of range", what, vh_off, vh_size);
	data_start = (size_t)vh_off + vh_size;
	memcpy(hdr, data, fixed);
	put_le32(hdr + 20, 0);
	crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, hdr, (uInt)fixed);
	crc = crc32(crc, data + vh_off, (uInt)vh_size);
	if ((uint32_t)crc != sum)
		return err_set(EINVAL, "%s: IGVM checksum %#x does not match the headers (CRC32 %#x)", what, sum,
			       (uint32_t)crc);
	f->checksum = sum;

	rd_init(&r, data, data_start, what);
	rd_seek(&r, "IGVM variable headers", vh_off);
	while (rd_left(&r)) {
		uint32_t type, length;
		struct igvm_hdr *h;
		struct reader body;
		int st;

		if (rd_u32(&r, "variable header type", &type) || rd_u32(&r, "variable header length", &length))
			goto bad;
		if (length > rd_left(&r)) {
			ret = err_set(EINVAL, "%s: variable header at offset %#zx: length %u runs past the headers",
				      what, r.off - 8, length);
			goto fail;
		}
		if (f->n == cap) {
			struct igvm_hdr *nh;

			if (cap >= MAX_HEADERS) {
				ret = err_set(E2BIG, "%s: more than %u variable headers", what, MAX_HEADERS);
				goto fail;
			}
			cap = cap ? cap * 2 : 64;
			nh = realloc(f->h, cap * sizeof(*nh));
			if (!nh) {
				ret = err_set(ENOMEM, "out of memory");
				goto fail;
			}
			f->h = nh;
		}
		h = &f->h[f->n];
		*h = (struct igvm_hdr){ .type = type & ~IGVM_VHT_OPTIONAL, .optional = type & IGVM_VHT_OPTIONAL,
					.offset = (uint32_t)(r.off - 8), .length = length };
		st = h->type >= 0x1 && h->type <= 0x100 ? 0 : h->type >= 0x101 && h->type <= 0x200 ? 1
			: h->type >= 0x301 && h->type <= 0x400 ? 2 : -1;
		if (st < 0 || (!igvm_vht_name(h->type) && !h->optional)) {
			ret = err_set(EINVAL, "%s: variable header at offset %#x has unknown type %#x", what, h->offset, type);
			goto fail;
		}
		if (st < stage) {
			ret = err_set(EINVAL, "%s: %s header at offset %#x comes after a later stage's header", what,
				      igvm_vht_name(h->type) ? igvm_vht_name(h->type) : "optional", h->offset);
			goto fail;
		}
		stage = st;
		rd_init(&body, data + r.off, length, what);
		body.off = 0;
		if ((ret = parse_one(f, &body, h, data_start, data)))
			goto fail;
		f->n++;
		/* the next header starts 8-aligned (and never past the headers) */
		if (rd_skip(&r, "variable header padding", length) ||
		    (align8(r.off) != r.off && rd_skip(&r, "variable header padding", align8(r.off) - r.off)))
			goto bad;
	}
	if (!f->n)
		return err_set(EINVAL, "%s: IGVM file has no variable headers", what);
	return 0;
bad:
	ret = -EINVAL;
fail:
	igvm_free(f);
	return ret;
}

void igvm_free(struct igvm *f)
{
	free(f->h);
	f->h = NULL;
	f->n = 0;
}

int igvm_platform_mask(const struct igvm *f, uint32_t platform, uint32_t *mask)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->h[i].type == IGVM_VHT_SUPPORTED_PLATFORM && f->h[i].platform_type == platform) {
			*mask = f->h[i].mask;
			return 0;
		}
	return err_set(EINVAL, "%s: IGVM file is not compatible with the specified platform (no %s in its "
			       "SUPPORTED_PLATFORM headers)", f->what, igvm_platform_name(platform));
}

static int add(struct launch_plan *p, uint64_t gpa, uint64_t len, enum plan_kind kind, const uint8_t *data,
	       int vcpu, const char *label)
{
	struct plan_step s = { .gpa = gpa, .len = len, .kind = kind, .data = data, .vcpu = vcpu };

	snprintf(s.label, sizeof(s.label), "%s", label);
	return plan_add(p, &s);
}

int igvm_snp_plan(const struct igvm *f, const struct igvm_measure_opts *o, struct launch_plan *p,
		  struct igvm_measurement *m)
{
	uint32_t mask;
	int ret = igvm_platform_mask(f, o->platform, &mask);

	*p = (struct launch_plan){0};
	if (ret)
		return ret;
	for (size_t i = 0; i < f->n && !ret; i++) {
		const struct igvm_hdr *h = &f->h[i];
		uint64_t len = (h->flags & IGVM_PAGE_F_2MB) ? PAGE_2M : PAGE;

		switch (h->type) {
		case IGVM_VHT_PAGE_DATA:
			if (!(h->mask & mask))
				break;
			switch (h->data_type) {
			case IGVM_PAGE_NORMAL:
				if (h->flags & IGVM_PAGE_F_UNMEASURED)
					ret = add(p, h->gpa, len, PLAN_UNMEASURED, NULL, -1, "unmeasured");
				else if (!h->data)
					ret = add(p, h->gpa, len, o->native_zero ? PLAN_ZERO : PLAN_NORMAL, NULL, -1, "zero");
				else
					ret = add(p, h->gpa, len, PLAN_NORMAL, h->data, -1, "page data");
				break;
			case IGVM_PAGE_SECRETS:
				ret = add(p, h->gpa, len, PLAN_SECRETS, NULL, -1, "secrets");
				break;
			case IGVM_PAGE_CPUID_DATA:
			case IGVM_PAGE_CPUID_XF:
				ret = add(p, h->gpa, len, PLAN_CPUID, NULL, -1, "cpuid");
				break;
			}
			break;
		case IGVM_VHT_PARAMETER_INSERT:
			if (h->mask & mask) /* igvmmeasure: one unmeasured page */
				ret = add(p, h->gpa, PAGE, PLAN_UNMEASURED, NULL, -1, "parameter area");
			break;
		case IGVM_VHT_VP_CONTEXT:
			if (h->data) {
				char label[24];

				snprintf(label, sizeof(label), "VMSA vp %u", h->index);
				ret = add(p, h->gpa, PAGE, PLAN_VMSA, h->data, (int)h->index, label);
				m->vmsas++;
			}
			break;
		case IGVM_VHT_SNP_ID_BLOCK:
			if (h->mask & mask) {
				m->has_id_block = true;
				memcpy(m->id_block_ld, h->data + 8, 48);
			}
			break;
		}
	}
	if (ret)
		plan_free(p);
	return ret;
}

/* TDX: the rules of microsoft/igvm's own measurement (igvm/src/measurement/
 * tdx.rs): for headers whose mask includes the platform's, PAGE_DATA that is
 * not shared is TDH.MEM.PAGE.ADD then TDH.MR.EXTEND of its sixteen 256-byte
 * chunks (zeros without data), only PAGE.ADD when unmeasured; a
 * PARAMETER_INSERT adds (unmeasured) every page of its parameter area; VP
 * contexts are not measured (a TD starts in its architectural state). */
int igvm_tdx_plan(const struct igvm *f, struct launch_plan *p)
{
	uint32_t mask;
	int ret = igvm_platform_mask(f, IGVM_PLATFORM_TDX, &mask);

	*p = (struct launch_plan){0};
	if (ret)
		return ret;
	for (size_t i = 0; i < f->n && !ret; i++) {
		const struct igvm_hdr *h = &f->h[i];
		struct plan_step st = { .gpa = h->gpa, .len = PAGE, .kind = PLAN_NORMAL, .vcpu = -1 };

		if ((h->mask & mask) != mask)
			continue;
		if (h->type == IGVM_VHT_PAGE_DATA) {
			if (h->flags & IGVM_PAGE_F_SHARED)
				continue;
			if (h->flags & IGVM_PAGE_F_2MB) {
				ret = err_set(EINVAL, "%s: PAGE_DATA at offset %#x: 2 MiB pages are not measured for TDX (the "
						      "reference measures only their first 4 KiB)", f->what, h->offset);
				break;
			}
			if (!(h->flags & IGVM_PAGE_F_UNMEASURED)) {
				st.flags = PLAN_F_EXTEND;
				st.data = h->data;
			}
			snprintf(st.label, sizeof(st.label), "%s", h->data ? "page data" : "zero");
			ret = plan_add(p, &st);
		} else if (h->type == IGVM_VHT_PARAMETER_INSERT) {
			/* the area's size, from its PARAMETER_AREA (checked when parsing) */
			for (size_t j = i; j-- > 0;)
				if (f->h[j].type == IGVM_VHT_PARAMETER_AREA && f->h[j].index == h->index) {
					st.len = f->h[j].value;
					break;
				}
			snprintf(st.label, sizeof(st.label), "parameter area %u", h->index);
			if (st.len)
				ret = plan_add(p, &st);
		}
	}
	if (ret)
		plan_free(p);
	return ret;
}

static int es_digest(const struct igvm *f, const struct igvm_measure_opts *o, struct igvm_measurement *m)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint32_t mask;
	int ret = igvm_platform_mask(f, o->platform, &mask);

	if (!ret && (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1))
		ret = err_set(EIO, "SHA-256 failed");
	for (size_t i = 0; i < f->n && !ret; i++) {
		const struct igvm_hdr *h = &f->h[i];

		if (!h->data || !((h->type == IGVM_VHT_PAGE_DATA && (h->mask & mask)) || h->type == IGVM_VHT_VP_CONTEXT))
			continue;
		if (EVP_DigestUpdate(ctx, h->data, PAGE) != 1)
			ret = err_set(EIO, "SHA-256 failed");
		m->vmsas += h->type == IGVM_VHT_VP_CONTEXT;
	}
	if (!ret && EVP_DigestFinal_ex(ctx, m->digest, NULL) != 1)
		ret = err_set(EIO, "SHA-256 failed");
	m->digest_len = 32;
	EVP_MD_CTX_free(ctx);
	return ret;
}

int igvm_measure(const struct igvm *f, const struct igvm_measure_opts *o, struct igvm_measurement *m,
		 void (*trace)(void *ctx, size_t index, const struct plan_step *s, const uint8_t *digest, size_t n),
		 void *trace_ctx)
{
	struct launch_plan p;
	int ret;

	memset(m, 0, sizeof(*m));
	if (o->platform == IGVM_PLATFORM_SEV || o->platform == IGVM_PLATFORM_SEV_ES)
		return es_digest(f, o, m);
	if (o->platform == IGVM_PLATFORM_TDX) {
		if ((ret = igvm_tdx_plan(f, &p)))
			return ret;
		m->digest_len = TDX_MR_SIZE;
		ret = tdx_mrtd(&p, TDX_MRTD_SINGLE_PASS, NULL, m->digest);
		plan_free(&p);
		return ret;
	}
	if (o->platform != IGVM_PLATFORM_SEV_SNP)
		return err_set(EINVAL, "%s: measuring IGVM files for %s is not supported (snp, sev-es, sev, tdx)",
			       f->what, igvm_platform_name(o->platform));
	ret = igvm_snp_plan(f, o, &p, m);
	if (ret)
		return ret;
	m->digest_len = SNP_DIGEST_LEN;
	ret = snp_digest_fold(&p, 0, NULL, m->digest, trace, trace_ctx);
	plan_free(&p);
	return ret;
}

static const char *page_type_name(uint16_t t)
{
	switch (t) {
	case IGVM_PAGE_NORMAL: return "NORMAL";
	case IGVM_PAGE_SECRETS: return "SECRETS";
	case IGVM_PAGE_CPUID_DATA: return "CPUID_DATA";
	case IGVM_PAGE_CPUID_XF: return "CPUID_XF";
	default: return "unknown";
	}
}

int igvm_show(const struct igvm *f, struct bytebuf *out)
{
	int ret = bb_printf(out, "IGVM format version %u, %zu bytes, %zu variable headers, checksum %#010x\n",
			    f->version, f->size, f->n, f->checksum);

	for (size_t i = 0; i < f->n && !ret; i++) {
		const struct igvm_hdr *h = &f->h[i];
		const char *name = igvm_vht_name(h->type);

		switch (h->type) {
		case IGVM_VHT_SUPPORTED_PLATFORM:
			ret = bb_printf(out, "%#08x SUPPORTED_PLATFORM %s version %u mask %#x highest_vtl %u "
					     "shared_gpa_boundary %#llx\n", h->offset, igvm_platform_name(h->platform_type),
					h->platform_version, h->mask, h->highest_vtl, (unsigned long long)h->value);
			break;
		case IGVM_VHT_GUEST_POLICY:
			ret = bb_printf(out, "%#08x GUEST_POLICY %#llx mask %#x\n", h->offset, (unsigned long long)h->value,
					h->mask);
			break;
		case IGVM_VHT_PAGE_DATA: {
			/* a run of contiguous pages with the same attributes: one line */
			size_t j = i;
			uint64_t step = (h->flags & IGVM_PAGE_F_2MB) ? PAGE_2M : PAGE;

			while (j + 1 < f->n && f->h[j + 1].type == IGVM_VHT_PAGE_DATA && f->h[j + 1].mask == h->mask &&
			       f->h[j + 1].flags == h->flags && f->h[j + 1].data_type == h->data_type &&
			       !f->h[j + 1].data == !h->data && f->h[j + 1].gpa == f->h[j].gpa + step)
				j++;
			ret = bb_printf(out, "%#08x PAGE_DATA gpa %#llx pages %zu (%s) %s%s%s%s mask %#x\n", h->offset,
					(unsigned long long)h->gpa, j - i + 1, step == PAGE ? "4K" : "2M",
					page_type_name(h->data_type), h->data ? " data" : " zero",
					(h->flags & IGVM_PAGE_F_UNMEASURED) ? " unmeasured" : "",
					(h->flags & IGVM_PAGE_F_SHARED) ? " shared" : "", h->mask);
			i = j;
			break;
		}
		case IGVM_VHT_PARAMETER_AREA:
			ret = bb_printf(out, "%#08x PARAMETER_AREA index %u bytes %#llx%s\n", h->offset, h->index,
					(unsigned long long)h->value, h->data ? " with initial data" : "");
			break;
		case IGVM_VHT_PARAMETER_INSERT:
			ret = bb_printf(out, "%#08x PARAMETER_INSERT index %u gpa %#llx mask %#x\n", h->offset, h->index,
					(unsigned long long)h->gpa, h->mask);
			break;
		case IGVM_VHT_VP_CONTEXT:
			ret = bb_printf(out, "%#08x VP_CONTEXT vp %u gpa %#llx mask %#x%s\n", h->offset, h->index,
					(unsigned long long)h->gpa, h->mask, h->data ? " (SEV VMSA)" : "");
			break;
		case IGVM_VHT_SNP_ID_BLOCK: {
			char ld[97];

			hex_encode(h->data + 8, 48, ld);
			ret = bb_printf(out, "%#08x SNP_ID_BLOCK mask %#x author_key %s ld %s guest_svn %u\n", h->offset,
					h->mask, h->data[4] ? "yes" : "no", ld, le32(h->data + 8 + 48 + 32 + 4));
			break;
		}
		default:
			ret = bb_printf(out, "%#08x %s%s length %u\n", h->offset, name ? name : "unknown",
					h->optional ? " (optional)" : "", h->length);
		}
	}
	return ret;
}
