/* libFuzzer target: the SEV-SNP attestation report parser, `cvmm show`
 * (text and JSON) and verification with a policy (against the milan-virtee
 * fixture chain when run from the repository root, else without
 * certificates); the seeds are the three real reports (VCEK v2, VLEK v3). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "attestation/attestation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	static json_t *policy;
	struct att_options o = { .certs_dir = "tests/fixtures/evidence/snp/milan-virtee", .at = 1748736000 };
	struct att_result r;

	if (!null)
		null = fopen("/dev/null", "w");
	if (!policy)
		policy = json_loads("{\"snp\": {\"allow_debug\": false, \"min_tcb\": {\"tee\": 1, \"fmc\": 2},"
				    " \"platform_info_forbid\": \"0x2\", \"measurements\": [\"" \
				    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"]}}",
				    0, NULL);
	att_snp_show(data, size, false, null);
	att_snp_show(data, size, true, null);
	o.policy = policy;
	if (att_result_init(&r, "snp"))
		return 0;
	att_snp_verify(data, size, &o, &r);
	att_result_status(&r);
	att_result_free(&r);
	return 0;
}
