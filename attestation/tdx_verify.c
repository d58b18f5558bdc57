/* Placeholder until the TDX quote verifier lands. */
#include <errno.h>

#include "attestation.h"
#include "common/common.h"

int att_tdx_verify(const uint8_t *quote, size_t len, const struct att_options *o, struct att_result *r)
{
	(void)quote, (void)len, (void)o, (void)r;
	return err_set(ENOSYS, "TDX quote verification is not built yet");
}

int att_tdx_show(const uint8_t *quote, size_t len, bool json, FILE *out)
{
	(void)quote, (void)len, (void)json, (void)out;
	return err_set(ENOSYS, "TDX quote display is not built yet");
}
