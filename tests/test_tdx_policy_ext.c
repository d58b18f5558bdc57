/* test_tdx_policy_ext.c - the TDX checks of issue 14 (docs/verify-tdx.md),
 * each passing and failing, on the real fixtures: TD attributes and XFAM
 * fixed bits (always) and as masked values, mrseam / mrsignerseam /
 * mrservicetd and RTMR lists, QE vendor ID, minimum QE / PCE SVN, the PCK
 * certificate's SGX extensions (SGX type, dynamic platform, cached keys,
 * SMT, platform instance ID: all four fixtures are Platform CA PCKs),
 * tcbType, and the collateral baseline (min_tcb_evaluation_data_number,
 * min_tcb_date, rejected_advisory_ids), Intel's certificate profile (PCK,
 * PCK CA, TCB signing). Quote-level policy checks are
 * recorded whether or not the (then altered) quote's signature holds, so a
 * byte changed in a fixture shows the failing case. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attestation/attestation.h"
#include "attestation/tdx_quote.h"
#include "common/common.h"
#include "tests/att_checks.h"

#define FIX "tests/fixtures/evidence/tdx/"
#define SPR "v4-spr-gotdxguest"
#define V5 "v5-gotdxguest"
/* TD quote body offsets after the 48-byte header (v4) */
#define TD_ATTR (48 + 120)
#define XFAM (48 + 128)

static uint8_t *load(const char *name, size_t *len)
{
	char path[160];
	uint8_t *q;

	snprintf(path, sizeof(path), FIX "%s/quote.bin", name);
	assert_int_equal(file_read(path, 1 << 20, &q, len), 0);
	return q;
}

/* Verify with policy text (NULL: none) and collateral dir (NULL: none). */
static void judge(const uint8_t *q, size_t len, const char *policy_text, const char *coll, time_t at,
		  struct att_result *r)
{
	json_t *p = policy_text ? json_loads(policy_text, 0, NULL) : NULL;
	struct att_options o = { .policy = p, .collateral_dir = coll, .at = at };

	if (policy_text)
		assert_non_null(p);
	assert_int_equal(att_result_init(r, "tdx"), 0);
	assert_int_equal(att_tdx_verify(q, len, &o, r), 0);
	json_decref(p);
}

static const char *claim(const struct att_result *r, const char *k)
{
	return json_string_value(json_object_get(r->claims, k));
}

static void test_fixed_bits(void **state)
{
	static const char *const all[] = { "v4-azure", "v4-trustee-4", SPR, V5 };
	struct att_result r;
	size_t len;
	uint8_t *q;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		q = load(all[i], &len);
		judge(q, len, NULL, NULL, 0, &r);
		assert_true(result_check_ok(&r, "tdx.td_attributes_reserved"));
		assert_true(result_check_ok(&r, "tdx.xfam_reserved"));
		att_result_free(&r);
		free(q);
	}
	q = load(SPR, &len);
	judge(q, len, NULL, NULL, 0, &r);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r.claims, "td_attributes_bits"), 0)), "PKS");
	att_result_free(&r);
	q[TD_ATTR] |= 0x02; /* bit 1: reserved */
	judge(q, len, NULL, NULL, 0, &r);
	assert_false(result_check_ok(&r, "tdx.td_attributes_reserved"));
	assert_true(r.policy_failed);
	att_result_free(&r);
	q[TD_ATTR] &= (uint8_t)~0x02;
	q[XFAM] &= (uint8_t)~0x01; /* x87 is fixed to 1 */
	judge(q, len, NULL, NULL, 0, &r);
	assert_false(result_check_ok(&r, "tdx.xfam_reserved"));
	att_result_free(&r);
	q[XFAM] |= 0x01 | 0x08; /* bit 3 (MPX) is fixed to 0 */
	judge(q, len, NULL, NULL, 0, &r);
	assert_false(result_check_ok(&r, "tdx.xfam_reserved"));
	att_result_free(&r);
	free(q);
}

