/* firmware.h - OVMF/TDVF image parsing and the launch plan.
 *
 * The launch plan (design.md, "The one idea") is the single ordered list of
 * what the hardware measures. firmware/ builds its base from the image; sev/
 * and tdx/ add their steps, fold it into digests, and the platform backends
 * replay it with the real ioctls. */
#ifndef CVMM_FIRMWARE_H
#define CVMM_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------- launch plan ---------------- */

enum plan_kind {
	PLAN_NORMAL,        /* measured bytes (SNP PAGE_TYPE_NORMAL, TDX PAGE.ADD+EXTEND) */
	PLAN_ZERO,          /* measured zero pages (SNP PAGE_TYPE_ZERO) */
	PLAN_UNMEASURED,    /* private but not measured (SNP PAGE_TYPE_UNMEASURED) */
	PLAN_SECRETS,       /* SNP secrets page */
	PLAN_CPUID,         /* SNP CPUID page */
	PLAN_VMSA,          /* SEV-ES/SNP initial vCPU state */
	PLAN_KERNEL_HASHES, /* SEV hashes table page (kernel/initrd/cmdline) */
	PLAN_TD_HOB,        /* TDX: TD HOB (TDVF TD_HOB section) */
	PLAN_TEMP_MEM,      /* TDX: TempMem section */
	PLAN_PERM_MEM,      /* TDX: PermMem section */
	PLAN_PAYLOAD,       /* TDX: Payload / PayloadParam section */
	PLAN_KIND_COUNT,
};

/* Step flags (TDVF section attributes, plus cvmm's own). */
#define PLAN_F_EXTEND 0x1u   /* TDX: MR.EXTEND the page contents */
#define PLAN_F_AUG    0x2u   /* TDX: PAGE.AUG (added at run time, not measured) */

struct plan_step {
	uint64_t gpa;
	uint64_t len;          /* bytes; a multiple of 4096 for page steps */
	enum plan_kind kind;
	uint32_t flags;
	const uint8_t *data;   /* len bytes, or NULL where the content is zeros */
	int vcpu;              /* PLAN_VMSA: the vCPU index; otherwise -1 */
	char label[24];        /* "BFV", "SEV hashes", ... for --trace */
};

struct launch_plan {
	struct plan_step *steps;
	size_t n, cap;
	void **owned;          /* buffers freed with the plan */
	size_t n_owned, cap_owned;
};

const char *plan_kind_name(enum plan_kind k);
int plan_add(struct launch_plan *p, const struct plan_step *s);
/* Hand a malloc'ed buffer to the plan: freed by plan_free(). On failure the
 * buffer is freed too. */
int plan_own(struct launch_plan *p, void *buf);
void plan_free(struct launch_plan *p);

/* ---------------- firmware image ---------------- */

/* EFI_GUID in its on-disk (mixed-endian) byte order. */
struct efi_guid {
	uint8_t b[16];
};
/* Parse "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into on-disk order. */
int guid_parse(const char *s, struct efi_guid *g);
void guid_format(const struct efi_guid *g, char out[37]);

struct fw_image {
	const char *path;      /* for messages */
	uint8_t *data;
	size_t size;
	uint64_t base_gpa;     /* the image ends at 4 GiB: base = 4G - size */
};

/* Load a firmware file, any readable file read once (size checked: a
 * multiple of 4 KiB, 4 KiB..64 MiB). */
int fw_load(const char *path, struct fw_image *fw);
void fw_free(struct fw_image *fw);
/* Wrap bytes already in memory (no copy; fw_free must not be called). */
int fw_from_bytes(const uint8_t *data, size_t size, const char *name, struct fw_image *fw);

/* OVMF footer GUID table (OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm):
 * find the entry with this GUID; *data/ *len are its payload. -ENOENT when
 * the table has no such entry; other errors when the table is malformed. */
