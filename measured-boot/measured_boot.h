/* measured_boot.h - TCG event logs (TPM PC Client, CCEL), replay, and the
 * host TPM 2.0 through tpm2-tss. */
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

#endif
