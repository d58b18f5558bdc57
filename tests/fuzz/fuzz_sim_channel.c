/* libFuzzer target: the sim channel's wire format (sev/sim_wire.c,
 * docs/sim-channel.md), both sides: the server's header and MSG_REPORT_REQ
 * parsers, and the guest agent's response parser (MSG_REPORT_RSP plus the
 * certificate table). Any input must give 0 with every pointer inside the
 * input, or -errno; never a crash or a read outside the input. */
#include <stdint.h>
#include <stdlib.h>

#include "sev/sim_wire.h"

static void inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
	if (p && (p < data || n > size || (size_t)(p - data) > size - n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rep, *certs;
	size_t rlen, clen;
	uint8_t rd[64];
	uint32_t plen, vmpl;
	uint16_t type;
	int ret;

	ret = snp_sim_hdr_parse(data, size, "fuzz", &type, &plen);
	if (ret > 0 || (!ret && plen > SNP_SIM_PAYLOAD_MAX))
		abort();
	if (size >= SNP_SIM_HDR_LEN) {
		ret = snp_sim_req_parse(data + SNP_SIM_HDR_LEN, size - SNP_SIM_HDR_LEN, "fuzz", rd, &vmpl);
		if (ret > 0 || (!ret && vmpl > 3))
			abort();
	}
	ret = snp_sim_rsp_parse(data, size, "fuzz", &rep, &rlen, &certs, &clen);
	if (ret > 0)
		abort();
	if (!ret) {
		if (rlen != SNP_SIM_REPORT_LEN)
			abort();
		inside(rep, rlen, data, size);
		inside(certs, clen, data, size);
	}
	return 0;
}
