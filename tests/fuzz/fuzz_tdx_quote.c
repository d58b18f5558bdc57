/* libFuzzer target: the TDX quote parser (v4/v5, certification data 6 -> 5)
 * through `show` (text and JSON) and the full verifier without collateral
 * (PEM chain, SGX extensions, signatures). Seeds: real quotes. */
#include <stdint.h>
#include <stdio.h>

#include "attestation/attestation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct att_options o = { .at = 1700000000 };
	struct att_result r;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		return 0;
	att_tdx_show(data, size, false, devnull);
	att_tdx_show(data, size, true, devnull);
	if (att_result_init(&r, "tdx"))
		return 0;
	att_tdx_verify(data, size, &o, &r);
	att_result_status(&r);
	att_result_free(&r);
	return 0;
}
