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

/* Exact match of one byte field against a hex policy value, or (an array)
 * against any of a list. A TD 1.5-only field fails on a TD 1.0 body. */
static int match_hex(const struct tdx_quote *q, const char *key, const json_t *v, struct att_result *r)
{
	const struct tdx_field *f = tdx_body_field(key);
	uint8_t want[64];
	char what[64], got[129];
	const json_t *e;
	bool ok = false;
	size_t i;

	snprintf(what, sizeof(what), "policy: tdx.%s", key);
	if (json_is_array(v) && !json_array_size(v))
		return err_set(EINVAL, "%s: expected a hex string or a non-empty array of them", what);
	if (!json_is_string(v) && !json_is_array(v))
		return err_set(EINVAL, "%s: expected a hex string", what);
	for (i = 0; i < (json_is_array(v) ? json_array_size(v) : 1); i++) {
		e = json_is_array(v) ? json_array_get(v, i) : v;
		if (!json_is_string(e) || hex_decode_exact(json_string_value(e), want, f->len, what))
			return err_set(EINVAL, "%s: expected %zu bytes of hex", what, f->len);
		ok = ok || (f->off + f->len <= q->body_len && !memcmp(want, q->body + f->off, f->len));
	}
	snprintf(what, sizeof(what), "tdx.policy.%s", key);
	if (f->off + f->len > q->body_len) {
		att_check(r, ATT_POLICY, what, false, "%s: not in a TD 1.0 quote body (TDX 1.5 only)", key);
		return 0;
	}
	hex_encode(q->body + f->off, f->len, got);
	att_check(r, ATT_POLICY, what, ok, "%s %s%s", key, got,
		  json_is_array(v) ? (ok ? " is one of the allowed" : " is not among the allowed") : "");
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

/* TD attributes and XFAM as the TDX module fixes them (TDX module ABI:
 * ATTRIBUTES, XFAM; the same masks as go-tdx-guest): a bit 0 in FIXED0
 * must be 0, a bit 1 in FIXED1 must be 1. */
#define TDX_ATTR_FIXED0 (1ull | 1ull << 28 | 1ull << 30 | 1ull << 63) /* DEBUG, SEPT_VE_DISABLE, PKS, PERFMON */
#define TDX_ATTR_FIXED1 0ull
#define TDX_XFAM_FIXED0 0x0006DBE7ull
#define TDX_XFAM_FIXED1 0x00000003ull

static const struct {
	const char *name;
	uint64_t bit;
} td_attr_bits[] = {
	{ "DEBUG", 1ull }, { "SEPT_VE_DISABLE", 1ull << 28 }, { "PKS", 1ull << 30 }, { "PERFMON", 1ull << 63 },
};

static void check_fixed_bits(const struct tdx_quote *q, struct att_result *r)
{
	uint64_t attr = le64(q->body + TDX_B_TD_ATTRIBUTES), xfam = le64(q->body + TDX_B_XFAM);
	bool a_ok = !(attr & ~TDX_ATTR_FIXED0) && (attr & TDX_ATTR_FIXED1) == TDX_ATTR_FIXED1;
	bool x_ok = !(xfam & ~TDX_XFAM_FIXED0) && (xfam & TDX_XFAM_FIXED1) == TDX_XFAM_FIXED1;
	json_t *bits = json_array();

	att_check(r, ATT_POLICY, "tdx.td_attributes_reserved", a_ok,
		  "TD attributes 0x%016llx: %s", (unsigned long long)attr,
		  a_ok ? "only DEBUG, SEPT_VE_DISABLE, PKS, PERFMON may be set"
		       : "a bit outside DEBUG, SEPT_VE_DISABLE, PKS, PERFMON is set");
	att_check(r, ATT_POLICY, "tdx.xfam_reserved", x_ok, "XFAM 0x%016llx: %s", (unsigned long long)xfam,
		  x_ok ? "x87 and SSE set, nothing outside 0x6dbe7"
		       : "x87/SSE (bits 0, 1) must be set and nothing outside 0x6dbe7");
	for (size_t i = 0; bits && i < ARRAY_SIZE(td_attr_bits); i++)
		if (attr & td_attr_bits[i].bit)
			json_array_append_new(bits, json_string(td_attr_bits[i].name));
	if (r->claims)
		json_object_set_new(r->claims, "td_attributes_bits", bits);
	else
		json_decref(bits);
}

static int get_u64(const json_t *v, const char *what, uint64_t *out)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v))
		return parse_u64(json_string_value(v), UINT64_MAX, out, what);
	return err_set(EINVAL, "%s: expected a number or a \"0x...\" string", what);
}

