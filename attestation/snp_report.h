/* snp_report.h - internal to attestation/: the SEV-SNP ATTESTATION_REPORT
 * (AMD SEV-SNP Firmware ABI spec, rev 1.57+, Table 23 "ATTESTATION_REPORT
 * Structure"), its TCB_VERSION layouts, the AMD products and the VCEK/VLEK
 * certificate chain. Not part of the public API (attestation.h). */
#ifndef CVMM_ATTESTATION_SNP_REPORT_H
#define CVMM_ATTESTATION_SNP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "attestation/attestation.h"

#define SNP_REPORT_SIZE 0x4A0	 /* 1184 bytes */
#define SNP_REPORT_SIGNED_LEN 0x2A0 /* the signature covers bytes 0x0..0x29F */
#define SNP_SIG_COMPONENT 72	 /* R and S: little-endian, zero-padded to 72 bytes */

/* Guest policy bits (ABI spec Table 9 "Guest Policy Structure"). */
#define SNP_POLICY_SMT (1ull << 16)
#define SNP_POLICY_RESERVED1 (1ull << 17) /* must be 1 */
#define SNP_POLICY_MIGRATE_MA (1ull << 18)
#define SNP_POLICY_DEBUG (1ull << 19)
#define SNP_POLICY_SINGLE_SOCKET (1ull << 20)
#define SNP_POLICY_CXL_ALLOW (1ull << 21)
#define SNP_POLICY_MEM_AES_256_XTS (1ull << 22)
#define SNP_POLICY_RAPL_DIS (1ull << 23)
#define SNP_POLICY_CIPHERTEXT_HIDING (1ull << 24)
#define SNP_POLICY_PAGE_SWAP_DISABLE (1ull << 25)
#define SNP_POLICY_RESERVED_HIGH (~0ull << 26) /* bits 63:26 must be 0 */

/* PLATFORM_INFO bits (ABI spec Table 24). */
#define SNP_PLAT_SMT_EN (1ull << 0)
#define SNP_PLAT_TSME_EN (1ull << 1)

/* SIGNING_KEY field, report bits 0x48[4:2]. */
enum snp_signer { SNP_SIGNER_VCEK = 0, SNP_SIGNER_VLEK = 1, SNP_SIGNER_NONE = 7 };

enum snp_product { SNP_PRODUCT_UNKNOWN, SNP_PRODUCT_MILAN, SNP_PRODUCT_GENOA, SNP_PRODUCT_TURIN };

/* TCB_VERSION decoded (ABI spec Table 3). Milan/Genoa: byte 0 BOOT_LOADER,
 * 1 TEE, 6 SNP, 7 MICROCODE. Turin: 0 FMC, 1 BOOT_LOADER, 2 TEE, 3 SNP,
 * 7 MICROCODE. */
struct snp_tcb {
	uint64_t raw;
	uint8_t fmc, bootloader, tee, snp, microcode;
	bool has_fmc;
};

struct snp_report {
	uint32_t version, guest_svn;
	uint64_t policy;
	uint8_t family_id[16], image_id[16];
	uint32_t vmpl, signature_algo;
	uint64_t current_tcb, platform_info;
	uint32_t flags; /* bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY */
	uint8_t report_data[64], measurement[48], host_data[32];
	uint8_t id_key_digest[48], author_key_digest[48], report_id[32], report_id_ma[32];
	uint64_t reported_tcb;
	uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* v3+ only */
	uint8_t chip_id[64];
	uint64_t committed_tcb;
	uint8_t current_build, current_minor, current_major;
	uint8_t committed_build, committed_minor, committed_major;
	uint64_t launch_tcb;
	uint64_t launch_mit_vector, current_mit_vector; /* v5 only */
	uint8_t sig_r[SNP_SIG_COMPONENT], sig_s[SNP_SIG_COMPONENT];
	const uint8_t *raw; /* the 1184 input bytes (signed part = first 0x2A0) */
};

/* The run of byte fields REPORT_DATA .. REPORT_ID_MA (ABI spec Table 23,
 * 0x50..0x17F) in layout order, shared by the claims and `cvmm show`:
 * name (claims key), title (show), the member of struct snp_report. */
struct snp_byte_field {
	const char *name, *title;
	size_t off, len;
};
extern const struct snp_byte_field snp_report_byte_fields[];
extern const size_t snp_report_byte_fields_count;

