/* tdx_quote.h - internal to attestation/: the Intel TDX quote (v4, v5) as
 * parsed from untrusted bytes, the PCK certificate's SGX extensions, and
 * the collateral (TCB info, QE identity) evaluation used by tdx_verify.c.
 *
 * Layouts: Intel TDX DCAP Quoting Library API, appendix "Quote Format"
 * (v4: header, TD quote body, signature data; v5: header, body descriptor
 * (type, size), body, signature data), and the Intel SGX PCK Certificate
 * and CRL Profile (SGX extensions, OID 1.2.840.113741.1.13.1). */
#ifndef CVMM_ATTESTATION_TDX_QUOTE_H
#define CVMM_ATTESTATION_TDX_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "attestation/attestation.h"

#define TDX_HEADER_LEN 48
#define TDX_BODY_TD10_LEN 584 /* TDX 1.0 TD report body */
#define TDX_BODY_TD15_LEN 648 /* TDX 1.5: + TEE_TCB_SVN2, MRSERVICETD */
#define TDX_QE_REPORT_LEN 384 /* SGX REPORTBODY */
#define TDX_ATT_KEY_ECDSA_P256 2
#define TDX_TEE_TYPE 0x81
#define TDX_BODY_TYPE_TD10 2
#define TDX_BODY_TYPE_TD15 3
#define TDX_CERT_PCK_CHAIN 5
#define TDX_CERT_QE_REPORT 6

/* TD quote body offsets (TDX DCAP Quote Format, "TD Quote Body"). */
#define TDX_B_TEE_TCB_SVN 0
#define TDX_B_MRSEAM 16
#define TDX_B_MRSIGNERSEAM 64
#define TDX_B_SEAM_ATTRIBUTES 112
#define TDX_B_TD_ATTRIBUTES 120
#define TDX_B_XFAM 128
#define TDX_B_MRTD 136
#define TDX_B_MRCONFIGID 184
#define TDX_B_MROWNER 232
#define TDX_B_MROWNERCONFIG 280
#define TDX_B_RTMR0 328 /* RTMR0..3, 48 bytes each */
#define TDX_B_REPORT_DATA 520
#define TDX_B_TEE_TCB_SVN2 584 /* TD15 only */
#define TDX_B_MRSERVICETD 600  /* TD15 only */

/* SGX REPORTBODY offsets (Intel SDM vol. 3D, 38.15 "REPORT"). */
#define SGX_R_CPUSVN 0
#define SGX_R_MISCSELECT 16
#define SGX_R_ATTRIBUTES 48
#define SGX_R_MRENCLAVE 64
#define SGX_R_MRSIGNER 128
#define SGX_R_ISVPRODID 256
#define SGX_R_ISVSVN 258
#define SGX_R_REPORT_DATA 320

/* The named byte fields of the TD quote body, in layout order (the TD15-only
 * ones last: present when body_len covers them). Shared by claims and show. */
struct tdx_field {
	const char *name;
	size_t off, len;
};
extern const struct tdx_field tdx_body_fields[];
extern const size_t tdx_body_fields_count;
const struct tdx_field *tdx_body_field(const char *name);

/* Pointers borrow from the quote buffer. */
struct tdx_quote {
	uint16_t version;
	uint16_t att_key_type;
	uint32_t tee_type;
	const uint8_t *header;      /* 48 bytes */
	uint16_t body_type;         /* v4: always TDX_BODY_TYPE_TD10 */
	const uint8_t *body;
	size_t body_len;
	const uint8_t *signed_data; /* what the attestation key signs */
	size_t signed_len;
	const uint8_t *sig;         /* 64: r||s big-endian */
	const uint8_t *att_key;     /* 64: x||y big-endian */
	uint16_t cert_type;         /* outer certification data type (6) */
	const uint8_t *qe_report;   /* 384 */
	const uint8_t *qe_report_sig; /* 64 */
	const uint8_t *qe_auth;
	uint16_t qe_auth_len;
	uint16_t pck_cert_type;     /* inner certification data type (5) */
	const uint8_t *pck_chain;   /* PEM text, not NUL-terminated */
	size_t pck_chain_len;
};

/* tdx_quote.c: parse; errors name `what` and the field. */
int tdx_quote_parse(const uint8_t *p, size_t len, const char *what, struct tdx_quote *q);

/* tdx_crypto.c */
/* ECDSA P-256 over SHA-256 of msg; sig = r||s, key = x||y (64 bytes each).
 * Returns 1 valid, 0 invalid, negative errno on internal failure. */