/* td_attributes / xfam under a mask: (field & mask) == (value & mask). */
static int match_masked(const struct tdx_quote *q, const json_t *tdx, const char *key, size_t off,
			struct att_result *r)
{
	char mkey[40], what[64], name[64];
	const json_t *v = json_object_get(tdx, key), *m;
	uint64_t want, mask, got = le64(q->body + off);

	snprintf(mkey, sizeof(mkey), "%s_mask", key);
	m = json_object_get(tdx, mkey);
	snprintf(what, sizeof(what), "policy: tdx.%s", mkey);
	if (!m)
		return 0;
	if (!v)
		return err_set(EINVAL, "%s: goes with tdx.%s", what, key);
	if (get_u64(m, what, &mask))
		return -EINVAL;
	snprintf(what, sizeof(what), "policy: tdx.%s", key);
	if (!json_is_string(v) || (strncmp(json_string_value(v), "0x", 2) && strncmp(json_string_value(v), "0X", 2)))
		return err_set(EINVAL, "%s: with a mask, expected \"0x...\" (the 64-bit value)", what);
	if (get_u64(v, what, &want))
		return -EINVAL;
	snprintf(name, sizeof(name), "tdx.policy.%s", key);
	att_check(r, ATT_POLICY, name, (got & mask) == (want & mask), "%s 0x%016llx under mask 0x%016llx, policy 0x%016llx",
		  key, (unsigned long long)got, (unsigned long long)mask, (unsigned long long)want);
	return 0;
}

