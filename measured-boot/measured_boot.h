/* measured_boot.h - TCG event logs (TPM PC Client, CCEL), replay, and the
 * host TPM 2.0 through tpm2-tss. See docs/measured-boot.md. */
#ifndef CVMM_MEASURED_BOOT_H
#define CVMM_MEASURED_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int mb_cli_eventlog(int argc, char **argv);
int mb_cli_tpm(int argc, char **argv);

/* ---- used by `cvmm verify` (attestation/) ----
 * Replay a CCEL event log and compare with the four RTMRs of a TDX quote.
 * Returns 0 when they match, 1 when they differ (detail names the first
 * register that differs), negative errno when the log cannot be parsed
 * (err_msg() says why). */
int mb_ccel_check_rtmrs(const uint8_t *log, size_t len, const uint8_t rtmr[4][48], char *detail, size_t dlen);
/* Verify a host TPM quote (TPMS_ATTEST + TPMT_SIGNATURE as written by
 * `cvmm tpm quote`), its nonce, the quoted PCR digest and the event log
 * against it. Same return convention as above. */
int mb_tpm_quote_check(const char *quote_path, const char *log_path, const char *ak_pub_path,
		       const uint8_t *nonce, size_t nonce_len, char *detail, size_t dlen);

/* ---- TCG event logs ----
 * TCG PC Client Platform Firmware Profile (PFP) 1.05, section 10: a log
 * starts with one SHA-1-format TCG_PCClientPCREvent holding the
 * TCG_EfiSpecIdEvent ("Spec ID Event03", 10.4.5.1), then crypto-agile
 * TCG_PCR_EVENT2 records (10.2.2). The CCEL (UEFI 2.10 section 38.4, TDVF
 * design guide) uses the same records; its index is the MR index,
 * 1..4 = RTMR0..3, and the bank is SHA-384. */
#define MB_MAX_ALGS 8	   /* distinct digest algorithms in one log */
#define MB_PCRS 24	   /* PC Client PTP: PCR 0..23 */
#define MB_RTMRS 4
#define MB_MAX_DIGEST 64
#define MB_LOG_MAX (64u << 20) /* largest log file we read */

/* Event types, TCG PFP 1.05 section 10.4.1. */
#define MB_EV_PREBOOT_CERT 0x00000000u
#define MB_EV_POST_CODE 0x00000001u
#define MB_EV_NO_ACTION 0x00000003u
#define MB_EV_SEPARATOR 0x00000004u
#define MB_EV_ACTION 0x00000005u
#define MB_EV_EVENT_TAG 0x00000006u
#define MB_EV_S_CRTM_CONTENTS 0x00000007u
#define MB_EV_S_CRTM_VERSION 0x00000008u
#define MB_EV_IPL 0x0000000Du
#define MB_EV_EFI_EVENT_BASE 0x80000000u

/* TPM_ALG_ID values (TPM 2.0 Part 2, table 9). */
#define MB_ALG_SHA1 0x0004
#define MB_ALG_SHA256 0x000B
#define MB_ALG_SHA384 0x000C
#define MB_ALG_SHA512 0x000D

enum mb_log_kind { MB_LOG_AUTO = 0, MB_LOG_TPM, MB_LOG_CCEL };

struct mb_digest {
	uint16_t alg;
	uint16_t size;
	const uint8_t *bytes; /* points into the log buffer */
};

struct mb_event {
	size_t offset;	  /* of the record in the log */
	uint32_t index;	  /* PCR index, or CCEL MR index */
	uint32_t type;
	uint32_t ndigests;
	struct mb_digest digests[MB_MAX_ALGS];
	uint32_t data_len;
	const uint8_t *data; /* points into the log buffer */
};

struct mb_alg_size {
	uint16_t alg, size;
};

struct mb_log {
	const uint8_t *buf; /* borrowed: must outlive the mb_log */
	size_t len;
	enum mb_log_kind kind;
	uint32_t nalgs; /* from the Spec ID event */
	struct mb_alg_size algs[MB_MAX_ALGS];
	bool legacy;		  /* SHA-1 log without Spec ID (TCG 1.2 format) */
	bool has_locality;	  /* a StartupLocality event was seen */
	uint8_t startup_locality; /* PFP 10.4.5.3 */
	bool has_hcrtm;		  /* an EV_EFI_HCRTM_EVENT in PCR 0 */
	size_t nevents;		  /* including the Spec ID header event */
	struct mb_event *events;  /* events[0] is the Spec ID header, unless legacy */
};

