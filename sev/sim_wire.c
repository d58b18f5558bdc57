/* sim_wire.c - encode and parse the sim channel's messages (sim_wire.h,
 * docs/sim-channel.md): a small header around the SNP ABI's MSG_REPORT_REQ
 * (Table 20) and MSG_REPORT_RSP (Table 25), plus the GHCB extended
 * request's certificate table. Everything received is read with the
 * bounds-checked reader (tests/fuzz/fuzz_sim_channel.c). */
#include <errno.h>
#include <string.h>

#include "sev/sim_wire.h"

int snp_sim_frame_parse(const uint8_t *buf, size_t len, const char *what, uint16_t *type, uint32_t *payload_len)
{
	struct reader r;
	uint32_t magic;
	uint16_t version;

	rd_init(&r, buf, len, what);
	if (rd_u32(&r, "magic", &magic) || rd_u16(&r, "version", &version) || rd_u16(&r, "type", type) ||
	    rd_u32(&r, "length", payload_len))
		return -EINVAL;
	if (magic != SNP_SIM_MAGIC)
		return err_set(EINVAL, "%s: magic 0x%08x is not 0x%08x (\"CVSP\")", what, magic, SNP_SIM_MAGIC);
	if (version != SNP_SIM_VERSION)
		return err_set(EINVAL, "%s: version %u is not %u", what, version, SNP_SIM_VERSION);
	if (*payload_len > SNP_SIM_PAYLOAD_MAX)
		return err_set(EINVAL, "%s: payload length %u is over the limit %u", what, *payload_len,
			       SNP_SIM_PAYLOAD_MAX);
	return 0;
}

int snp_sim_hdr_parse(const uint8_t *buf, size_t len, const char *what, uint16_t *type, uint32_t *payload_len)
{
	int ret = snp_sim_frame_parse(buf, len, what, type, payload_len);

	if (!ret && *type != SNP_SIM_REPORT_REQ && *type != SNP_SIM_EXT_REPORT_REQ && *type != SNP_SIM_REPORT_RSP &&
	    *type != SNP_SIM_EXT_REPORT_RSP)
		ret = err_set(EINVAL, "%s: unknown message type 0x%x", what, *type);
	return ret;
}

void snp_sim_hdr_put(uint8_t out[SNP_SIM_HDR_LEN], uint16_t type, uint32_t payload_len)
{
	put_le32(out, SNP_SIM_MAGIC);
	put_le16(out + 4, SNP_SIM_VERSION);
	put_le16(out + 6, type);
	put_le32(out + 8, payload_len);
}

int snp_sim_req_parse(const uint8_t *payload, size_t len, const char *what, uint8_t report_data[64],
		      uint32_t *vmpl)
{
	struct reader r;
	uint32_t key_sel;
	const uint8_t *rsvd;

	if (len != SNP_SIM_REQ_PAYLOAD)
		return err_set(EINVAL, "%s: MSG_REPORT_REQ is %zu bytes, not %u", what, len, SNP_SIM_REQ_PAYLOAD);
	rd_init(&r, payload, len, what);
	if (rd_bytes(&r, "REPORT_DATA", report_data, 64) || rd_u32(&r, "VMPL", vmpl) ||
	    rd_u32(&r, "KEY_SEL", &key_sel) || rd_ptr(&r, "reserved", 24, &rsvd))
		return -EINVAL;
	if (*vmpl > 3)
		return err_set(EINVAL, "%s: VMPL %u is not 0..3", what, *vmpl);
	if (key_sel > 1)
		return err_set(EINVAL, "%s: KEY_SEL 0x%x: the sim signs with its VCEK only (0 or 1)", what, key_sel);
	for (int i = 0; i < 24; i++)
		if (rsvd[i])
			return err_set(EINVAL, "%s: reserved byte 0x%x of MSG_REPORT_REQ is not zero", what, 0x48 + i);
	return 0;
}

