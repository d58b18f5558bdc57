/* igvm.h - IGVM (Independent Guest Virtual Machine) files: parsing, the
 * launch digest their directives produce on SEV-SNP / SEV-ES / SEV, and a
 * header listing. Format: microsoft/igvm, igvm_defs (IGVM_FIXED_HEADER,
 * IGVM_VHS_*); the digest rules are those of COCONUT-SVSM's igvmmeasure. */
#ifndef CVMM_SEV_IGVM_H
#define CVMM_SEV_IGVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "firmware/firmware.h"

#define IGVM_MAGIC 0x4D564749u /* "IGVM" */
#define IGVM_VHT_OPTIONAL 0x80000000u
enum igvm_vht {
	IGVM_VHT_SUPPORTED_PLATFORM = 0x1,
	IGVM_VHT_GUEST_POLICY = 0x101,
	IGVM_VHT_RELOCATABLE_REGION = 0x102,
	IGVM_VHT_PAGE_TABLE_RELOCATION_REGION = 0x103,
	IGVM_VHT_PARAMETER_AREA = 0x301,
	IGVM_VHT_PAGE_DATA = 0x302,
	IGVM_VHT_PARAMETER_INSERT = 0x303,
	IGVM_VHT_VP_CONTEXT = 0x304,
	IGVM_VHT_REQUIRED_MEMORY = 0x305,
	IGVM_VHT_VP_COUNT_PARAMETER = 0x307,
	IGVM_VHT_SRAT = 0x308,
	IGVM_VHT_MADT = 0x309,
	IGVM_VHT_MMIO_RANGES = 0x30A,
	IGVM_VHT_SNP_ID_BLOCK = 0x30B,
	IGVM_VHT_MEMORY_MAP = 0x30C,
	IGVM_VHT_ERROR_RANGE = 0x30D,
	IGVM_VHT_COMMAND_LINE = 0x30E,
	IGVM_VHT_SLIT = 0x30F,
	IGVM_VHT_PPTT = 0x310,
	IGVM_VHT_VBS_MEASUREMENT = 0x311,
	IGVM_VHT_DEVICE_TREE = 0x312,
	IGVM_VHT_ENVIRONMENT_INFO_PARAMETER = 0x313,
};
enum igvm_platform_type {
	IGVM_PLATFORM_NATIVE = 0, IGVM_PLATFORM_VSM = 1, IGVM_PLATFORM_SEV_SNP = 2, IGVM_PLATFORM_TDX = 3,
	IGVM_PLATFORM_SEV = 4, IGVM_PLATFORM_SEV_ES = 5, IGVM_PLATFORM_CCA = 6,
};
enum igvm_page_type { IGVM_PAGE_NORMAL = 0, IGVM_PAGE_SECRETS = 1, IGVM_PAGE_CPUID_DATA = 2, IGVM_PAGE_CPUID_XF = 3 };
#define IGVM_PAGE_F_2MB        0x1u
#define IGVM_PAGE_F_UNMEASURED 0x2u
#define IGVM_PAGE_F_SHARED     0x4u
#define IGVM_SNP_ID_BLOCK_LEN  696u
#define IGVM_MAX_PLATFORMS     32

/* One variable header, in file order. */
struct igvm_hdr {
	uint32_t type;              /* without the optional bit */
	bool optional;
	uint32_t offset, length;    /* of the header in the file; its content length */
	uint32_t mask;              /* compatibility mask (0 where the header has none) */
	uint64_t gpa;               /* PAGE_DATA, PARAMETER_INSERT, VP_CONTEXT */
	uint64_t value;             /* GUEST_POLICY policy; PARAMETER_AREA bytes */
	uint32_t file_offset;       /* PAGE_DATA, VP_CONTEXT, PARAMETER_AREA */
	uint32_t flags;             /* PAGE_DATA */
	uint16_t data_type;         /* PAGE_DATA */
	uint32_t index;             /* PARAMETER_AREA/INSERT area index; VP_CONTEXT vp index */
	uint8_t platform_type;      /* SUPPORTED_PLATFORM */
	uint8_t highest_vtl;
	uint16_t platform_version;
	const uint8_t *data;        /* PAGE_DATA page (4 KiB), VP_CONTEXT VMSA (4 KiB), SNP_ID_BLOCK body */
};

struct igvm {
	const char *what;
	uint32_t version;
	size_t size;
	uint32_t checksum;
	struct igvm_hdr *h;
	size_t n;
};

/* Parse and validate (magic, version, sizes, CRC32, header order, every
 * length and file offset); the file stays borrowed. */
int igvm_parse(const uint8_t *data, size_t len, const char *what, struct igvm *out);
void igvm_free(struct igvm *f);
const char *igvm_vht_name(uint32_t type);
const char *igvm_platform_name(uint32_t type);
/* The compatibility mask of the platform's SUPPORTED_PLATFORM header. */
int igvm_platform_mask(const struct igvm *f, uint32_t platform, uint32_t *mask);

struct igvm_measure_opts {
	uint32_t platform;          /* IGVM_PLATFORM_SEV_SNP, _SEV_ES, _SEV or _TDX (MRTD) */
	bool native_zero;           /* igvmmeasure --native-zero: zero pages as SNP ZERO pages */
};
struct igvm_measurement {
	uint8_t digest[48];
	size_t digest_len;          /* 48 (SNP, TDX MRTD) or 32 (SEV, SEV-ES) */
	bool has_id_block;          /* an SNP_ID_BLOCK for this platform */
	uint8_t id_block_ld[48];
	size_t vmsas;
};
/* SNP: the plan (steps point into the file) folded as PAGE_INFO chain. */
int igvm_snp_plan(const struct igvm *f, const struct igvm_measure_opts *o, struct launch_plan *plan,
		  struct igvm_measurement *m);
/* TDX: PAGE.ADD (+ MR.EXTEND) steps folded by tdx_mrtd (single pass). */
int igvm_tdx_plan(const struct igvm *f, struct launch_plan *plan);
int igvm_measure(const struct igvm *f, const struct igvm_measure_opts *o, struct igvm_measurement *m,
		 void (*trace)(void *ctx, size_t index, const struct plan_step *s, const uint8_t *digest, size_t n),
		 void *trace_ctx);
/* One line per header (runs of contiguous page data merged). */
int igvm_show(const struct igvm *f, struct bytebuf *out);

/* `cvmm measure --igvm`, `cvmm show --igvm` */
int igvm_cli_measure(int argc, char **argv);
int igvm_cli_show(int argc, char **argv);

#endif
