/* sim_channel.c - the sim channel server (sev.h, docs/sim-channel.md): a
 * thread that answers a guest's report requests for the sim-snp secure
 * processor, as the host relays a real SNP guest's MSG_REPORT_REQ to the
 * PSP (SNP ABI Table 20/25; GHCB "SNP Extended Guest Request" for the
 * certificate table). Listens on "vsock:PORT" (VMADDR_CID_ANY, answering
 * only peer CID guest_cid) or "unix:PATH" (tests, benchmarks). One
 * connection at a time, several requests per connection; every wait polls
 * an eventfd too, so snp_sim_channel_stop is prompt, and a guest that stalls
 * mid-message for 5 s is dropped. A malformed request gets STATUS 0x16
 * (invalid parameters); a malformed header also ends the connection, since
 * the framing is lost. Wire format: sev/sim_wire.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "sev/sim_internal.h"
#include "sev/sim_wire.h"

struct snp_sim_channel {
	struct snp_sim *sp;
	struct sim_server *srv;
};

/* Answer one request; false when the connection must end. */
static bool serve_one(void *ctx, struct sim_server *srv, int fd)
{
	struct snp_sim_channel *ch = ctx;
	uint8_t hdr[SNP_SIM_HDR_LEN], payload[SNP_SIM_REQ_PAYLOAD], rd[64], report[SNP_SIM_REPORT_LEN];
	uint8_t *certs = NULL;
	size_t certs_len = 0;
	struct bytebuf out = { 0 };
	uint16_t type = 0;
	uint32_t plen = 0, vmpl = 0, status = SNP_SIM_STATUS_OK;
	bool framed, ext, keep = true;
	int ret;

	if (!sim_server_read(srv, fd, hdr, sizeof(hdr)))
		return false;
	framed = !snp_sim_hdr_parse(hdr, sizeof(hdr), "sim channel request", &type, &plen) &&
		 (type == SNP_SIM_REPORT_REQ || type == SNP_SIM_EXT_REPORT_REQ);
	ext = framed && type == SNP_SIM_EXT_REPORT_REQ;
	if (!framed) {
		status = SNP_SIM_STATUS_INVALID_PARAM;
		keep = false;
	} else if (plen != SNP_SIM_REQ_PAYLOAD) {
		/* Skip a wrong-size payload that is small enough to read. */
		uint8_t skip[256];

		status = SNP_SIM_STATUS_INVALID_PARAM;
		for (uint32_t left = plen; keep && left;) {
			size_t n = left < sizeof(skip) ? left : sizeof(skip);

			keep = plen <= 4096 && sim_server_read(srv, fd, skip, n);
			left -= (uint32_t)n;
		}
	} else if (!sim_server_read(srv, fd, payload, sizeof(payload))) {
		return false;
	} else if (snp_sim_req_parse(payload, sizeof(payload), "sim channel request", rd, &vmpl)) {
		status = SNP_SIM_STATUS_INVALID_PARAM;
	} else if ((ret = snp_sim_report(ch->sp, rd, vmpl, report))) {
		status = ret == -ENODATA ? SNP_SIM_STATUS_INVALID_GUEST_STATE : SNP_SIM_STATUS_INVALID_PARAM;
	} else if (ext && snp_sim_cert_table(ch->sp, &certs, &certs_len)) {
		status = SNP_SIM_STATUS_INVALID_PARAM;
	}
	if (!snp_sim_rsp_encode(&out, ext, status, status ? NULL : report, certs, certs_len))
		keep = sim_server_write(fd, out.data, out.len) && keep;
	else
		keep = false;
	bb_free(&out);
	free(certs);
	return keep;
}

void (*snp_sim_channel_thread_hook)(void);

int snp_sim_channel_start(struct snp_sim *sp, const char *addr, uint32_t guest_cid, struct snp_sim_channel **out)
{
	struct snp_sim_channel *ch = calloc(1, sizeof(*ch));
	int ret;

	*out = NULL;
	if (!ch)
		return err_set(ENOMEM, "sim channel: out of memory");
	ch->sp = sp;
	if ((ret = sim_server_start(addr, guest_cid, serve_one, ch, snp_sim_channel_thread_hook, &ch->srv))) {
		free(ch);
		return ret;
	}
	*out = ch;
	return 0;
}

void snp_sim_channel_stop(struct snp_sim_channel *ch)
{
	if (!ch)
		return;
	sim_server_stop(ch->srv);
	free(ch);
}
