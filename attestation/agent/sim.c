/* sim.c - the agent's client of the sim secure processor (sim-snp), which
 * the VMM serves on the sim channel as the PSP would answer a real SNP
 * guest. Wire format (the "CVSP" framing of the sim channel):
 *   u32le magic 0x50535643 | u16le version 1 | u16le type | u32le length | payload
 *   request  1 REPORT_REQ / 2 EXT_REPORT_REQ: SNP MSG_REPORT_REQ (96 bytes:
 *            report_data[64], u32 vmpl, 28 reserved)
 *   response 0x81 / 0x82: MSG_REPORT_RSP (u32 status, u32 report_size,
 *            24 reserved, 1184-byte report), for 0x82 then u32le cert-table
 *            length and the table.
 * The answer comes through the host: bounds-checked reader. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attestation/agent/serve.h"
#include "attestation/proto/proto.h"
#include "attestation/snp_report.h" /* SNP_REPORT_SIZE */

#define CVSP_MAGIC 0x50535643u
#define CVSP_VERSION 1u
#define CVSP_HDR 12u
#define CVSP_REPORT_REQ 1u
#define CVSP_EXT_REPORT_REQ 2u
#define CVSP_RSP 0x80u
#define MSG_REPORT_REQ_LEN 96u
#define MSG_REPORT_RSP_LEN (0x20u + SNP_REPORT_SIZE)
#define SIM_TIMEOUT_MS 10000

static void encode_req(uint8_t out[CVSP_HDR + MSG_REPORT_REQ_LEN], const struct agent_req *req)
{
	memset(out, 0, CVSP_HDR + MSG_REPORT_REQ_LEN);
	put_le32(out, CVSP_MAGIC);
	put_le16(out + 4, CVSP_VERSION);
	put_le16(out + 6, req->want_certs ? CVSP_EXT_REPORT_REQ : CVSP_REPORT_REQ);
	put_le32(out + 8, MSG_REPORT_REQ_LEN);
	memcpy(out + CVSP_HDR, req->report_data, 64);
	put_le32(out + CVSP_HDR + 64, req->have_privlevel ? req->privlevel : 0);
}

static int parse_rsp(const char *what, const uint8_t *p, size_t len, bool ext, struct agent_evidence *ev)
{
	struct reader r;
	const uint8_t *rsp, *certs;
	uint32_t certs_len;
	int ret;

	rd_init(&r, p, len, what);
	if (rd_ptr(&r, "MSG_REPORT_RSP", MSG_REPORT_RSP_LEN, &rsp))
		return -EIO;
	if ((ret = agent_snp_unwrap(what, rsp, MSG_REPORT_RSP_LEN, &ev->report)))
		return ret;
	if (ext) {
		if (rd_u32(&r, "certificate table length", &certs_len) ||
		    rd_ptr(&r, "certificate table", certs_len, &certs))
			return -EIO;
		if (!certs_len)
			return err_set(ENOENT, "%s: the sim secure processor supplied no certificates", what);
		if (bb_append(&ev->certs, certs, certs_len))
			return err_set(ENOMEM, "%s: out of memory", what);
	}
	if (rd_left(&r))
		return err_set(EIO, "%s: %zu bytes after the response", what, rd_left(&r));
	return 0;
}

int agent_sim_report(const char *addr, const struct agent_req *req, struct agent_evidence *ev)
{
	uint8_t msg[CVSP_HDR + MSG_REPORT_REQ_LEN], hdr[CVSP_HDR];
	struct bytebuf out = { .data = msg, .len = sizeof(msg), .cap = sizeof(msg) };
	uint8_t *payload = NULL;
	uint32_t len, want;
	char what[160];
	int fd, ret;

	if (req->have_privlevel && req->privlevel > 3)
		return err_set(EINVAL, "--privlevel: %u is not a VMPL (0..3)", req->privlevel);
	snprintf(what, sizeof(what), "sim channel %s", addr);
	snprintf(ev->provider, sizeof(ev->provider), "sim");
	encode_req(msg, req);
	fd = att_sock_connect(addr, SIM_TIMEOUT_MS);
	if (fd < 0)
		return err_wrap(-fd, "sim secure processor");
	if ((ret = att_sock_send(fd, &out)) || (ret = att_sock_read(fd, hdr, sizeof(hdr), SIM_TIMEOUT_MS, what)))
		goto out;
	want = CVSP_RSP | (req->want_certs ? CVSP_EXT_REPORT_REQ : CVSP_REPORT_REQ);
	len = le32(hdr + 8);
	if (le32(hdr) != CVSP_MAGIC || le16(hdr + 4) != CVSP_VERSION) {
		ret = err_set(EIO, "%s: not a CVSP response (magic 0x%08x version %u)", what, le32(hdr), le16(hdr + 4));
		goto out;
	}
	if (le16(hdr + 6) != want) {
		ret = err_set(EIO, "%s: response type 0x%x, expected 0x%x", what, le16(hdr + 6), want);
		goto out;
	}
	if (len > AGENT_BLOB_MAX) {
		ret = err_set(EIO, "%s: response of %u bytes (at most %u)", what, len, AGENT_BLOB_MAX);
		goto out;
	}
	payload = malloc(len ? len : 1);
	if (!payload) {
		ret = err_set(ENOMEM, "%s: out of memory", what);
		goto out;
	}
	if (!(ret = att_sock_read(fd, payload, len, SIM_TIMEOUT_MS, what)))
		ret = parse_rsp(what, payload, len, req->want_certs, ev);
out:
	free(payload);
	close(fd);
	return ret;
}