/* Parse and check size/version; what names the input in errors. */
int snp_report_parse(const uint8_t *p, size_t len, const char *what, struct snp_report *r);
enum snp_signer snp_report_signer(const struct snp_report *r);
/* Product from CPUID_FAM_ID/CPUID_MOD_ID (v3+), UNKNOWN for v2. */
enum snp_product snp_report_product(const struct snp_report *r);
void snp_tcb_decode(uint64_t raw, enum snp_product prod, struct snp_tcb *t);
const char *snp_product_name(enum snp_product p);
/* "Milan", "Milan-B0", "SEV-Milan", "ARK-Genoa", "SEV-VLEK-Turin" -> product. */
enum snp_product snp_product_from_name(const char *s);
/* Fill the claims of r from the report (lowercase hex for byte fields). */
void snp_report_claims(const struct snp_report *rep, enum snp_product prod, struct att_result *r);

/* ---- built-in AMD roots (amd_roots.c) ---- */
/* Parsed once, owned by the module: ARK, ASK, ASVK of a product (NULL if unknown). */
X509 *snp_builtin_cert(enum snp_product p, const char *which /* "ark"|"ask"|"asvk" */);

/* ---- certificate helpers (snp_certs.c) ---- */
bool snp_is_pem(const uint8_t *p, size_t n);
/* Certificates in PEM (one or more) or DER (exactly one) appended to out. */
int snp_parse_certs(const char *path, const uint8_t *p, size_t n, STACK_OF(X509) *out);
int snp_parse_cert(const char *path, const uint8_t *p, size_t n, X509 **out);
void snp_subject_cn(X509 *x, char *out, size_t n);
const ASN1_OCTET_STRING *snp_ext_data(X509 *x, const char *oid);
/* An SPL extension (DER INTEGER 0..255); -1 when absent or malformed. */
int snp_ext_spl(X509 *x, const char *oid);
/* The KDS certificate profile of role ("ark", "ask", "asvk", "vcek",
 * "vlek") for product: version, RSASSA-PSS parameters, subject, key type.
 * detail says what differs (or "ROLE: as KDS issues it"). */
bool snp_kds_profile_ok(X509 *x, const char *role, enum snp_product prod, char *detail, size_t n);
/* The product named by a VCEK/VLEK (issuer CN, else productName). */
enum snp_product snp_vek_product(X509 *vek);

/* ---- the extended report's certificate table (snp_cert_table.c) ---- */
struct snp_cert_blob {
	const uint8_t *p; /* into the table; NULL when absent */
	size_t len;
};
struct snp_cert_table {
	struct snp_cert_blob vcek, vlek, ask, ark;
	size_t entries, unknown;    /* all entries; those with an unknown GUID */
	char unknown_guids[160];    /* the unknown GUIDs (text), as many as fit */
};
/* Parse a GHCB certificate table (entries, zero terminator, certificates);
 * negative errno with a message naming what for a malformed table. */
int snp_cert_table_parse(const uint8_t *p, size_t len, const char *what, struct snp_cert_table *t);

/* ---- the certificate chain (snp_chain.c) ---- */
struct snp_chain;
/* Load the chain for signer from o->certs_dir (or built-ins), verify its
 * signatures (cached by certificate bytes), and record the chain checks
 * (trust anchor, signatures, validity at `at`, CRLs) into r. On success
 * *vek_pub borrows the VCEK/VLEK public key and *vek the certificate, valid
 * until snp_chain_put(*chain). Returns negative errno only for I/O errors on
 * files that exist. A missing/invalid chain is recorded as failed checks,
 * with *chain NULL. */
int snp_chain_get(const struct att_options *o, enum snp_signer signer, enum snp_product report_prod,
		  struct att_result *r, struct snp_chain **chain, X509 **vek, enum snp_product *prod);
void snp_chain_put(struct snp_chain *c);
/* Check VCEK extensions (hwID, SPLs) against the report: records checks. */
void snp_chain_check_binding(const struct snp_chain *c, enum snp_signer signer, const struct snp_report *rep,
			     enum snp_product prod, struct att_result *r);

/* ---- policy (policy_snp.c) ---- */
/* Validate the "snp" policy object (negative errno + message on a bad key). */
int snp_policy_validate(const json_t *snp);
/* Run the policy and the advisory checks. */
void snp_policy_check(const json_t *snp, const struct snp_report *rep, enum snp_product prod,
		      struct att_result *r);

#endif
