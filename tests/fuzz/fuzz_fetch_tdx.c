/* libFuzzer target: how `cvmm fetch-certs` finds the PEM PCK chain of a TDX
 * quote (v4/v5, certification data 6 -> 5) through the verifier's parser. */
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