/* Parse a whole log. kind MB_LOG_AUTO detects it (CCEL when SHA-384 is the
 * only bank or the Spec ID event is in MR index 1, else TPM); another value
 * forces it. what names the input in
 * error messages. Trailing 0xFF or 0x00 fill (unused CCEL area) ends the
 * log. A log whose first event is not the Spec ID event is read as a
 * SHA-1-only TCG_PCClientPCREvent log (PFP 10.2.1), as tpm2_eventlog does.
 * An event may carry digests for a subset of the Spec ID banks (at most one
 * per bank). Returns 0 or -errno with err_msg() naming the offset and field. */
int mb_log_parse(const uint8_t *buf, size_t len, const char *what, enum mb_log_kind kind, struct mb_log *log);
void mb_log_free(struct mb_log *log);

/* Algorithm table: name ("sha256"), digest size; NULL / 0 when unknown. */
const char *mb_alg_name(uint16_t alg);
uint16_t mb_alg_size(uint16_t alg);
/* "EV_SEPARATOR", "EV_EFI_VARIABLE_BOOT", ... or NULL when unknown. */
const char *mb_event_type_name(uint32_t type);

/* Registers after replay: one bank per algorithm of the log. */
struct mb_bank {
	uint16_t alg, size;
	uint32_t touched; /* bit i: register i of this bank was extended */
	uint8_t reg[MB_PCRS][MB_MAX_DIGEST];
};

struct mb_replay {
	enum mb_log_kind kind;
	uint32_t nbanks;
	struct mb_bank banks[MB_MAX_ALGS];
	uint32_t touched; /* bit i: register i was extended in some bank (pcrI or rtmrI) */
	size_t nevents;
};

/* Extend every event except EV_NO_ACTION into its register (PFP 10.2.2).
 * PCR0 starts at 4 when the log has an H-CRTM event (TPM 2.0 Part 1 34.3),
 * else at the StartupLocality value (PFP 10.4.5.3), else at 0. */
int mb_replay(const struct mb_log *log, struct mb_replay *out);
/* Register value of one bank, NULL when the bank is not in the replay. */
const uint8_t *mb_replay_reg(const struct mb_replay *rp, uint16_t alg, unsigned reg);

/* JSON text (malloc'ed, free() it) of a replay: {"registers": {...}, "events": N},
 * and of the decoded events for `cvmm eventlog show --json`. */
char *mb_replay_json(const struct mb_replay *rp);
char *mb_log_json(const struct mb_log *log);

/* ---- cvmm's own launch log on the host TPM ----
 * Each launch appends an EV_EVENT_TAG event (PFP 10.4.2.2 TCG_PCClientTaggedEvent)
 * with taggedEventID MB_CVMM_TAG_ID and data = u16 digest length, the launch
 * plan digest, the UTF-8 description. The SHA-256 of the whole event data is
 * what is extended into the PCR and stored as the event digest, so every
 * byte of the event is bound by the PCR. */
#define MB_CVMM_TAG_ID 0x4D4D5643u /* "CVMM" little-endian */
#define MB_DEFAULT_PCR 15

/* Build the event data of one launch (malloc'ed into *out). */
int mb_launch_event_data(const uint8_t *plan_digest, size_t digest_len, const char *description, uint8_t **out,
			 size_t *out_len);
/* Append one launch event to the log at log_path (created with a Spec ID
 * header holding the SHA-256 bank when missing), in memory only: the new
 * file content is returned in *out. */
int mb_log_append_launch(const uint8_t *old, size_t old_len, const char *log_path, unsigned pcr,
			 const uint8_t *event_data, size_t event_len, uint8_t **out, size_t *out_len);
/* How many launch events of the log carry this plan digest (0 = never
 * launched). With mb_tpm_quote_check() passing on the same log, this tells a
 * relying party that the host launched that plan. */
size_t mb_launch_log_count(const struct mb_log *log, const uint8_t *plan_digest, size_t digest_len);
/* Extend pcr (SHA-256 bank) of the TPM reached through tcti (NULL: the
 * TPM2TOOLS_TCTI or TCTI environment, else the tctildr default) with the
 * launch event, and append it to log_path. */
int mb_tpm_record_launch(const char *tcti, unsigned pcr, const uint8_t *plan_digest, size_t digest_len,
			 const char *description, const char *log_path);
/* Quote the SHA-256 bank of the PCRs in pcr_mask with an ECC P-256 AK
 * (primary key in the endorsement hierarchy). quote = TPM2B_ATTEST followed
 * by TPMT_SIGNATURE, sig = TPMT_SIGNATURE, ak_pem = SubjectPublicKeyInfo PEM,
 * each malloc'ed. */
struct mb_quote {
	uint8_t *quote, *sig;
	char *ak_pem;
	size_t quote_len, sig_len, ak_pem_len;
};
int mb_tpm_quote(const char *tcti, uint32_t pcr_mask, const uint8_t *nonce, size_t nonce_len, struct mb_quote *q);
void mb_quote_free(struct mb_quote *q);

#endif