int tdx_ecdsa_p256_verify_raw(const uint8_t key_xy[64], const uint8_t sig_rs[64], const uint8_t *msg,
			      size_t len);
int tdx_ecdsa_verify_pkey(EVP_PKEY *key, const uint8_t sig_rs[64], const uint8_t *msg, size_t len);

/* tdx_pck.c: the PCK chain and its SGX extensions. */
struct tdx_pck_ext {
	uint8_t fmspc[6];
	uint8_t pceid[2];
	uint8_t comp_svn[16]; /* SGX TCB components 1..16 */
	uint16_t pcesvn;
	uint8_t cpusvn[16];
	/* optional: -1 when the certificate does not carry them */
	int sgx_type;                      /* .5: 0 Standard, 1 Scalable, 2 ScalableWithIntegrity */
	int dynamic_platform, cached_keys, smt_enabled; /* .7 configuration (Platform CA PCKs) */
	bool has_instance_id;              /* .6 platform instance ID (Platform CA PCKs) */
	uint8_t instance_id[16];
};
/* Load every certificate of a PEM chain, leaf first. */
int tdx_pck_chain_load(const uint8_t *pem, size_t len, STACK_OF(X509) **chain);
int tdx_pck_ext_parse(X509 *pck, struct tdx_pck_ext *e);
/* Verify chain (leaf first) to `root`: the chain's last certificate must
 * carry the root's public key. crls may be NULL. at = 0: now. Returns 1
 * valid, 0 invalid (detail says why), negative errno on internal failure.
 * *crl_stale is set when a CRL was past nextUpdate (or not yet valid) at `at`.
 * With at = 0 (judged now), a certificate that has expired is tolerated and
 * *expired is set (the caller reports it as advisory); expired may be NULL. */
int tdx_pck_chain_verify(STACK_OF(X509) *chain, X509 *root, STACK_OF(X509_CRL) *crls, time_t at,
			 char *detail, size_t dlen, bool *crl_stale, bool *expired);
/* Intel's certificate profile for role "pck", "pck_ca" or "tcb_signing"
 * (version, ecdsa-with-SHA256, EC P-256, Intel subject and CN); detail
 * says what differs. Judged only for chains that end at Intel's root. */
bool tdx_intel_profile_ok(X509 *x, const char *role, char *detail, size_t n);
/* Load a DER (or PEM) CRL file; NULL + err_set on failure. */
X509_CRL *tdx_crl_load(const char *path);

/* tdx_verify.c: root carries the Intel SGX Root CA's key. */
bool tdx_root_is_intel(X509 *root);

/* intel_root.c */
X509 *att_intel_sgx_root(void); /* new reference; NULL on failure */

/* tdx_collateral.c: TCB info and QE identity (Intel PCS API v4 JSON). */
/* policy: the whole policy (or NULL): tdx.accepted_tcb_status (then a status
 * outside it is a policy failure; absent: anything but UpToDate is a
 * warning), collateral_grace_period. Returns 0, or negative errno when a
 * file cannot be read or parsed. */
int tdx_collateral_check(const char *dir, const struct tdx_quote *q, const struct tdx_pck_ext *ext, X509 *root,
			 time_t at, const json_t *policy, struct att_result *r);

/* tdx_policy.c */
/* tdx: the policy's "tdx" object or NULL. Negative errno on a malformed
 * policy (unknown key, bad hex), else 0 with the checks recorded. */
int tdx_policy_check(const struct tdx_quote *q, const json_t *tdx, struct att_result *r);
void tdx_claims(const struct tdx_quote *q, struct att_result *r);
/* The PCK extension claims (pck_sgx_type, pck_dynamic_platform, ...). */
void tdx_pck_claims(const struct tdx_pck_ext *e, struct att_result *r);
/* The PCK keys of the policy (allow_dynamic_platform, allow_cached_keys,
 * allow_smt, platform_instance_ids, sgx_types); ext NULL: validate only. */
int tdx_pck_policy(const struct tdx_pck_ext *ext, const json_t *tdx, struct att_result *r);
/* Types of min_tcb_evaluation_data_number, min_tcb_date, rejected_advisory_ids. */
int tdx_policy_validate_collateral(const json_t *tdx);

/* tdx_verify.c: the whole verification against a given root. */
int tdx_verify_with_root(const uint8_t *quote, size_t len, const struct att_options *o, X509 *root,
			 struct att_result *r);

#endif