static void test_masked_and_lists(void **state)
{
	struct att_result r;
	size_t len;
	uint8_t *q = load(SPR, &len);
	char pol[2048], mrseam[97], signer[97], rtmr0[97];

	(void)state;
	judge(q, len, NULL, NULL, 0, &r);
	snprintf(mrseam, sizeof(mrseam), "%s", claim(&r, "mrseam"));
	snprintf(signer, sizeof(signer), "%s", claim(&r, "mrsignerseam"));
	snprintf(rtmr0, sizeof(rtmr0), "%s", claim(&r, "rtmr0"));
	att_result_free(&r);
	/* PKS (bit 30) is set; DEBUG (0) is not: masked compare on those two */
	judge(q, len, "{\"tdx\": {\"td_attributes\": \"0x40000000\", \"td_attributes_mask\": \"0x40000001\", "
		      "\"xfam\": \"0x3\", \"xfam_mask\": 3}}", NULL, 0, &r);
	assert_true(result_check_ok(&r, "tdx.policy.td_attributes"));
	assert_true(result_check_ok(&r, "tdx.policy.xfam"));
	att_result_free(&r);
	judge(q, len, "{\"tdx\": {\"td_attributes\": \"0x0\", \"td_attributes_mask\": \"0x40000000\"}}", NULL, 0, &r);
	assert_false(result_check_ok(&r, "tdx.policy.td_attributes"));
	att_result_free(&r);
	/* lists: mrseam / mrsignerseam / rtmr0 */
	snprintf(pol, sizeof(pol), "{\"tdx\": {\"mrseam\": [\"%096d\", \"%s\"], \"mrsignerseam\": \"%s\", "
		 "\"rtmr0\": [\"%s\"]}}", 0, mrseam, signer, rtmr0);
	judge(q, len, pol, NULL, 0, &r);
	assert_true(result_check_ok(&r, "tdx.policy.mrseam"));
	assert_true(result_check_ok(&r, "tdx.policy.mrsignerseam"));
	assert_true(result_check_ok(&r, "tdx.policy.rtmr0"));
	att_result_free(&r);
	snprintf(pol, sizeof(pol), "{\"tdx\": {\"mrseam\": [\"%096d\"], \"rtmr0\": [\"%096d\", \"%096d\"]}}", 0, 0, 1);
	judge(q, len, pol, NULL, 0, &r);
	assert_false(result_check_ok(&r, "tdx.policy.mrseam"));
	assert_false(result_check_ok(&r, "tdx.policy.rtmr0"));
	assert_non_null(strstr(result_detail(&r, "tdx.policy.rtmr0"), "not among"));
	att_result_free(&r);
	/* mrservicetd: TDX 1.5 only */
	snprintf(pol, sizeof(pol), "{\"tdx\": {\"mrservicetd\": \"%096d\"}}", 0);
	judge(q, len, pol, NULL, 0, &r);
	assert_false(result_check_ok(&r, "tdx.policy.mrservicetd"));
	assert_non_null(strstr(result_detail(&r, "tdx.policy.mrservicetd"), "TD 1.0"));
	att_result_free(&r);
	free(q);
	q = load(V5, &len);
	judge(q, len, NULL, NULL, 0, &r);
	snprintf(pol, sizeof(pol), "{\"tdx\": {\"mrservicetd\": [\"%s\"]}}", claim(&r, "mrservicetd"));
	att_result_free(&r);
	judge(q, len, pol, NULL, 0, &r);
	assert_true(result_check_ok(&r, "tdx.policy.mrservicetd"));
	att_result_free(&r);
	free(q);
}

static void test_header(void **state)
{
	struct att_result r;
	size_t len;
	uint8_t *q = load(SPR, &len);
	char pol[512];
	unsigned qe = le16(q + 8), pce = le16(q + 10);

	(void)state;
	snprintf(pol, sizeof(pol), "{\"tdx\": {\"qe_vendor_id\": \"939a7233f79c4ca9940a0db3957f0607\", \"min_qe_svn\": %u, "
		 "\"min_pce_svn\": %u}}", qe, pce);
	judge(q, len, pol, NULL, 0, &r);
	assert_true(result_check_ok(&r, "tdx.policy.qe_vendor_id"));
	assert_true(result_check_ok(&r, "tdx.policy.min_qe_svn"));
	assert_true(result_check_ok(&r, "tdx.policy.min_pce_svn"));
	att_result_free(&r);
	snprintf(pol, sizeof(pol), "{\"tdx\": {\"qe_vendor_id\": \"%032d\", \"min_qe_svn\": %u, \"min_pce_svn\": %u}}", 0,
		 qe + 1, pce + 1);
	judge(q, len, pol, NULL, 0, &r);
	assert_false(result_check_ok(&r, "tdx.policy.qe_vendor_id"));
	assert_false(result_check_ok(&r, "tdx.policy.min_qe_svn"));
	assert_false(result_check_ok(&r, "tdx.policy.min_pce_svn"));
	att_result_free(&r);
	free(q);
}

