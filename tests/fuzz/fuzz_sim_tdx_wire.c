/* libFuzzer target: the sim channel's TDX messages (tdx/sim_wire.c,
 * docs/sim-tdx.md), both sides: the server's header, TDX_QUOTE_REQ and
 * TDX_RTMR_EXTEND_REQ parsers, and the guest agent's TDX_QUOTE_RSP and
 * TDX_RTMR_EXTEND_RSP parsers. Any input must give 0 with every pointer
 * inside the input and every field in range, or -errno; never a crash or a
 * read outside the input. */
#include <stdint.h>
#include <stdlib.h>

#include "tdx/sim_wire.h"

static void inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
	if (p && (p < data || n > size || (size_t)(p - data) > size - n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *quote, *ccel, *event;
	size_t qlen, clen, elen;
	uint8_t rd[64], digest[48], rtmr[48];
	uint32_t plen, index;
	uint16_t type;
	int ret;

	ret = tdx_sim_hdr_parse(data, size, "fuzz", &type, &plen);
	if (ret > 0 || (!ret && plen > SNP_SIM_PAYLOAD_MAX))
		abort();
	if (size >= SNP_SIM_HDR_LEN) {
		const uint8_t *p = data + SNP_SIM_HDR_LEN;
		size_t n = size - SNP_SIM_HDR_LEN;

		if (tdx_sim_quote_req_parse(p, n, "fuzz", rd) > 0)
			abort();
		ret = tdx_sim_extend_req_parse(p, n, "fuzz", &index, digest, &event, &elen);
		if (ret > 0 || (!ret && (index < 2 || index > 3 || elen > TDX_SIM_EVENT_MAX)))
			abort();
		if (!ret)
			inside(event, elen, p, n);
	}
	ret = tdx_sim_quote_rsp_parse(data, size, "fuzz", &quote, &qlen, &ccel, &clen);
	if (ret > 0 || (!ret && !qlen))
		abort();
	if (!ret) {
		inside(quote, qlen, data, size);
		inside(ccel, clen, data, size);
	}
	ret = tdx_sim_extend_rsp_parse(data, size, "fuzz", &index, rtmr);
	if (ret > 0 || (!ret && index > 3))
		abort();
	return 0;
}