int fw_table_find(const struct fw_image *fw, const char *guid, const uint8_t **data, size_t *len);
/* The image as one measured step at the top of 4 GiB (QEMU's -bios and
 * pflash launch, "firmware"): the first step of every firmware plan. */
int plan_add_firmware(struct launch_plan *p, const struct fw_image *fw);
/* Validate the table as a whole (used by fuzzing and `fw_load` users). */
int fw_table_check(const struct fw_image *fw);

#define FW_GUID_TABLE_FOOTER "96b582de-1fb2-45f7-baea-a366c55a082d"
#define FW_GUID_SEV_METADATA "dc886566-984a-4798-a75e-5585a7bf67cc"
#define FW_GUID_SEV_HASHES   "7255371f-3a3b-4b04-927b-1da6efa8d454"
#define FW_GUID_SEV_ES_RESET "00f771de-1a7e-4fcb-890e-68c77e2fb44e"
#define FW_GUID_TDX_METADATA "e47a6535-984a-4798-865e-4685a7bf8ec2"

/* ---------------- SEV metadata and hashes table (issue 4) ---------------- */

/* OVMF SEV metadata section types (OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm,
 * also QEMU target/i386/sev.c SEV_DESC_TYPE_*). */
enum fw_sev_section_type {
	FW_SEV_SNP_SEC_MEM = 1,        /* pre-validated memory: zero pages */
	FW_SEV_SNP_SECRETS = 2,        /* SNP secrets page */
	FW_SEV_CPUID = 3,              /* SNP CPUID page */
	FW_SEV_SVSM_CAA = 4,           /* SVSM calling area: zero pages */
	FW_SEV_SNP_KERNEL_HASHES = 0x10, /* page holding the SEV hashes table */
};

#define FW_SEV_MAX_SECTIONS 64

struct fw_sev_section {
	uint32_t gpa;
	uint32_t size;                 /* bytes; 0 = empty (no pages) */
	uint32_t type;                 /* enum fw_sev_section_type */
};

/* Everything SEV needs from an OVMF image's footer table. */
struct fw_sev_info {
	struct fw_sev_section sections[FW_SEV_MAX_SECTIONS];
	size_t n_sections;             /* 0 when the image has no SEV metadata */
	bool has_reset_block;          /* SEV-ES reset block: AP entry point */
	uint32_t ap_reset_eip;
	bool has_hashes_table;         /* SEV hashes table entry with gpa != 0 */
	uint32_t hashes_gpa, hashes_size;
};

/* Parse the SEV metadata ("ASEV", version 1), the SEV-ES reset block and the
 * SEV hashes table location. Sections must be page aligned, below 4 GiB,
 * outside the firmware image and must not overlap each other. A hashes table
 * entry with gpa 0 means "no table" (generic OVMF builds). */
int fw_sev_parse(const struct fw_image *fw, struct fw_sev_info *info);
const char *fw_sev_section_name(uint32_t type);
/* The metadata section of this type (first one), or NULL. */
const struct fw_sev_section *fw_sev_find_section(const struct fw_sev_info *info, uint32_t type);

/* SEV hashes table (QEMU target/i386/sev.c, struct SevHashTable): header
 * GUID + u16 length, then cmdline, initrd, kernel entries {GUID, u16 len,
 * SHA-256}; QEMU writes it padded to 16 bytes. */
#define FW_SEV_HASHES_TABLE_LEN  168u
#define FW_SEV_HASHES_PADDED_LEN 176u
#define FW_GUID_SEV_HASHES_HEADER "9438d606-4f22-4cc9-b479-a793d411fd21"
#define FW_GUID_SEV_HASH_CMDLINE  "97d02dd8-bd20-4c94-aa78-e7714d36ab2a"
#define FW_GUID_SEV_HASH_INITRD   "44baf731-3a2f-4bd7-9af1-41e29169781d"
#define FW_GUID_SEV_HASH_KERNEL   "4de79437-abd2-427f-b835-d5b172d2045b"

