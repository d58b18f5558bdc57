/* sim_tdx.c - the agent's client of the sim-tdx TDX module (docs/sim-tdx.md),
 * which the VMM serves on the sim channel: a TD quote for report_data
 * (TDX_QUOTE_REQ, the analog of a real TD's GetQuote through the host) and
 * RTMR extension (TDX_RTMR_EXTEND_REQ, the analog of TDG.MR.RTMR.EXTEND).
 * One request per connection, in the wire format of tdx/sim_wire.h (linked
 * into the agent); answers come through the host and are read with its
 * bounds-checked parsers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attestation/agent/serve.h"
#include "attestation/proto/proto.h"
#include "tdx/sim_wire.h"

#define SIM_TIMEOUT_MS 10000

int agent_sim_call(const char *addr, const struct bytebuf *req, const char *what, uint8_t **rsp, size_t *rsp_len,
		   uint16_t *type)
{
	uint32_t len;
	uint8_t *p;
	int fd, ret;

	*rsp = NULL;
	*rsp_len = 0;
	fd = att_sock_connect(addr, SIM_TIMEOUT_MS);
	if (fd < 0)
		return err_wrap(-fd, "sim channel");
	p = malloc(SNP_SIM_HDR_LEN);
	if (!p) {
		ret = err_set(ENOMEM, "%s: out of memory", what);
		goto out;
	}
	if ((ret = att_sock_send(fd, req)) || (ret = att_sock_read(fd, p, SNP_SIM_HDR_LEN, SIM_TIMEOUT_MS, what)) ||
	    (ret = tdx_sim_hdr_parse(p, SNP_SIM_HDR_LEN, what, type, &len)))
		goto out;
	{
		uint8_t *q = realloc(p, SNP_SIM_HDR_LEN + (size_t)len);

		if (!q) {
			ret = err_set(ENOMEM, "%s: out of memory", what);
			goto out;
		}
		p = q;
	}
	if ((ret = att_sock_read(fd, p + SNP_SIM_HDR_LEN, len, SIM_TIMEOUT_MS, what)))
		goto out;
	*rsp = p;
	*rsp_len = SNP_SIM_HDR_LEN + (size_t)len;
	p = NULL;
out:
	free(p);
	close(fd);
	return ret;
}

int agent_sim_tdx_quote(const char *addr, const struct agent_req *req, struct agent_evidence *ev)
{
	struct bytebuf msg = { 0 };
	const uint8_t *quote, *ccel;
	size_t quote_len, ccel_len, len;
	uint8_t *rsp = NULL;
	uint16_t type;
	char what[160];
	int ret;

	snprintf(what, sizeof(what), "sim channel %s", addr);
	snprintf(ev->provider, sizeof(ev->provider), "sim-tdx");
	if ((ret = tdx_sim_quote_req_encode(&msg, req->report_data)) ||
	    (ret = agent_sim_call(addr, &msg, what, &rsp, &len, &type)) ||
	    (ret = tdx_sim_quote_rsp_parse(rsp, len, what, &quote, &quote_len, &ccel, &ccel_len)))
		goto out;
	if (bb_append(&ev->report, quote, quote_len) || (ccel_len && bb_append(&ev->event_log, ccel, ccel_len)))
		ret = err_set(ENOMEM, "%s: out of memory", what);
out:
	free(rsp);
	bb_free(&msg);
	return ret;
}

int agent_sim_tdx_extend(const char *addr, uint32_t index, const uint8_t digest[48], const uint8_t *event,
			 size_t event_len, uint8_t rtmr[48])
{
	struct bytebuf msg = { 0 };
	uint8_t *rsp = NULL;
	size_t len;
	uint32_t got;
	uint16_t type;
	char what[160];
	int ret;

	snprintf(what, sizeof(what), "sim channel %s", addr);
	if ((ret = tdx_sim_extend_req_encode(&msg, index, digest, event, event_len)) ||
	    (ret = agent_sim_call(addr, &msg, what, &rsp, &len, &type)))
		goto out;
	if (type == TDX_SIM_PLATFORM_RSP || type == SNP_SIM_REPORT_RSP)
		ret = err_set(ENOTSUP, "%s: not a sim-tdx channel (RTMRs are TDX only)", what);
	else if (!(ret = tdx_sim_extend_rsp_parse(rsp, len, what, &got, rtmr)) && got != index)
		ret = err_set(EIO, "%s: extended RTMR%u, asked for RTMR%u", what, got, index);
out:
	free(rsp);
	bb_free(&msg);
	return ret;
}
