/* sim_channel.c - the sim channel server of sim-tdx (tdx.h, docs/sim-tdx.md):
 * a thread answering a guest's TDX requests for the sim TDX module, as the
 * host relays a real TD's GetQuote (TDVMCALL) to the quoting enclave, plus
 * RTMR extension (TDG.MR.RTMR.EXTEND, which a real TD asks of the TDX
 * module directly). Same transport rules as the sim-snp channel
 * (docs/sim-channel.md): "vsock:PORT" bound to VMADDR_CID_ANY answering only
 * peer CID guest_cid, or "unix:PATH"; one connection at a time, several
 * requests per connection, an eventfd for a prompt stop, a peer stalling
 * 5 s mid-message is dropped. An SNP request (types 1, 2) is answered with
 * PLATFORM_RSP (this is a TDX platform); a malformed request gets STATUS
 * 0x16, and a malformed header also ends the connection (framing lost).
 * Wire format: tdx/sim_wire.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sev/sev.h"
#include "tdx/sim_internal.h"
#include "tdx/sim_wire.h"

struct tdx_sim_channel {
	struct tdx_sim *s;
	struct sim_server *srv;
};

static uint32_t status_of(int ret)
{
	return ret == -ENODATA ? TDX_SIM_STATUS_NOT_LAUNCHED : TDX_SIM_STATUS_INVALID;
}

/* Answer one request; false when the connection must end. */
static bool serve_one(void *ctx, struct sim_server *srv, int fd)
{
	struct tdx_sim_channel *ch = ctx;
	uint8_t hdr[SNP_SIM_HDR_LEN], rd[64], digest[48], rtmr[48];
	struct bytebuf out = { 0 }, quote = { 0 }, ccel = { 0 };
	uint8_t *payload = NULL;
	const uint8_t *event;
	size_t event_len;
	uint16_t type = 0;
	uint32_t plen = 0, index = 0, status;
	bool keep = true;
	int ret;

	if (!sim_server_read(srv, fd, hdr, sizeof(hdr)))
		return false;
	if (tdx_sim_hdr_parse(hdr, sizeof(hdr), "sim channel request", &type, &plen) ||
	    (type != SNP_SIM_REPORT_REQ && type != SNP_SIM_EXT_REPORT_REQ && type != TDX_SIM_QUOTE_REQ &&
	     type != TDX_SIM_EXTEND_REQ)) {
		/* framing lost: answer and close */
		if (!tdx_sim_quote_rsp_encode(&out, TDX_SIM_STATUS_INVALID, NULL, 0, NULL, 0))
			sim_server_write(fd, out.data, out.len);
		bb_free(&out);
		return false;
	}
	/* every request we serve fits in its size limit: read it whole */
	if (plen > (type == TDX_SIM_EXTEND_REQ ? TDX_SIM_EXTEND_FIXED + TDX_SIM_EVENT_MAX : 4096u)) {
		keep = false;
		plen = 0;
		status = TDX_SIM_STATUS_INVALID;
	} else if (!(payload = malloc(plen ? plen : 1)) || !sim_server_read(srv, fd, payload, plen)) {
		free(payload);
		return false;
	}
	if (type == SNP_SIM_REPORT_REQ || type == SNP_SIM_EXT_REPORT_REQ) {
		ret = tdx_sim_platform_rsp_encode(&out);
	} else if (type == TDX_SIM_QUOTE_REQ) {
		if (keep && !(ret = tdx_sim_quote_req_parse(payload, plen, "TDX_QUOTE_REQ", rd)))
			ret = tdx_sim_quote(ch->s, rd, &quote, &ccel);
		else
			ret = -EINVAL;
		status = ret ? status_of(ret) : TDX_SIM_STATUS_OK;
		ret = tdx_sim_quote_rsp_encode(&out, status, quote.data, quote.len, ccel.data, ccel.len);
	} else {
		if (keep && !(ret = tdx_sim_extend_req_parse(payload, plen, "TDX_RTMR_EXTEND_REQ", &index, digest, &event,
							    &event_len)))
			ret = tdx_sim_rtmr_extend(ch->s, index, digest, event, event_len, rtmr);
		else
			ret = -EINVAL;
		status = ret ? status_of(ret) : TDX_SIM_STATUS_OK;
		ret = tdx_sim_extend_rsp_encode(&out, status, index, status ? NULL : rtmr);
	}
	keep = !ret && sim_server_write(fd, out.data, out.len) && keep;
	bb_free(&out);
	bb_free(&quote);
	bb_free(&ccel);
	free(payload);
	return keep;
}

void (*tdx_sim_channel_thread_hook)(void);

int tdx_sim_channel_start(struct tdx_sim *s, const char *addr, uint32_t guest_cid, struct tdx_sim_channel **out)
{
	struct tdx_sim_channel *ch = calloc(1, sizeof(*ch));
	int ret;

	*out = NULL;
	if (!ch)
		return err_set(ENOMEM, "sim channel: out of memory");
	ch->s = s;
	if ((ret = sim_server_start(addr, guest_cid, serve_one, ch, tdx_sim_channel_thread_hook, &ch->srv))) {
		free(ch);
		return ret;
	}
	*out = ch;
	return 0;
}

void tdx_sim_channel_stop(struct tdx_sim_channel *ch)
{
	if (!ch)
		return;
	sim_server_stop(ch->srv);
	free(ch);
}