struct fw_sev_hashes {
	uint8_t cmdline[32], initrd[32], kernel[32];
};

/* Hash the boot files as QEMU does for measured direct boot: the kernel file
 * as given, the initrd (empty if NULL), the command line with its NUL
 * (just "\0" if NULL). */
int fw_sev_hashes_compute(const uint8_t *kernel, size_t kernel_len, const uint8_t *initrd, size_t initrd_len,
			  const char *cmdline, struct fw_sev_hashes *h);
/* Serialize the padded table (FW_SEV_HASHES_PADDED_LEN bytes). */
void fw_sev_hashes_table(const struct fw_sev_hashes *h, uint8_t out[FW_SEV_HASHES_PADDED_LEN]);
/* Parse a table (e.g. read back from guest memory); what names the input. */
int fw_sev_hashes_parse(const uint8_t *buf, size_t len, const char *what, struct fw_sev_hashes *h);

/* ---------------- TDVF metadata (issue 5) ---------------- */

/* TDVF Design Guide, "TDVF Metadata": the footer GUID table entry
 * FW_GUID_TDX_METADATA holds a u32 offset, counted back from the end of the
 * image, to the descriptor {"TDVF", u32 length, u32 version = 1, u32 count}
 * followed by count 32-byte section entries. */
enum tdvf_section_type {
	TDVF_BFV = 0,          /* boot firmware volume (code), copied from the image */
	TDVF_CFV = 1,          /* configuration firmware volume (variables) */
	TDVF_TD_HOB = 2,       /* the VMM writes the TD HOB here */
	TDVF_TEMP_MEM = 3,     /* temporary memory, added zeroed */
	TDVF_PERM_MEM = 4,     /* permanent memory */
	TDVF_PAYLOAD = 5,      /* payload (kernel) image */
	TDVF_PAYLOAD_PARAM = 6,/* payload parameters (command line) */
	TDVF_TYPE_COUNT,
};

#define TDVF_ATTR_MR_EXTEND 0x1u  /* TDH.MR.EXTEND every 256-byte chunk */
#define TDVF_ATTR_PAGE_AUG  0x2u  /* TDH.MEM.PAGE.AUG at run time: not measured */

#define TDVF_MAX_SECTIONS 64
#define TDVF_MAX_SECTION_SIZE (1ull << 30)

struct tdvf_section {
	uint32_t data_offset;  /* in the image */
	uint32_t raw_size;     /* bytes copied from the image (rest is zero) */
	uint64_t gpa;          /* MemoryAddress, 4 KiB aligned */
	uint64_t size;         /* MemoryDataSize, 4 KiB aligned, > 0 */
	uint32_t type;         /* enum tdvf_section_type */
	uint32_t attributes;   /* TDVF_ATTR_* */
};

struct tdvf_metadata {
	uint64_t offset;       /* of the descriptor in the image */
	uint32_t version;
	uint32_t n;
	struct tdvf_section s[TDVF_MAX_SECTIONS];
};

/* "BFV", "CFV", "TD_HOB", "TempMem", "PermMem", "Payload", "PayloadParam". */
const char *fw_tdvf_type_name(uint32_t type);
/* Find and validate the TDVF metadata (error names the image and field). */
int fw_tdvf_parse(const struct fw_image *fw, struct tdvf_metadata *md);
/* Append one plan step per section, in metadata order: BFV/CFV -> PLAN_NORMAL,
 * TD_HOB -> PLAN_TD_HOB (data NULL: tdx/ fills the HOB), TempMem ->
 * PLAN_TEMP_MEM, PermMem -> PLAN_PERM_MEM, Payload* -> PLAN_PAYLOAD; flags
 * from the attributes; data points into the image (zero-padded copy owned by
 * the plan where raw_size < size), NULL for sections without raw data. */
int fw_tdvf_plan(const struct fw_image *fw, const struct tdvf_metadata *md, struct launch_plan *plan);

#endif