int snp_sim_req_encode(uint8_t out[SNP_SIM_REQ_LEN], const uint8_t report_data[64], uint32_t vmpl, bool ext)
{
	if (vmpl > 3)
		return err_set(EINVAL, "sim request: VMPL %u is not 0..3", vmpl);
	memset(out, 0, SNP_SIM_REQ_LEN);
	snp_sim_hdr_put(out, ext ? SNP_SIM_EXT_REPORT_REQ : SNP_SIM_REPORT_REQ, SNP_SIM_REQ_PAYLOAD);
	memcpy(out + SNP_SIM_HDR_LEN, report_data, 64);
	put_le32(out + SNP_SIM_HDR_LEN + 64, vmpl);
	return 0;
}

int snp_sim_rsp_encode(struct bytebuf *b, bool ext, uint32_t status, const uint8_t *report, const uint8_t *certs,
		       size_t certs_len)
{
	uint8_t hdr[SNP_SIM_HDR_LEN], rsp[SNP_SIM_RSP_HDR] = { 0 }, n[4];
	size_t rlen = status || !report ? 0 : SNP_SIM_REPORT_LEN;
	size_t clen = ext && rlen ? certs_len : 0;
	size_t total = SNP_SIM_RSP_HDR + rlen + (ext ? 4 + clen : 0);

	if (total > SNP_SIM_PAYLOAD_MAX)
		return err_set(EINVAL, "sim response: %zu bytes is over the limit", total);
	snp_sim_hdr_put(hdr, ext ? SNP_SIM_EXT_REPORT_RSP : SNP_SIM_REPORT_RSP, (uint32_t)total);
	put_le32(rsp, status);
	put_le32(rsp + 4, (uint32_t)rlen);
	put_le32(n, (uint32_t)clen);
	if (bb_append(b, hdr, sizeof(hdr)) || bb_append(b, rsp, sizeof(rsp)) || (rlen && bb_append(b, report, rlen)) ||
	    (ext && bb_append(b, n, 4)) || (clen && bb_append(b, certs, clen)))
		return err_set(ENOMEM, "sim response: out of memory");
	return 0;
}

int snp_sim_rsp_parse(const uint8_t *buf, size_t len, const char *what, const uint8_t **report, size_t *report_len,
		      const uint8_t **certs, size_t *certs_len)
{
	struct reader r;
	uint16_t type;
	uint32_t plen, status, size, clen;
	int ret;

	*report = *certs = NULL;
	*report_len = *certs_len = 0;
	if ((ret = snp_sim_hdr_parse(buf, len, what, &type, &plen)))
		return ret;
	if (type != SNP_SIM_REPORT_RSP && type != SNP_SIM_EXT_REPORT_RSP)
		return err_set(EINVAL, "%s: message type 0x%x is not a response", what, type);
	if (len - SNP_SIM_HDR_LEN != plen)
		return err_set(EINVAL, "%s: %zu payload bytes, the header says %u", what, len - SNP_SIM_HDR_LEN, plen);
	rd_init(&r, buf + SNP_SIM_HDR_LEN, plen, what);
	if (rd_u32(&r, "MSG_REPORT_RSP.STATUS", &status) || rd_u32(&r, "MSG_REPORT_RSP.REPORT_SIZE", &size) ||
	    rd_skip(&r, "MSG_REPORT_RSP.reserved", 24))
		return -EINVAL;
	if (status)
		return err_set(EIO, "%s: MSG_REPORT_RSP.STATUS 0x%x (the sim secure processor refused the request%s)",
			       what, status, status == SNP_SIM_STATUS_INVALID_PARAM ? ": invalid parameters" : "");
	if (size != SNP_SIM_REPORT_LEN)
		return err_set(EINVAL, "%s: MSG_REPORT_RSP.REPORT_SIZE %u, expected %u", what, size, SNP_SIM_REPORT_LEN);
	if (rd_ptr(&r, "MSG_REPORT_RSP.REPORT", size, report))
		return -EINVAL;
	*report_len = size;
	if (type == SNP_SIM_EXT_REPORT_RSP &&
	    (rd_u32(&r, "cert table length", &clen) || rd_ptr(&r, "cert table", clen, certs)))
		return -EINVAL;
	*certs_len = type == SNP_SIM_EXT_REPORT_RSP ? clen : 0;
	if (rd_left(&r))
		return err_set(EINVAL, "%s: %zu bytes after the response", what, rd_left(&r));
	return 0;
}
