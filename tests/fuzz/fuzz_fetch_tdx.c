/* libFuzzer target: the TDX quote walker of `cvmm fetch-certs` that finds
 * the PEM PCK chain (v4/v5, certification data 6 -> 5). */
#include <stdint.h>

#include "attestation/attestation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *pem;
	size_t pem_len;

	/* The chain must lie inside the input, never beside it. */
	if (att_fetch_tdx_pck_chain(data, size, "fuzz", &pem, &pem_len) == 0 &&
	    (pem < data || pem_len == 0 || pem_len > size || pem > data + (size - pem_len)))
		__builtin_trap();
	return 0;
}
