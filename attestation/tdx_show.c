/* tdx_show.c - `cvmm show` for a TDX quote: every field of the header, the
 * TD quote body, the QE report and the certification data, as text or JSON.
 * No verification happens here (that is `cvmm verify`). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/tdx_quote.h"
#include "common/common.h"

/* SGX REPORTBODY of the quoting enclave */
static const struct tdx_field qe_fields[] = {
	{ "cpusvn", SGX_R_CPUSVN, 16 },         { "miscselect", SGX_R_MISCSELECT, 4 },
	{ "attributes", SGX_R_ATTRIBUTES, 16 }, { "mrenclave", SGX_R_MRENCLAVE, 32 },
	{ "mrsigner", SGX_R_MRSIGNER, 32 },     { "report_data", SGX_R_REPORT_DATA, 64 },
};

static int set_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	int ret;

	if (!s)
		return -1;
	hex_encode(p, n, s);
	ret = json_object_set_new(o, k, json_string(s));
	free(s);
	return ret;
}

static json_t *to_json(const struct tdx_quote *q)
{
	json_t *root = json_object(), *hdr = json_object(), *body = json_object(), *qe = json_object(),
	       *sig = json_object();
	bool bad = !root || !hdr || !body || !qe || !sig;

	bad |= json_object_set_new(hdr, "version", json_integer(q->version)) ||
	       json_object_set_new(hdr, "att_key_type", json_integer(q->att_key_type)) ||
	       json_object_set_new(hdr, "tee_type", json_integer(q->tee_type)) ||
	       set_hex(hdr, "qe_vendor_id", q->header + 12, 16) || set_hex(hdr, "user_data", q->header + 28, 20);
	bad |= json_object_set_new(body, "type", json_integer(q->body_type)) ||
	       json_object_set_new(body, "size", json_integer((json_int_t)q->body_len));
	for (size_t i = 0; i < tdx_body_fields_count; i++) {
		const struct tdx_field *f = &tdx_body_fields[i];

		if (f->off + f->len <= q->body_len)
			bad |= set_hex(body, f->name, q->body + f->off, f->len) != 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(qe_fields); i++)
		bad |= set_hex(qe, qe_fields[i].name, q->qe_report + qe_fields[i].off, qe_fields[i].len) != 0;
	bad |= json_object_set_new(qe, "isvprodid", json_integer(le16(q->qe_report + SGX_R_ISVPRODID))) ||
	       json_object_set_new(qe, "isvsvn", json_integer(le16(q->qe_report + SGX_R_ISVSVN)));
	bad |= set_hex(sig, "signature", q->sig, 64) || set_hex(sig, "attestation_key", q->att_key, 64) ||
	       json_object_set_new(sig, "certification_data_type", json_integer(q->cert_type)) ||
	       set_hex(sig, "qe_report_signature", q->qe_report_sig, 64) ||
	       set_hex(sig, "qe_auth_data", q->qe_auth, q->qe_auth_len) ||
	       json_object_set_new(sig, "pck_certification_data_type", json_integer(q->pck_cert_type)) ||
	       json_object_set_new(sig, "pck_chain", json_stringn((const char *)q->pck_chain, q->pck_chain_len));
	if (!bad) {
		bad |= json_object_set_new(root, "platform", json_string("tdx")) ||
		       json_object_set(root, "header", hdr) || json_object_set(root, "body", body) ||
		       json_object_set(root, "qe_report", qe) || json_object_set(root, "signature_data", sig);
	}
	json_decref(hdr);
	json_decref(body);
	json_decref(qe);
	json_decref(sig);
	if (bad) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Text form: "section.field: value", one per line, in JSON order. */
static void print_text(const char *prefix, const json_t *o, FILE *out)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		if (json_is_object(v)) {
			print_text(k, v, out);
		} else if (json_is_integer(v)) {
			fprintf(out, "%s%s%s: %lld\n", prefix ? prefix : "", prefix ? "." : "", k,
				(long long)json_integer_value(v));
		} else if (json_is_string(v) && strchr(json_string_value(v), '\n')) {
			fprintf(out, "%s%s%s: (%zu bytes of PEM)\n", prefix ? prefix : "", prefix ? "." : "", k,
				json_string_length(v));
		} else if (json_is_string(v)) {
			fprintf(out, "%s%s%s: %s\n", prefix ? prefix : "", prefix ? "." : "", k, json_string_value(v));
		}
	}
}

int att_tdx_show(const uint8_t *quote, size_t len, bool json, FILE *out)
{
	struct tdx_quote q;
	json_t *j;
	int ret;

	if ((ret = tdx_quote_parse(quote, len, "quote", &q)))
		return ret;
	/* json_stringn rejects invalid UTF-8: a hostile PEM must not get through */
	if (!(j = to_json(&q)))
		return err_set(EINVAL, "quote: PCK certificate chain is not text (or out of memory)");
	if (json) {
		ret = json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ? -EIO : 0;
		if (!ret)
			fputc('\n', out);
	} else {
		print_text(NULL, j, out);
	}
	json_decref(j);
	return ret ? err_set(EIO, "show: write failed") : 0;
}
