/* tdx_policy.c - claims of a TDX quote and the "tdx" object of a policy
 * (docs/verify-tdx.md). Field meanings: Intel TDX Module ABI spec, TDREPORT
 * (TDINFO: ATTRIBUTES bit 0 = DEBUG, XFAM, MRTD, MRCONFIGID, MROWNER,
 * MROWNERCONFIG, RTMR0-3) and DCAP Quote Format "TD Quote Body". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/tdx_quote.h"
#include "common/common.h"

void tdx_claims(const struct tdx_quote *q, struct att_result *r)
{
	for (size_t i = 0; i < tdx_body_fields_count; i++) {
		const struct tdx_field *f = &tdx_body_fields[i];

		if (f->off + f->len <= q->body_len)
			att_claim_hex(r, f->name, q->body + f->off, f->len);
	}
	if (r->claims) {
		json_object_set_new(r->claims, "quote_version", json_integer(q->version));
		/* meta.json of the evidence fixtures says "version" */
		json_object_set_new(r->claims, "version", json_integer(q->version));
		json_object_set_new(r->claims, "body_type", json_integer(q->body_type));
	}
}

/* Exact match of one byte field against a hex policy value. */
static int match_hex(const struct tdx_quote *q, const char *key, const json_t *v, struct att_result *r)
{
	const struct tdx_field *f = tdx_body_field(key);
	uint8_t want[64];
	char what[64], got[129];

	snprintf(what, sizeof(what), "policy: tdx.%s", key);
	if (!json_is_string(v))
		return err_set(EINVAL, "%s: expected a hex string", what);
	if (hex_decode_exact(json_string_value(v), want, f->len, what))
		return -EINVAL;
	hex_encode(q->body + f->off, f->len, got);
	snprintf(what, sizeof(what), "tdx.policy.%s", key);
	att_check(r, ATT_POLICY, what, !memcmp(want, q->body + f->off, f->len), "%s %s", key, got);
	return 0;
}

/* mrtd: one hex string or an array of them; any may match. */
static int match_mrtd(const struct tdx_quote *q, const json_t *v, struct att_result *r)
{
	const json_t *one;
	uint8_t want[48];
	char got[97];
	bool ok = false;
	size_t i;

	if (json_is_string(v))
		return match_hex(q, "mrtd", v, r);
	if (!json_is_array(v) || !json_array_size(v))
		return err_set(EINVAL, "policy: tdx.mrtd: expected a non-empty array of hex strings");
	json_array_foreach(v, i, one) {
		if (!json_is_string(one) || hex_decode_exact(json_string_value(one), want, 48, "policy: tdx.mrtd[]"))
			return err_set(EINVAL, "policy: tdx.mrtd[%zu]: expected 48 bytes of hex", i);
		ok = ok || !memcmp(want, q->body + TDX_B_MRTD, 48);
	}
	hex_encode(q->body + TDX_B_MRTD, 48, got);
	att_check(r, ATT_POLICY, "tdx.policy.mrtd", ok, "mrtd %s %s the %zu allowed", got, ok ? "is one of" : "is not among",
		  json_array_size(v));
	return 0;
}

/* xfam: a u64 ("0x..." or decimal, compared with the little-endian field)
 * or 16 hex digits as the claim prints it (bytes in quote order). */
static int match_xfam(const struct tdx_quote *q, const json_t *v, struct att_result *r)
{
	uint64_t want;
	uint64_t got = le64(q->body + TDX_B_XFAM);
	const char *s = json_string_value(v);

	if (!s)
		return err_set(EINVAL, "policy: tdx.xfam: expected a hex string");
	if (strncmp(s, "0x", 2) && strncmp(s, "0X", 2))
		return match_hex(q, "xfam", v, r);
	if (parse_u64(s, UINT64_MAX, &want, "policy: tdx.xfam"))
		return -EINVAL;
	att_check(r, ATT_POLICY, "tdx.policy.xfam", want == got, "xfam 0x%016llx, policy 0x%016llx",
		  (unsigned long long)got, (unsigned long long)want);
	return 0;
}

/* TEE_TCB_SVN is 16 independent component SVNs: each must be >= its minimum. */
static int match_min_svn(const struct tdx_quote *q, const json_t *v, struct att_result *r)
{
	uint8_t min[16];
	char got[33];
	int bad = -1;

	if (!json_is_string(v) || hex_decode_exact(json_string_value(v), min, 16, "policy: tdx.min_tee_tcb_svn"))
		return err_set(EINVAL, "policy: tdx.min_tee_tcb_svn: expected 16 bytes of hex");
	for (int i = 15; i >= 0; i--)
		if (q->body[TDX_B_TEE_TCB_SVN + i] < min[i])
			bad = i;
	hex_encode(q->body + TDX_B_TEE_TCB_SVN, 16, got);
	att_check(r, ATT_POLICY, "tdx.policy.min_tee_tcb_svn", bad < 0, "tee_tcb_svn %s%s", got,
		  bad < 0 ? "" : ": a component is below the minimum");
	return 0;
}

int tdx_policy_check(const struct tdx_quote *q, const json_t *tdx, struct att_result *r)
{
	static const char *const known[] = { "mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid", "mrowner",
					      "mrownerconfig", "report_data", "allow_debug", "xfam", "min_tee_tcb_svn",
					      "accepted_tcb_status", "allow_expired_certs" };
	bool debug = q->body[TDX_B_TD_ATTRIBUTES] & 1; /* TDATTRIBUTES bit 0: DEBUG */
	const json_t *v, *allow;
	const char *key;
	int ret = 0;

	if (tdx && !json_is_object(tdx))
		return err_set(EINVAL, "policy: \"tdx\" must be an object");
	json_object_foreach((json_t *)tdx, key, v) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(known) && strcmp(key, known[i]); i++)
			;
		if (i == ARRAY_SIZE(known)) /* a typo must not silently relax the policy */
			return err_set(EINVAL, "policy: tdx.%s: unknown key", key);
		if (!strcmp(key, "mrtd"))
			ret = match_mrtd(q, v, r);
		else if (!strcmp(key, "xfam"))
			ret = match_xfam(q, v, r);
		else if (!strcmp(key, "min_tee_tcb_svn"))
			ret = match_min_svn(q, v, r);
		else if (!strcmp(key, "accepted_tcb_status")) {
			const json_t *s;

			if (!json_is_array(v))
				return err_set(EINVAL, "policy: tdx.accepted_tcb_status: expected an array of strings");
			json_array_foreach(v, i, s)
				if (!json_is_string(s))
					return err_set(EINVAL, "policy: tdx.accepted_tcb_status[%zu]: not a string", i);
		} else if (!strcmp(key, "allow_expired_certs")) {
			if (!json_is_boolean(v))
				return err_set(EINVAL, "policy: tdx.allow_expired_certs: expected true or false");
		} else if (tdx_body_field(key))
			ret = match_hex(q, key, v, r);
		if (ret)
			return ret;
	}
	allow = tdx ? json_object_get(tdx, "allow_debug") : NULL;
	if (allow && !json_is_boolean(allow))
		return err_set(EINVAL, "policy: tdx.allow_debug: expected true or false");
	if (allow)
		att_check(r, ATT_POLICY, "tdx.debug", !debug || json_is_true(allow), "TD attributes DEBUG=%d, policy %s",
			  debug, json_is_true(allow) ? "allows debug" : "forbids debug");
	else
		att_check(r, ATT_ADVISORY, "tdx.debug", !debug, "TD attributes DEBUG=%d%s", debug,
			  debug ? ": the host can read and change the TD" : "");
	return 0;
}
