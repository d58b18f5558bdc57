/* libFuzzer target: cvmm-agent's MSG_REPORT_RSP unwrapper (the answer of
 * /dev/sev-guest). Any input must give 0 (exactly one 1184-byte report) or
 * -errno, never a crash or a read outside the input. The agent's sources
 * are not in libcvmm.a (they are linked into the static cvmm-agent only);
 * the Makefile links attestation/agent/snp_rsp.c into this target. */
#include <stdint.h>
#include <stdlib.h>

#include "attestation/agent/agent.h"
#include "attestation/snp_report.h" /* SNP_REPORT_SIZE */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bytebuf b = { 0 };
	int ret = agent_snp_unwrap("fuzz", data, size, &b);

	if (ret > 0 || (ret == 0 && b.len != SNP_REPORT_SIZE) || (ret < 0 && b.len))
		abort();
	bb_free(&b);
	return 0;
}
