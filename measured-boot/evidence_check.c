/* Placeholder until the event-log work lands. */
#include <errno.h>

#include "common/common.h"
#include "measured_boot.h"

int mb_ccel_check_rtmrs(const uint8_t *log, size_t len, const uint8_t rtmr[4][48], char *detail, size_t dlen)
{
	(void)log, (void)len, (void)rtmr, (void)detail, (void)dlen;
	return err_set(ENOSYS, "CCEL replay is not built yet");
}

int mb_tpm_quote_check(const char *quote_path, const char *log_path, const char *ak_pub_path,
		       const uint8_t *nonce, size_t nonce_len, char *detail, size_t dlen)
{
	(void)quote_path, (void)log_path, (void)ak_pub_path, (void)nonce, (void)nonce_len, (void)detail, (void)dlen;
	return err_set(ENOSYS, "TPM quote verification is not built yet");
}
