/* tdx_quote.c - parse an Intel TDX quote (v4 or v5) from untrusted bytes
 * with the bounds-checked reader. Layout: Intel TDX DCAP Quoting Library API,
 * appendix A "Quote Format":
 *   header (48): version u16, att key type u16, TEE type u32, reserved/
 *                QE SVN/PCE SVN (4), QE vendor ID (16), user data (20)
 *   v4: TD quote body (584)
 *   v5: body type u16 (2 = TD10, 3 = TD15), body size u32, body (584 | 648)
 *   signature data length u32, then: ECDSA signature (64), attestation
 *   public key (64), certification data (type u16, size u32, data).
 *   Type 6 (QE report certification data): QE report (384), QE report
 *   signature (64), QE auth data (size u16, data), then a nested
 *   certification data, type 5 = PCK certificate chain (PEM).
 * The attestation key signs everything before the signature data length. */
#include <errno.h>
#include <string.h>

#include "attestation/tdx_quote.h"
#include "common/common.h"

const struct tdx_field tdx_body_fields[] = {
	{ "tee_tcb_svn", TDX_B_TEE_TCB_SVN, 16 },
	{ "mrseam", TDX_B_MRSEAM, 48 },
	{ "mrsignerseam", TDX_B_MRSIGNERSEAM, 48 },
	{ "seam_attributes", TDX_B_SEAM_ATTRIBUTES, 8 },
	{ "td_attributes", TDX_B_TD_ATTRIBUTES, 8 },
	{ "xfam", TDX_B_XFAM, 8 },
	{ "mrtd", TDX_B_MRTD, 48 },
	{ "mrconfigid", TDX_B_MRCONFIGID, 48 },
	{ "mrowner", TDX_B_MROWNER, 48 },
	{ "mrownerconfig", TDX_B_MROWNERCONFIG, 48 },
	{ "rtmr0", TDX_B_RTMR0, 48 },
	{ "rtmr1", TDX_B_RTMR0 + 48, 48 },
	{ "rtmr2", TDX_B_RTMR0 + 96, 48 },
	{ "rtmr3", TDX_B_RTMR0 + 144, 48 },
	{ "report_data", TDX_B_REPORT_DATA, 64 },
	/* TD15 body only */
	{ "tee_tcb_svn2", TDX_B_TEE_TCB_SVN2, 16 },
	{ "mrservicetd", TDX_B_MRSERVICETD, 48 },
};
const size_t tdx_body_fields_count = ARRAY_SIZE(tdx_body_fields);

const struct tdx_field *tdx_body_field(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(tdx_body_fields); i++)
		if (!strcmp(tdx_body_fields[i].name, name))
			return &tdx_body_fields[i];
	return NULL;
}

static int parse_cert_data(struct reader *rd, const char *what, struct tdx_quote *q)
{
	uint32_t size, inner_size;
	const uint8_t *data;
	struct reader c;

	if (rd_u16(rd, "certification data type", &q->cert_type) || rd_u32(rd, "certification data size", &size) ||
	    rd_ptr(rd, "certification data", size, &data))
		return -EINVAL;
	if (q->cert_type != TDX_CERT_QE_REPORT)
		return err_set(EINVAL, "%s: certification data type %u is not supported (expected 6, QE report "
				       "certification data)", what, q->cert_type);
	rd_init(&c, data, size, what);
	if (rd_ptr(&c, "QE report", TDX_QE_REPORT_LEN, &q->qe_report) ||
	    rd_ptr(&c, "QE report signature", 64, &q->qe_report_sig) ||
	    rd_u16(&c, "QE auth data size", &q->qe_auth_len) ||
	    rd_ptr(&c, "QE auth data", q->qe_auth_len, &q->qe_auth) ||
	    rd_u16(&c, "PCK certification data type", &q->pck_cert_type) ||
	    rd_u32(&c, "PCK certification data size", &inner_size))
		return -EINVAL;
	if (q->pck_cert_type != TDX_CERT_PCK_CHAIN)
		return err_set(EINVAL, "%s: inner certification data type %u is not supported (expected 5, PCK "
				       "certificate chain)", what, q->pck_cert_type);
	if (rd_ptr(&c, "PCK certificate chain", inner_size, &q->pck_chain))
		return -EINVAL;
	q->pck_chain_len = inner_size;
	/* Some quote generators pad the PEM with NULs; tolerate only that. */
	while (q->pck_chain_len && q->pck_chain[q->pck_chain_len - 1] == 0)
		q->pck_chain_len--;
	return 0;
}

int tdx_quote_parse(const uint8_t *p, size_t len, const char *what, struct tdx_quote *q)
{
	struct reader rd;
	uint32_t body_size, sig_len;
	const uint8_t *sig_data;
	struct reader s;

	memset(q, 0, sizeof(*q));
	rd_init(&rd, p, len, what);
	if (rd_ptr(&rd, "header", TDX_HEADER_LEN, &q->header))
		return -EINVAL;
	q->version = le16(q->header);
	q->att_key_type = le16(q->header + 2);
	q->tee_type = le32(q->header + 4);
	if (q->version != 4 && q->version != 5)
		return err_set(EINVAL, "%s: header.version %u is not supported (expected 4 or 5)", what, q->version);
	if (q->att_key_type != TDX_ATT_KEY_ECDSA_P256)
		return err_set(EINVAL, "%s: header.att_key_type %u is not supported (expected 2, ECDSA-256-with-P-256)",
			       what, q->att_key_type);
	if (q->tee_type != TDX_TEE_TYPE)
		return err_set(EINVAL, "%s: header.tee_type 0x%x is not TDX (0x81)", what, q->tee_type);

	if (q->version == 4) {
		q->body_type = TDX_BODY_TYPE_TD10;
		body_size = TDX_BODY_TD10_LEN;
	} else {
		if (rd_u16(&rd, "body.type", &q->body_type) || rd_u32(&rd, "body.size", &body_size))
			return -EINVAL;
		if (q->body_type == TDX_BODY_TYPE_TD10 ? body_size != TDX_BODY_TD10_LEN
		    : q->body_type == TDX_BODY_TYPE_TD15 ? body_size != TDX_BODY_TD15_LEN : true)
			return err_set(EINVAL, "%s: body type %u with size %u is not supported (expected 2/584 or 3/648)",
				       what, q->body_type, body_size);
	}
	if (rd_ptr(&rd, "body", body_size, &q->body))
		return -EINVAL;
	q->body_len = body_size;
	q->signed_data = p;
	q->signed_len = rd.off;

	if (rd_u32(&rd, "signature data length", &sig_len) || rd_ptr(&rd, "signature data", sig_len, &sig_data))
		return -EINVAL;
	rd_init(&s, sig_data, sig_len, what);
	if (rd_ptr(&s, "signature", 64, &q->sig) || rd_ptr(&s, "attestation key", 64, &q->att_key))
		return -EINVAL;
	return parse_cert_data(&s, what, q);
}
