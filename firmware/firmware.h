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

/* Load a firmware file (size checked: a multiple of 4 KiB, 64 KiB..64 MiB). */
int fw_load(const char *path, struct fw_image *fw);
void fw_free(struct fw_image *fw);
/* Wrap bytes already in memory (no copy; fw_free must not be called). */
int fw_from_bytes(const uint8_t *data, size_t size, const char *name, struct fw_image *fw);

/* OVMF footer GUID table (OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm):
 * find the entry with this GUID; *data/ *len are its payload. -ENOENT when
 * the table has no such entry; other errors when the table is malformed. */
int fw_table_find(const struct fw_image *fw, const char *guid, const uint8_t **data, size_t *len);
/* Validate the table as a whole (used by fuzzing and `fw_load` users). */
int fw_table_check(const struct fw_image *fw);

#define FW_GUID_TABLE_FOOTER "96b582de-1fb2-45f7-baea-a366c55a082d"
#define FW_GUID_SEV_METADATA "dc886566-984a-4798-a75e-5585a7bf67cc"
#define FW_GUID_SEV_HASHES   "7255371f-3a3b-4b04-927b-1da6efa8d454"
#define FW_GUID_SEV_ES_RESET "00f771de-1a7e-4fcb-890e-68c77e2fb44e"
#define FW_GUID_TDX_METADATA "e47a6535-984a-4798-865e-4685a7bf8ec2"

/* ---------------- SEV metadata and hashes table (issue 4) ---------------- */

/* ---------------- TDVF metadata (issue 5) ---------------- */

#endif
