/* sim.c - the agent's client of the sim secure processor (sim-snp), which
 * the VMM serves on the sim channel as the PSP would answer a real SNP
 * guest: one CVSP REPORT_REQ (or EXT_REPORT_REQ for the certificate table)
 * per connection, in the wire format of sev/sim_wire.h (linked into the
 * agent). The answer comes through the host: parsed by snp_sim_rsp_parse's
 * bounds-checked reader. A sim-tdx channel answers PLATFORM_RSP instead
 * (tdx/sim_wire.h): then the evidence is a TD quote (sim_tdx.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attestation/agent/serve.h"
#include "attestation/proto/proto.h"
#include "sev/sim_wire.h"
#include "tdx/sim_wire.h"

#define SIM_TIMEOUT_MS 10000

int agent_sim_report(const char *addr, const struct agent_req *req, struct agent_evidence *ev)
{
	uint8_t msg[SNP_SIM_REQ_LEN];
	struct bytebuf out = { .data = msg, .len = sizeof(msg), .cap = sizeof(msg) };
	const uint8_t *report, *certs;
	size_t report_len, certs_len;
	uint8_t *rsp = NULL;
	uint32_t len;
	uint16_t type, want = req->want_certs ? SNP_SIM_EXT_REPORT_RSP : SNP_SIM_REPORT_RSP;
	char what[160];
	int fd, ret;

	if (req->have_privlevel && req->privlevel > 3)
		return err_set(EINVAL, "--privlevel: %u is not a VMPL (0..3)", req->privlevel);
	snprintf(what, sizeof(what), "sim channel %s", addr);
	snprintf(ev->provider, sizeof(ev->provider), "sim");
	if ((ret = snp_sim_req_encode(msg, req->report_data, req->have_privlevel ? req->privlevel : 0,
				      req->want_certs)))
		return ret;
	fd = att_sock_connect(addr, SIM_TIMEOUT_MS);
	if (fd < 0)
		return err_wrap(-fd, "sim secure processor");
	rsp = malloc(SNP_SIM_HDR_LEN);
	if (!rsp) {
		ret = err_set(ENOMEM, "%s: out of memory", what);
		goto out;
	}
	if ((ret = att_sock_send(fd, &out)) || (ret = att_sock_read(fd, rsp, SNP_SIM_HDR_LEN, SIM_TIMEOUT_MS, what)) ||
	    (ret = tdx_sim_hdr_parse(rsp, SNP_SIM_HDR_LEN, what, &type, &len)))
		goto out;
	if (type == TDX_SIM_PLATFORM_RSP) {
		/* a sim-tdx channel: ask it for a TD quote instead */
		free(rsp);
		close(fd);
		return agent_sim_tdx_quote(addr, req, ev);
	}
	if (type != want) {
		ret = err_set(EIO, "%s: response type 0x%x, expected 0x%x", what, type, want);
		goto out;
	}
	{
		uint8_t *p = realloc(rsp, SNP_SIM_HDR_LEN + (size_t)len);

		if (!p) {
			ret = err_set(ENOMEM, "%s: out of memory", what);
			goto out;
		}
		rsp = p;
	}
	if ((ret = att_sock_read(fd, rsp + SNP_SIM_HDR_LEN, len, SIM_TIMEOUT_MS, what)) ||
	    (ret = snp_sim_rsp_parse(rsp, SNP_SIM_HDR_LEN + (size_t)len, what, &report, &report_len, &certs,
				     &certs_len)))
		goto out;
	if (req->want_certs && !certs_len) {
		ret = err_set(ENOENT, "%s: the sim secure processor supplied no certificates", what);
		goto out;
	}
	if (bb_append(&ev->report, report, report_len) || (certs_len && bb_append(&ev->certs, certs, certs_len)))
		ret = err_set(ENOMEM, "%s: out of memory", what);
out:
	free(rsp);
	close(fd);
	return ret;
}