/* Quote header: QE_SVN (u16 at 8), PCE_SVN (u16 at 10), QE_VENDOR_ID (16 at 12). */
static int check_header(const struct tdx_quote *q, const json_t *tdx, struct att_result *r)
{
	const json_t *v;
	uint8_t vid[16];
	char got[33];
	unsigned qe_svn = le16(q->header + 8), pce_svn = le16(q->header + 10);

	if ((v = json_object_get(tdx, "qe_vendor_id"))) {
		if (!json_is_string(v) || hex_decode_exact(json_string_value(v), vid, 16, "policy: tdx.qe_vendor_id"))
			return err_set(EINVAL, "policy: tdx.qe_vendor_id: expected 16 bytes of hex");
		hex_encode(q->header + 12, 16, got);
		att_check(r, ATT_POLICY, "tdx.policy.qe_vendor_id", !memcmp(vid, q->header + 12, 16), "QE vendor ID %s", got);
	}
	if ((v = json_object_get(tdx, "min_qe_svn"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
			return err_set(EINVAL, "policy: tdx.min_qe_svn: expected an integer 0..65535");
		att_check(r, ATT_POLICY, "tdx.policy.min_qe_svn", qe_svn >= json_integer_value(v),
			  "header QE_SVN %u, policy minimum %lld", qe_svn, (long long)json_integer_value(v));
	}
	if ((v = json_object_get(tdx, "min_pce_svn"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
			return err_set(EINVAL, "policy: tdx.min_pce_svn: expected an integer 0..65535");
		att_check(r, ATT_POLICY, "tdx.policy.min_pce_svn", pce_svn >= json_integer_value(v),
			  "header PCE_SVN %u, policy minimum %lld", pce_svn, (long long)json_integer_value(v));
	}
	return 0;
}

int tdx_policy_check(const struct tdx_quote *q, const json_t *tdx, struct att_result *r)
{
	static const char *const known[] = { "mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid", "mrowner",
					      "mrownerconfig", "report_data", "allow_debug", "xfam", "min_tee_tcb_svn",
					      "accepted_tcb_status", "allow_expired_certs", "mrseam", "mrsignerseam",
					      "mrservicetd", "td_attributes", "td_attributes_mask", "xfam_mask",
					      "qe_vendor_id", "min_qe_svn", "min_pce_svn", "min_tcb_evaluation_data_number",
					      "min_tcb_date", "rejected_advisory_ids", "allow_dynamic_platform",
					      "allow_cached_keys", "allow_smt", "platform_instance_ids", "sgx_types" };
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
		else if (!strcmp(key, "xfam") && json_object_get(tdx, "xfam_mask"))
			ret = match_masked(q, tdx, "xfam", TDX_B_XFAM, r);
		else if (!strcmp(key, "xfam"))
			ret = match_xfam(q, v, r);
		else if (!strcmp(key, "td_attributes") && json_object_get(tdx, "td_attributes_mask"))
			ret = match_masked(q, tdx, "td_attributes", TDX_B_TD_ATTRIBUTES, r);
		else if (!strcmp(key, "xfam_mask") || !strcmp(key, "td_attributes_mask"))
			ret = json_object_get(tdx, key[0] == 'x' ? "xfam" : "td_attributes")
				      ? 0 : err_set(EINVAL, "policy: tdx.%s: goes with tdx.%.*s", key,
						    (int)(strlen(key) - 5), key);
		else if (!strcmp(key, "qe_vendor_id") || !strcmp(key, "min_qe_svn") || !strcmp(key, "min_pce_svn") ||
			 !strcmp(key, "allow_dynamic_platform") || !strcmp(key, "allow_cached_keys") ||
			 !strcmp(key, "allow_smt") || !strcmp(key, "platform_instance_ids") ||
			 !strcmp(key, "sgx_types") || !strcmp(key, "min_tcb_evaluation_data_number") ||
			 !strcmp(key, "min_tcb_date") || !strcmp(key, "rejected_advisory_ids"))
			ret = 0; /* checked below, by check_header, tdx_pck_policy or the collateral */
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
	if ((ret = check_header(q, tdx, r)) || (ret = tdx_policy_validate_collateral(tdx)) ||
	    (ret = tdx_pck_policy(NULL, tdx, r)))
		return ret;
	check_fixed_bits(q, r);
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

/* The collateral keys (checked in tdx_collateral.c): types only. */
int tdx_policy_validate_collateral(const json_t *tdx)
{
	const json_t *v, *e;
	time_t t;
	size_t i;

	v = json_object_get(tdx, "min_tcb_evaluation_data_number");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX))
		return err_set(EINVAL, "policy: tdx.min_tcb_evaluation_data_number: expected an integer >= 0");
	v = json_object_get(tdx, "min_tcb_date");
	if (v && (!json_is_string(v) || att_parse_time(json_string_value(v), &t)))
		return err_set(EINVAL, "policy: tdx.min_tcb_date: expected \"YYYY-MM-DD\" or \"YYYY-MM-DDTHH:MM:SSZ\"");
	v = json_object_get(tdx, "rejected_advisory_ids");
	if (v && !json_is_array(v))
		return err_set(EINVAL, "policy: tdx.rejected_advisory_ids: expected an array of strings");
	json_array_foreach(v, i, e) if (!json_is_string(e))
		return err_set(EINVAL, "policy: tdx.rejected_advisory_ids[%zu]: not a string", i);
	return 0;
}

static const char *const sgx_type_names[] = { "Standard", "Scalable", "ScalableWithIntegrity" };

void tdx_pck_claims(const struct tdx_pck_ext *e, struct att_result *r)
{
	char hex[33];

	if (!r->claims)
		return;
	json_object_set_new(r->claims, "pck_sgx_type",
			    e->sgx_type >= 0 && e->sgx_type < 3 ? json_string(sgx_type_names[e->sgx_type])
			    : e->sgx_type >= 0 ? json_integer(e->sgx_type) : json_null());
	json_object_set_new(r->claims, "pck_dynamic_platform", e->dynamic_platform < 0 ? json_null() : json_boolean(e->dynamic_platform));
	json_object_set_new(r->claims, "pck_cached_keys", e->cached_keys < 0 ? json_null() : json_boolean(e->cached_keys));
	json_object_set_new(r->claims, "pck_smt_enabled", e->smt_enabled < 0 ? json_null() : json_boolean(e->smt_enabled));
	if (e->has_instance_id) {
		hex_encode(e->instance_id, 16, hex);
		json_object_set_new(r->claims, "pck_platform_instance_id", json_string(hex));
	}
	hex_encode(e->cpusvn, 16, hex);
	json_object_set_new(r->claims, "pck_cpusvn", json_string(hex));
	json_object_set_new(r->claims, "pck_pcesvn", json_integer(e->pcesvn));
}

/* The PCK certificate's SGX extensions against the policy; ext NULL:
 * validate the keys only. A configuration the certificate does not state
 * (Processor CA PCKs carry none) fails an allow_* false requirement: the
 * relying party asked for a property nobody vouched for. */
int tdx_pck_policy(const struct tdx_pck_ext *ext, const json_t *tdx, struct att_result *r)
{
	static const char *const keys[] = { "allow_dynamic_platform", "allow_cached_keys", "allow_smt" };
	static const char *const what[] = { "dynamic platform", "cached keys", "SMT enabled" };
	const json_t *v, *e;
	uint8_t id[16];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		v = json_object_get(tdx, keys[i]);
		if (v && !json_is_boolean(v))
			return err_set(EINVAL, "policy: tdx.%s: expected true or false", keys[i]);
		if (!ext || !json_is_false(v))
			continue;
		int have = i == 0 ? ext->dynamic_platform : i == 1 ? ext->cached_keys : ext->smt_enabled;
		char name[48];

		snprintf(name, sizeof(name), "tdx.policy.%s", keys[i]);
		att_check(r, ATT_POLICY, name, have == 0, "PCK certificate: %s %s; the policy forbids it", what[i],
			  have < 0 ? "not stated (no configuration in the SGX extensions)" : have ? "true" : "false");
	}
	v = json_object_get(tdx, "platform_instance_ids");
	if (v) {
		bool ok = false;

		if (!json_is_array(v) || !json_array_size(v))
			return err_set(EINVAL, "policy: tdx.platform_instance_ids: expected a non-empty array of hex");
		json_array_foreach(v, i, e) {
			if (!json_is_string(e) ||
			    hex_decode_exact(json_string_value(e), id, 16, "policy: tdx.platform_instance_ids[]"))
				return err_set(EINVAL, "policy: tdx.platform_instance_ids[%zu]: expected 16 bytes of hex", i);
			ok = ok || (ext && ext->has_instance_id && !memcmp(id, ext->instance_id, 16));
		}
		if (ext)
			att_check(r, ATT_POLICY, "tdx.policy.platform_instance_ids", ok, "PCK platform instance ID %s",
				  !ext->has_instance_id ? "absent (a single-package platform)"
				  : ok ? "is one of the allowed" : "is not among the allowed");
	}
	v = json_object_get(tdx, "sgx_types");
	if (v) {
		bool ok = false;

		if (!json_is_array(v) || !json_array_size(v))
			return err_set(EINVAL, "policy: tdx.sgx_types: expected a non-empty array of names");
		json_array_foreach(v, i, e) {
			size_t k;

			for (k = 0; k < 3 && (!json_is_string(e) || strcmp(json_string_value(e), sgx_type_names[k])); k++)
				;
			if (k == 3)
				return err_set(EINVAL, "policy: tdx.sgx_types[%zu]: not Standard, Scalable or "
					       "ScalableWithIntegrity", i);
			ok = ok || (ext && ext->sgx_type == (int)k);
		}
		if (ext)
			att_check(r, ATT_POLICY, "tdx.policy.sgx_types", ok, "PCK SGX type %s %s",
				  ext->sgx_type >= 0 && ext->sgx_type < 3 ? sgx_type_names[ext->sgx_type] : "(absent)",
				  ok ? "is allowed" : "is not allowed");
	}
	return 0;
}
