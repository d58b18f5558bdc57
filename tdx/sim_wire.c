/* sim_wire.c - encode and parse the sim channel's TDX messages (sim_wire.h,
 * docs/sim-tdx.md). Everything received is read with the bounds-checked
 * reader (tests/fuzz/fuzz_sim_tdx_wire.c). */
#include <errno.h>
#include <string.h>

#include "tdx/sim_wire.h"

static bool known_type(uint16_t t)
{
	switch (t) {
	case SNP_SIM_REPORT_REQ: case SNP_SIM_EXT_REPORT_REQ: case SNP_SIM_REPORT_RSP: case SNP_SIM_EXT_REPORT_RSP:
	case TDX_SIM_QUOTE_REQ: case TDX_SIM_EXTEND_REQ: case TDX_SIM_PLATFORM_RSP: case TDX_SIM_QUOTE_RSP:
	case TDX_SIM_EXTEND_RSP:
		return true;
	default:
		return false;
	}
}

int tdx_sim_hdr_parse(const uint8_t *buf, size_t len, const char *what, uint16_t *type, uint32_t *payload_len)
{
	int ret = snp_sim_frame_parse(buf, len, what, type, payload_len);

	if (!ret && !known_type(*type))
		ret = err_set(EINVAL, "%s: unknown message type 0x%x", what, *type);
	return ret;
}

static int put_msg(struct bytebuf *b, uint16_t type, size_t payload_len)
{
	uint8_t hdr[SNP_SIM_HDR_LEN];

	if (payload_len > SNP_SIM_PAYLOAD_MAX)
		return err_set(EINVAL, "sim message: %zu bytes is over the limit", payload_len);
	snp_sim_hdr_put(hdr, type, (uint32_t)payload_len);
	return bb_append(b, hdr, sizeof(hdr)) ? err_set(ENOMEM, "sim message: out of memory") : 0;
}

int tdx_sim_quote_req_encode(struct bytebuf *b, const uint8_t report_data[64])
{
	int ret = put_msg(b, TDX_SIM_QUOTE_REQ, TDX_SIM_QUOTE_REQ_LEN);

	if (!ret && bb_append(b, report_data, 64))
		ret = err_set(ENOMEM, "sim message: out of memory");
	return ret;
}

int tdx_sim_quote_req_parse(const uint8_t *payload, size_t len, const char *what, uint8_t report_data[64])
{
	if (len != TDX_SIM_QUOTE_REQ_LEN)
		return err_set(EINVAL, "%s: TDX_QUOTE_REQ is %zu bytes, not %u", what, len, TDX_SIM_QUOTE_REQ_LEN);
	memcpy(report_data, payload, 64);
	return 0;
}

int tdx_sim_extend_req_encode(struct bytebuf *b, uint32_t index, const uint8_t digest[48], const uint8_t *event,
			      size_t event_len)
{
	uint8_t f[TDX_SIM_EXTEND_FIXED];
	int ret;

	if (index < 2 || index > 3)
		return err_set(EINVAL, "RTMR extend: index %u is not 2 or 3", index);
	if (event_len > TDX_SIM_EVENT_MAX)
		return err_set(EINVAL, "RTMR extend: event of %zu bytes is over the limit %u", event_len,
			       TDX_SIM_EVENT_MAX);
	put_le32(f, index);
	memcpy(f + 4, digest, 48);
	put_le32(f + 52, (uint32_t)event_len);
	if ((ret = put_msg(b, TDX_SIM_EXTEND_REQ, sizeof(f) + event_len)))
		return ret;
	if (bb_append(b, f, sizeof(f)) || (event_len && bb_append(b, event, event_len)))
		return err_set(ENOMEM, "sim message: out of memory");
	return 0;
}

int tdx_sim_extend_req_parse(const uint8_t *payload, size_t len, const char *what, uint32_t *index,
			     uint8_t digest[48], const uint8_t **event, size_t *event_len)
{
	struct reader r;
	uint32_t n;

	*event = NULL;
	*event_len = 0;
	rd_init(&r, payload, len, what);
	if (rd_u32(&r, "INDEX", index) || rd_bytes(&r, "DIGEST", digest, 48) || rd_u32(&r, "EVENT_SIZE", &n))
		return -EINVAL;
	if (*index < 2 || *index > 3)
		return err_set(EINVAL, "%s: RTMR index %u is not 2 or 3 (RTMR0/1 are the firmware's)", what, *index);
	if (n > TDX_SIM_EVENT_MAX)
		return err_set(EINVAL, "%s: EVENT_SIZE %u is over the limit %u", what, n, TDX_SIM_EVENT_MAX);
	if (rd_ptr(&r, "EVENT", n, event))
		return -EINVAL;
	*event_len = n;
	if (rd_left(&r))
		return err_set(EINVAL, "%s: %zu bytes after the event", what, rd_left(&r));
	return 0;
}