static void test_pck_extensions(void **state)
{
	struct att_result r;
	size_t len;
	uint8_t *q = load(SPR, &len);

	(void)state;
	judge(q, len, NULL, NULL, 0, &r);
	assert_string_equal(claim(&r, "pck_sgx_type"), "Scalable");
	assert_true(json_is_true(json_object_get(r.claims, "pck_dynamic_platform")));
	assert_true(json_is_false(json_object_get(r.claims, "pck_cached_keys")));
	assert_true(json_is_true(json_object_get(r.claims, "pck_smt_enabled")));
	assert_string_equal(claim(&r, "pck_platform_instance_id"), "8c314d17d205dfafcbecbb00fc87eff7");
	att_result_free(&r);
	judge(q, len, "{\"tdx\": {\"allow_cached_keys\": false, \"sgx_types\": [\"Scalable\", \"ScalableWithIntegrity\"], "
		      "\"platform_instance_ids\": [\"8c314d17d205dfafcbecbb00fc87eff7\"], \"allow_smt\": true}}",
	      NULL, 0, &r);
	assert_true(result_check_ok(&r, "tdx.policy.allow_cached_keys"));
	assert_true(result_check_ok(&r, "tdx.policy.sgx_types"));
	assert_true(result_check_ok(&r, "tdx.policy.platform_instance_ids"));
	assert_false(r.policy_failed);
	att_result_free(&r);
	judge(q, len, "{\"tdx\": {\"allow_dynamic_platform\": false, \"allow_smt\": false, \"sgx_types\": [\"Standard\"], "
		      "\"platform_instance_ids\": [\"00000000000000000000000000000000\"]}}", NULL, 0, &r);
	assert_false(result_check_ok(&r, "tdx.policy.allow_dynamic_platform"));
	assert_false(result_check_ok(&r, "tdx.policy.allow_smt"));
	assert_false(result_check_ok(&r, "tdx.policy.sgx_types"));
	assert_false(result_check_ok(&r, "tdx.policy.platform_instance_ids"));
	att_result_free(&r);
	free(q);
	/* v5-gotdxguest's platform caches keys */
	q = load(V5, &len);
	judge(q, len, "{\"tdx\": {\"allow_cached_keys\": false}}", NULL, 0, &r);
	assert_false(result_check_ok(&r, "tdx.policy.allow_cached_keys"));
	att_result_free(&r);
	free(q);
}

static void test_collateral_baseline(void **state)
{
	struct att_result r;
	size_t len;
	uint8_t *q = load(V5, &len);
	const char *coll = FIX V5 "/collateral";
	const time_t at = 1770000000; /* 2026-02-02 */

	(void)state;
	/* the matched level: 2024-11-13, UpToDate, no advisories; evaluation data number 18 */
	judge(q, len, "{\"tdx\": {\"min_tcb_evaluation_data_number\": 18, \"min_tcb_date\": \"2024-11-01\", "
		      "\"rejected_advisory_ids\": [\"INTEL-SA-01036\"]}}", coll, at, &r);
	assert_int_equal(json_integer_value(json_object_get(r.claims, "tcb_evaluation_data_number")), 18);
	assert_string_equal(claim(&r, "tcb_date"), "2024-11-13T00:00:00Z");
	assert_true(result_check_ok(&r, "tdx.policy.min_tcb_evaluation_data_number"));
	assert_true(result_check_ok(&r, "tdx.policy.min_tcb_date"));
	assert_true(result_check_ok(&r, "tdx.policy.rejected_advisory_ids"));
	assert_true(result_check_ok(&r, "tdx.tcb_type"));
	att_result_free(&r);
	judge(q, len, "{\"tdx\": {\"min_tcb_evaluation_data_number\": 19, \"min_tcb_date\": \"2025-01-01T00:00:00Z\"}}",
	      coll, at, &r);
	assert_false(result_check_ok(&r, "tdx.policy.min_tcb_evaluation_data_number"));
	assert_false(result_check_ok(&r, "tdx.policy.min_tcb_date"));
	att_result_free(&r);
	/* without collateral these cannot be met */
	judge(q, len, "{\"tdx\": {\"min_tcb_date\": \"2024-11-01\"}}", NULL, at, &r);
	assert_false(result_check_ok(&r, "tdx.collateral"));
	assert_true(r.policy_failed);
	att_result_free(&r);
	free(q);

	/* v4-spr: NotSupported, no level matched: advisories and date unknown */
	q = load(SPR, &len);
	judge(q, len, "{\"tdx\": {\"rejected_advisory_ids\": [\"INTEL-SA-00106\"], \"min_tcb_date\": \"2018-01-01\"}}",
	      FIX SPR "/collateral", 1687100000, &r);
	assert_false(result_check_ok(&r, "tdx.policy.rejected_advisory_ids"));
	assert_false(result_check_ok(&r, "tdx.policy.min_tcb_date"));
	att_result_free(&r);
	free(q);
}

