/* libFuzzer target: the JSON that crosses the attestation endpoint
 * (attestation/endpoint.h): the request bodies the endpoint parses
 * (POST /v1/evidence, /v1/secret) and the bundle cvmm attest parses. The
 * first input byte picks the parser, the rest is the text. Any input must
 * give 0 with every decoded field within its bounds, or -errno with nothing
 * left allocated; never a crash, a leak or a read outside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/endpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t nonce[ATT_NONCE_MAX];
	size_t nonce_len = 0;
	struct att_ep_secret_req sr;
	struct att_bundle b;
	const char *body = (const char *)data + 1;
	struct att_msg m;

	if (!size)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (!att_ep_parse_evidence_req(body, size - 1, nonce, &nonce_len) &&
		    (nonce_len < ATT_NONCE_MIN || nonce_len > ATT_NONCE_MAX))
			abort();
		break;
	case 1:
		if (att_ep_parse_secret_req(body, size - 1, &sr)) {
			if (sr.ciphertext)
				abort();
			break;
		}
		att_ep_secret_msg(&sr, &m);
		if (!sr.ciphertext || sr.ciphertext_len < 16 || sr.nonce_len < ATT_NONCE_MIN ||
		    !att_secret_name_ok(m.name, m.name_len))
			abort();
		att_ep_secret_req_free(&sr);
		break;
	default:
		if (att_bundle_parse(body, size - 1, &b)) {
			if (b.report || b.launch)
				abort();
			break;
		}
		if (!b.report || !b.report_len || b.report_len > ATT_BUNDLE_REPORT_MAX || b.nonce_len < ATT_NONCE_MIN ||
		    (strcmp(b.platform, "snp") && strcmp(b.platform, "tdx")))
			abort();
		att_bundle_free(&b);
		break;
	}
	return 0;
}