int tdx_sim_quote_rsp_encode(struct bytebuf *b, uint32_t status, const uint8_t *quote, size_t quote_len,
			     const uint8_t *ccel, size_t ccel_len)
{
	uint8_t h[TDX_SIM_QUOTE_RSP_HDR] = { 0 };
	int ret;

	if (status || !quote)
		quote_len = ccel_len = 0;
	if (!ccel)
		ccel_len = 0;
	if ((ret = put_msg(b, TDX_SIM_QUOTE_RSP, sizeof(h) + quote_len + ccel_len)))
		return ret;
	put_le32(h, status);
	put_le32(h + 4, (uint32_t)quote_len);
	put_le32(h + 8, (uint32_t)ccel_len);
	if (bb_append(b, h, sizeof(h)) || (quote_len && bb_append(b, quote, quote_len)) ||
	    (ccel_len && bb_append(b, ccel, ccel_len)))
		return err_set(ENOMEM, "sim message: out of memory");
	return 0;
}

/* Header of a whole response message of type want: the reader over its payload. */
static int rsp_start(const uint8_t *buf, size_t len, const char *what, uint16_t want, struct reader *r)
{
	uint16_t type;
	uint32_t plen;
	int ret;

	if ((ret = tdx_sim_hdr_parse(buf, len, what, &type, &plen)))
		return ret;
	if (type != want)
		return err_set(EINVAL, "%s: message type 0x%x, expected 0x%x", what, type, want);
	if (len - SNP_SIM_HDR_LEN != plen)
		return err_set(EINVAL, "%s: %zu payload bytes, the header says %u", what, len - SNP_SIM_HDR_LEN, plen);
	rd_init(r, buf + SNP_SIM_HDR_LEN, plen, what);
	return 0;
}

static int status_error(const char *what, uint32_t status)
{
	return err_set(EIO, "%s: STATUS 0x%x (the sim TDX module refused the request%s)", what, status,
		       status == TDX_SIM_STATUS_INVALID ? ": invalid parameters"
		       : status == TDX_SIM_STATUS_NOT_LAUNCHED ? ": no TD launched" : "");
}

int tdx_sim_quote_rsp_parse(const uint8_t *buf, size_t len, const char *what, const uint8_t **quote,
			    size_t *quote_len, const uint8_t **ccel, size_t *ccel_len)
{
	struct reader r;
	uint32_t status, ql, cl;
	int ret;

	*quote = *ccel = NULL;
	*quote_len = *ccel_len = 0;
	if ((ret = rsp_start(buf, len, what, TDX_SIM_QUOTE_RSP, &r)))
		return ret;
	if (rd_u32(&r, "STATUS", &status) || rd_u32(&r, "QUOTE_SIZE", &ql) || rd_u32(&r, "CCEL_SIZE", &cl) ||
	    rd_skip(&r, "reserved", 20))
		return -EINVAL;
	if (status)
		return status_error(what, status);
	if (!ql)
		return err_set(EINVAL, "%s: QUOTE_SIZE 0 with STATUS 0", what);
	if (rd_ptr(&r, "QUOTE", ql, quote) || rd_ptr(&r, "CCEL", cl, ccel))
		return -EINVAL;
	if (rd_left(&r))
		return err_set(EINVAL, "%s: %zu bytes after the response", what, rd_left(&r));
	*quote_len = ql;
	*ccel_len = cl;
	if (!cl)
		*ccel = NULL;
	return 0;
}

int tdx_sim_extend_rsp_encode(struct bytebuf *b, uint32_t status, uint32_t index, const uint8_t rtmr[48])
{
	uint8_t p[TDX_SIM_EXTEND_RSP_LEN] = { 0 };
	int ret;

	put_le32(p, status);
	put_le32(p + 4, index);
	if (!status && rtmr)
		memcpy(p + 8, rtmr, 48);
	if ((ret = put_msg(b, TDX_SIM_EXTEND_RSP, sizeof(p))))
		return ret;
	return bb_append(b, p, sizeof(p)) ? err_set(ENOMEM, "sim message: out of memory") : 0;
}

int tdx_sim_extend_rsp_parse(const uint8_t *buf, size_t len, const char *what, uint32_t *index, uint8_t rtmr[48])
{
	struct reader r;
	uint32_t status;
	int ret;

	if ((ret = rsp_start(buf, len, what, TDX_SIM_EXTEND_RSP, &r)))
		return ret;
	if (rd_u32(&r, "STATUS", &status) || rd_u32(&r, "INDEX", index) || rd_bytes(&r, "RTMR", rtmr, 48))
		return -EINVAL;
	if (status)
		return status_error(what, status);
	if (rd_left(&r))
		return err_set(EINVAL, "%s: %zu bytes after the response", what, rd_left(&r));
	if (*index > 3)
		return err_set(EINVAL, "%s: RTMR index %u is not 0..3", what, *index);
	return 0;
}

int tdx_sim_platform_rsp_encode(struct bytebuf *b)
{
	uint8_t p[4];
	int ret = put_msg(b, TDX_SIM_PLATFORM_RSP, sizeof(p));

	put_le32(p, TDX_SIM_PLATFORM_TDX);
	return ret ? ret : bb_append(b, p, sizeof(p)) ? err_set(ENOMEM, "sim message: out of memory") : 0;
}