/* A TCB info whose tcbType is not 0 (a copy of the v5 collateral). */
static void test_tcb_type(void **state)
{
	char dir[] = "/tmp/cvmm-tcbtype-XXXXXX", path[96], *s;
	uint8_t *text, *q;
	size_t len, qlen;
	struct att_result r;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(file_read(FIX V5 "/collateral/tcbinfo.json", 1 << 20, &text, &len), 0);
	s = strstr((char *)text, "\"tcbType\":0");
	assert_non_null(s);
	s[10] = '1';
	snprintf(path, sizeof(path), "%s/tcbinfo.json", dir);
	assert_int_equal(file_write(path, text, len), 0);
	q = load(V5, &qlen);
	judge(q, qlen, NULL, dir, 1770000000, &r);
	assert_false(result_check_ok(&r, "tdx.tcb_type"));
	assert_true(r.auth_failed);
	att_result_free(&r);
	unlink(path);
	rmdir(dir);
	free(text);
	free(q);
}

static void test_validation(void **state)
{
	static const char *const bad[] = {
		"{\"tdx\": {\"td_attributes_mask\": \"0x1\"}}",
		"{\"tdx\": {\"td_attributes\": \"0000000000000000\", \"td_attributes_mask\": \"0x1\"}}",
		"{\"tdx\": {\"mrseam\": []}}",
		"{\"tdx\": {\"rtmr1\": [\"00\"]}}",
		"{\"tdx\": {\"qe_vendor_id\": \"93\"}}",
		"{\"tdx\": {\"min_qe_svn\": 70000}}",
		"{\"tdx\": {\"allow_smt\": \"no\"}}",
		"{\"tdx\": {\"sgx_types\": [\"Huge\"]}}",
		"{\"tdx\": {\"min_tcb_date\": \"last year\"}}",
		"{\"tdx\": {\"rejected_advisory_ids\": [1]}}",
		"{\"tdx\": {\"min_tcb_evaluation_data_number\": -1}}",
	};
	struct att_result r;
	size_t len;
	uint8_t *q = load(SPR, &len);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		json_t *p = json_loads(bad[i], 0, NULL);
		struct att_options o = { .policy = p };

		assert_int_equal(att_result_init(&r, "tdx"), 0);
		assert_int_equal(att_tdx_verify(q, len, &o, &r), -EINVAL);
		if (!strstr(err_msg(), "policy: tdx."))
			fail_msg("%s: %s", bad[i], err_msg());
		att_result_free(&r);
		json_decref(p);
	}
	free(q);
}

/* A certificate with Intel's subject fields and CN cn, signed with md. */
static X509 *intel_like(const char *cn, EVP_PKEY *key, const EVP_MD *md, bool with_locality)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Intel Corporation", -1, -1, 0);
	if (with_locality)
		X509_NAME_add_entry_by_txt(name, "L", MBSTRING_ASC, (const unsigned char *)"Santa Clara", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "ST", MBSTRING_ASC, (const unsigned char *)"CA", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_NAME_free(name);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, md) > 0);
	return x;
}

static void test_intel_profile(void **state)
{
	static const char *const all[] = { "v4-azure", "v4-trustee-4", SPR, V5 };
	EVP_PKEY *k256 = EVP_EC_gen("P-256"), *k384 = EVP_EC_gen("P-384");
	struct att_result r;
	char detail[160];
	size_t len;
	uint8_t *q;
	X509 *x;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		q = load(all[i], &len);
		judge(q, len, NULL, NULL, 0, &r);
		assert_true(result_check_ok(&r, "tdx.pck_profile"));
		att_result_free(&r);
		free(q);
	}
	x = intel_like("Intel SGX TCB Signing", k256, EVP_sha256(), true);
	assert_true(tdx_intel_profile_ok(x, "tcb_signing", detail, sizeof(detail)));
	assert_false(tdx_intel_profile_ok(x, "pck", detail, sizeof(detail)));
	assert_non_null(strstr(detail, "CN"));
	X509_free(x);
	x = intel_like("Intel SGX PCK Certificate", k256, EVP_sha384(), true);
	assert_false(tdx_intel_profile_ok(x, "pck", detail, sizeof(detail)));
	assert_non_null(strstr(detail, "ecdsa-with-SHA256"));
	X509_free(x);
	x = intel_like("Intel SGX PCK Processor CA", k384, EVP_sha256(), true);
	assert_false(tdx_intel_profile_ok(x, "pck_ca", detail, sizeof(detail)));
	assert_non_null(strstr(detail, "P-256"));
	X509_free(x);
	x = intel_like("Intel SGX PCK Processor CA", k256, EVP_sha256(), false);
	assert_false(tdx_intel_profile_ok(x, "pck_ca", detail, sizeof(detail)));
	assert_non_null(strstr(detail, "'Santa Clara'"));
	X509_free(x);
	EVP_PKEY_free(k256);
	EVP_PKEY_free(k384);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_bits),	    cmocka_unit_test(test_masked_and_lists),
		cmocka_unit_test(test_header),		    cmocka_unit_test(test_pck_extensions),
		cmocka_unit_test(test_collateral_baseline), cmocka_unit_test(test_tcb_type),
		cmocka_unit_test(test_validation),	    cmocka_unit_test(test_intel_profile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
