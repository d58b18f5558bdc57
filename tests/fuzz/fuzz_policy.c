/* libFuzzer target: policy files (attestation/policy.c, the "snp" section
 * in policy_snp.c, the "tdx" section in tdx_policy.c, docs/verify.md). Any
 * input must be refused with -errno or accepted; an accepted policy then
 * judges a fixed SNP report and a fixed TD 1.5 quote body, and the result
 * becomes EAR claims: never a crash, a leak or undefined behaviour.
 * Seeds: tests/fuzz/seeds/policy/ (the examples of docs/verify.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/attestation.h"
#include "attestation/snp_report.h"
#include "attestation/tdx_quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t report[SNP_REPORT_SIZE], body[TDX_BODY_TD15_LEN], header[TDX_HEADER_LEN];
	struct att_options o = { .allow_sim = true, .at = 1748736000 };
	struct att_ear_opts eo = { .ttl = 60, .now = 1748736000 };
	struct tdx_quote q = { .version = 5, .body_type = TDX_BODY_TYPE_TD15, .header = header, .body = body,
			       .body_len = sizeof(body) };
	struct att_result r;
	json_t *policy = NULL, *claims;
	int ret = att_policy_parse(data, size, "fuzz", &policy);

	if (ret > 0 || (ret && policy))
		abort();
	if (ret)
		return 0;
	if (!report[0]) { /* a v5 Milan report with some fields set, signed by nobody */
		report[0] = 5;
		report[0x08] = 0x00, report[0x0A] = 0x03;
		report[0x34] = 1;
		report[0x188] = 0x19;
		report[0x189] = 0x01;
		memset(report + 0x90, 0xAB, 48);
		report[0x1E8] = 21, report[0x1E9] = 55, report[0x1EA] = 1;
		report[0x1F8] = 3;
		body[TDX_B_TD_ATTRIBUTES] = 1;
	}
	o.policy = policy;
	if (!att_result_init(&r, "snp")) {
		if (!att_snp_verify(report, sizeof(report), &o, &r)) {
			claims = att_ear_claims(&r, att_result_status(&r), &eo);
			json_decref(claims);
		}
		att_result_free(&r);
	}
	if (!att_result_init(&r, "tdx")) {
		r.strict = att_policy_bool(policy, "strict");
		tdx_policy_check(&q, json_object_get(policy, "tdx"), &r);
		att_result_free(&r);
	}
	json_decref(policy);
	return 0;
}
