/* libFuzzer target: what `cvmm fetch-certs` takes from an SEV-SNP report
 * through the verifier's parser (version, signing key, REPORTED_TCB, CPUID
 * product, CHIP_ID). */
#include <stdint.h>
#include <string.h>

#include "attestation/attestation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct att_fetch_snp_id id;

	if (att_fetch_snp_id(data, size, "fuzz", &id) == 0 && id.product &&
	    strcmp(id.product, "Milan") && strcmp(id.product, "Genoa") && strcmp(id.product, "Turin"))
		__builtin_trap();
	return 0;
}
