/* attest_bundle.c - `cvmm attest` reads the evidence bundle an endpoint
 * answered (format in endpoint.h). The endpoint is the untrusted host:
 * every field is checked for type, encoding and size before use, and an
 * error names the field. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/base64.h"
#include "attestation/endpoint.h"
#include "common/common.h"

static int str_field(json_t *b, const char *key, bool required, const char **s, size_t *len)
{
	json_t *v = json_object_get(b, key);

	*s = NULL;
	*len = 0;
	if (!v) {
		if (required)
			return err_set(EINVAL, "bundle: missing \"%s\"", key);
		return 0;
	}
	if (!json_is_string(v))
		return err_set(EINVAL, "bundle: \"%s\" is not a string", key);
	*s = json_string_value(v);
	*len = json_string_length(v);
	if (strlen(*s) != *len)
		return err_set(EINVAL, "bundle: \"%s\" contains a NUL character", key);
	return 0;
}

static int b64_field(json_t *b, const char *key, bool required, size_t max, uint8_t **out, size_t *out_len)
{
	char what[40];
	const char *s;
	size_t len;
	int ret;

	*out = NULL;
	*out_len = 0;
	if ((ret = str_field(b, key, required, &s, &len)) || !s)
		return ret;
	snprintf(what, sizeof(what), "bundle: \"%s\"", key);
	if ((ret = att_b64_decode(s, len, max, what, out, out_len)))
		return ret;
	if (!*out_len) {
		free(*out);
		*out = NULL;
		return err_set(EINVAL, "%s: empty", what);
	}
	return 0;
}

int att_bundle_parse(const char *body, size_t len, struct att_bundle *b)
{
	json_error_t jerr;
	const char *s;
	size_t n;
	json_t *o, *v;
	int ret;

	memset(b, 0, sizeof(*b));
	if (len > ATT_BUNDLE_MAX)
		return err_set(EFBIG, "bundle: %zu bytes, larger than %u", len, ATT_BUNDLE_MAX);
	if (!(o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)))
		return err_set(EINVAL, "bundle: not JSON (line %d: %s)", jerr.line, jerr.text);
	if (!json_is_object(o)) {
		ret = err_set(EINVAL, "bundle: not a JSON object");
		goto out;
	}
	v = json_object_get(o, "version");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		ret = err_set(EINVAL, "bundle: \"version\" is not 1");
		goto out;
	}
	if ((ret = str_field(o, "platform", true, &s, &n)))
		goto out;
	if (strcmp(s, "snp") && strcmp(s, "tdx")) {
		ret = err_set(EINVAL, "bundle: \"platform\" is \"%.16s\", not \"snp\" or \"tdx\"", s);
		goto out;
	}
	strcpy(b->platform, s);
	if ((ret = str_field(o, "provider", true, &s, &n)))
		goto out;
	if (n >= sizeof(b->provider)) {
		ret = err_set(EINVAL, "bundle: \"provider\" is longer than %zu characters", sizeof(b->provider) - 1);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e) {
			ret = err_set(EINVAL, "bundle: \"provider\" has a non-printable character");
			goto out;
		}
	memcpy(b->provider, s, n + 1);
	if ((ret = str_field(o, "nonce", true, &s, &n)) ||
	    (ret = hex_decode(s, b->nonce, ATT_NONCE_MAX, &b->nonce_len, "bundle: \"nonce\"")))
		goto out;
	if (b->nonce_len < ATT_NONCE_MIN) {
		ret = err_set(EINVAL, "bundle: \"nonce\" is %zu bytes, at least %u required", b->nonce_len, ATT_NONCE_MIN);
		goto out;
	}
	if ((ret = str_field(o, "agent_pubkey", true, &s, &n)) ||
	    (ret = hex_decode_exact(s, b->agent_pubkey, ATT_PUBKEY_LEN, "bundle: \"agent_pubkey\"")))
		goto out;
	if ((ret = b64_field(o, "report", true, ATT_BUNDLE_REPORT_MAX, &b->report, &b->report_len)) ||
	    (ret = b64_field(o, "cert_table", false, ATT_BUNDLE_CERTS_MAX, &b->cert_table, &b->cert_table_len)) ||
	    (ret = b64_field(o, "manifest", false, ATT_BUNDLE_MANIFEST_MAX, &b->manifest, &b->manifest_len)) ||
	    (ret = b64_field(o, "event_log", false, ATT_EVENT_LOG_MAX, &b->event_log, &b->event_log_len)))
		goto out;
	if ((v = json_object_get(o, "launch"))) {
		if (!json_is_object(v)) {
			ret = err_set(EINVAL, "bundle: \"launch\" is not an object");
			goto out;
		}
		b->launch = json_incref(v);
	}
out:
	json_decref(o);
	if (ret)
		att_bundle_free(b);
	return ret;
}

void att_bundle_free(struct att_bundle *b)
{
	free(b->report);
	free(b->cert_table);
	free(b->manifest);
	free(b->event_log);
	json_decref(b->launch);
	memset(b, 0, sizeof(*b));
}
