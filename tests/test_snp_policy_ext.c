/* test_snp_policy_ext.c - the SNP checks of issue 14 (docs/verify.md), each
 * passing and failing: firmware consistency (CURRENT vs COMMITTED, the
 * VCEK's TCB not above CURRENT_TCB, allow_provisional_firmware, min_build,
 * min_api_version, min_launch_tcb), ID block trust (require_id_block,
 * require_author_key, trusted ID / author key digests), value lists
 * (host_data, chip_id, family_id, image_id, report_id, report_id_ma), the
 * newer guest-policy bits, reserved fields, min_report_version and the v5
 * mitigation vectors, the KDS certificate profile. Real fixtures where they exercise a rule
 * (milan-vlek-trustee runs provisional firmware: CURRENT_TCB microcode 0xdc
 * above COMMITTED 0xdb; milan-virtee is firmware 1.52.4); elsewhere reports
 * signed here with a test chain (tests/snp_test_chain.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "attestation/snp_report.h"
#include "tests/att_checks.h"
#include "tests/snp_test_chain.h"

#define EV "tests/fixtures/evidence/snp/"

static const struct t_tcb tcb = { 3, 0, 8, 115 };
static struct t_chain C;

static int setup(void **state)
{
	(void)state;
	t_chain_make(&C, &tcb, 86400L * 365);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_chain_free(&C);
	return 0;
}

/* Verify a fixture with its own certificates and a policy (text or NULL). */
static void verify_fixture(const char *name, const char *policy_text, struct att_result *r)
{
	char dir[128], path[160];
	uint8_t *rep;
	size_t len;
	json_t *p = policy_text ? json_loads(policy_text, 0, NULL) : NULL;
	struct att_options o = { .certs_dir = dir, .policy = p }; /* now: the VLEK has expired since (a warning) */

	snprintf(dir, sizeof(dir), EV "%s", name);
	snprintf(path, sizeof(path), "%s/report.bin", dir);
	assert_int_equal(file_read(path, 1 << 20, &rep, &len), 0);
	assert_int_equal(att_result_init(r, "snp"), 0);
	assert_int_equal(att_snp_verify(rep, len, &o, r), 0);
	json_decref(p);
	free(rep);
}

/* Sign rep with the test chain and verify with policy_text. */
static void judge(uint8_t rep[1184], const char *policy_text, struct att_result *r)
{
	t_report_sign(rep, C.vek_key);
	assert_int_equal(t_verify(rep, &C, policy_text, r), 0);
	assert_true(result_check_ok(r, "report_signature"));
}

static void test_firmware_real(void **state)
{
	struct att_result r;

	(void)state;
	verify_fixture("milan-virtee", NULL, &r);
	assert_true(result_check_ok(&r, "firmware_consistent"));
	assert_true(result_check_ok(&r, "vek_tcb_current"));
	assert_true(result_check_ok(&r, "guest_policy_reserved"));
	assert_true(result_check_ok(&r, "report_reserved"));
	att_result_free(&r);

	/* provisional firmware: a warning; refused with the key false, accepted with true */
	verify_fixture("milan-vlek-trustee", NULL, &r);
	assert_false(r.auth_failed);
	assert_false(result_check_ok(&r, "firmware_consistent"));
	assert_non_null(strstr(result_detail(&r, "firmware_consistent"), "provisional"));
	assert_true(result_check_ok(&r, "vek_tcb_current"));
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	att_result_free(&r);
	verify_fixture("milan-vlek-trustee", "{\"snp\": {\"allow_provisional_firmware\": false}}", &r);
	assert_false(result_check_ok(&r, "firmware_consistent"));
	assert_true(r.policy_failed);
	att_result_free(&r);
	verify_fixture("milan-vlek-trustee", "{\"snp\": {\"allow_provisional_firmware\": true}}", &r);
	assert_true(result_check_ok(&r, "firmware_consistent"));
	assert_false(r.policy_failed);
	att_result_free(&r);

	/* milan-virtee runs firmware 1.52.4 */
	verify_fixture("milan-virtee", "{\"snp\": {\"min_build\": 4, \"min_api_version\": \"1.52\"}}", &r);
	assert_true(result_check_ok(&r, "min_build"));
	assert_true(result_check_ok(&r, "min_api_version"));
	att_result_free(&r);
	verify_fixture("milan-virtee", "{\"snp\": {\"min_build\": 5, \"min_api_version\": \"1.55\"}}", &r);
	assert_false(result_check_ok(&r, "min_build"));
	assert_false(result_check_ok(&r, "min_api_version"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
}

static void test_firmware_generated(void **state)
{
	uint8_t rep[1184];
	struct att_result r;
	struct t_tcb low = tcb, high = tcb;

	(void)state;
	low.ucode = 100;
	high.snp = 9;
	/* COMMITTED above CURRENT: inconsistent, an authenticity failure */
	t_report_init(rep, &tcb);
	t_put_tcb(rep + 0x1E0, &high);
	judge(rep, NULL, &r);
	assert_false(result_check_ok(&r, "firmware_consistent"));
	assert_true(r.auth_failed);
	att_result_free(&r);
	/* committed firmware version above current: inconsistent too */
	t_report_init(rep, &tcb);
	rep[0x1EC] = 22;
	judge(rep, NULL, &r);
	assert_false(result_check_ok(&r, "firmware_consistent"));
	att_result_free(&r);
	/* the VCEK's TCB (REPORTED_TCB) above CURRENT_TCB */
	t_report_init(rep, &tcb);
	t_put_tcb(rep + 0x38, &low);
	t_put_tcb(rep + 0x1E0, &low);
	judge(rep, NULL, &r);
	assert_true(result_check_ok(&r, "vek_tcb"));
	assert_false(result_check_ok(&r, "vek_tcb_current"));
	assert_true(r.auth_failed);
	att_result_free(&r);
	/* min_launch_tcb */
	t_report_init(rep, &tcb);
	judge(rep, "{\"snp\": {\"min_launch_tcb\": {\"snp\": 8, \"microcode\": 115}}}", &r);
	assert_true(result_check_ok(&r, "min_launch_tcb"));
	att_result_free(&r);
	judge(rep, "{\"snp\": {\"min_launch_tcb\": {\"snp\": 9}}}", &r);
	assert_false(result_check_ok(&r, "min_launch_tcb"));
	assert_non_null(strstr(result_detail(&r, "min_launch_tcb"), "snp 8 < 9"));
	att_result_free(&r);
}

static void test_id_block(void **state)
{
	char id_hex[97], au_hex[97], other[97], pol[1024];
	uint8_t rep[1184];
	struct att_result r;

	(void)state;
	memset(other, 'e', 96);
	other[96] = 0;
	/* no ID block */
	t_report_init(rep, &tcb);
	judge(rep, "{\"snp\": {\"require_id_block\": true, \"require_author_key\": true}}", &r);
	assert_false(result_check_ok(&r, "id_block"));
	assert_false(result_check_ok(&r, "author_key"));
	att_result_free(&r);
	/* an ID block signed by an author key */
	memset(rep + 0xE0, 0x1D, 48);
	memset(rep + 0x110, 0xA0, 48);
	put_le32(rep + 0x48, 1); /* AUTHOR_KEY_EN */
	hex_encode(rep + 0xE0, 48, id_hex);
	hex_encode(rep + 0x110, 48, au_hex);
	judge(rep, "{\"snp\": {\"require_id_block\": true, \"require_author_key\": true}}", &r);
	assert_true(result_check_ok(&r, "id_block"));
	assert_true(result_check_ok(&r, "author_key"));
	att_result_free(&r);
	/* trusted lists: by ID key, by author key, by neither */
	snprintf(pol, sizeof(pol), "{\"snp\": {\"trusted_id_key_digests\": [\"%s\", \"%s\"]}}", other, id_hex);
	judge(rep, pol, &r);
	assert_true(result_check_ok(&r, "id_key_trusted"));
	att_result_free(&r);
	snprintf(pol, sizeof(pol),
		 "{\"snp\": {\"trusted_id_key_digests\": [\"%s\"], \"trusted_author_key_digests\": [\"%s\"]}}", other,
		 au_hex);
	judge(rep, pol, &r);
	assert_true(result_check_ok(&r, "id_key_trusted"));
	assert_non_null(strstr(result_detail(&r, "id_key_trusted"), "author key"));
	att_result_free(&r);
	snprintf(pol, sizeof(pol), "{\"snp\": {\"trusted_author_key_digests\": [\"%s\"]}}", other);
	judge(rep, pol, &r);
	assert_false(result_check_ok(&r, "id_key_trusted"));
	att_result_free(&r);
	/* AUTHOR_KEY_EN clear: the author digest is not trusted */
	put_le32(rep + 0x48, 0);
	snprintf(pol, sizeof(pol), "{\"snp\": {\"trusted_author_key_digests\": [\"%s\"]}}", au_hex);
	judge(rep, pol, &r);
	assert_false(result_check_ok(&r, "id_key_trusted"));
	att_result_free(&r);
}

static void test_value_lists(void **state)
{
	char hd[65], rid[65], pol[1024];
	uint8_t rep[1184];
	struct att_result r;

	(void)state;
	t_report_init(rep, &tcb);
	memset(rep + 0xC0, 0x42, 32);  /* HOST_DATA */
	memset(rep + 0x140, 0x77, 32); /* REPORT_ID */
	memset(rep + 0x10, 0x0F, 16);  /* FAMILY_ID */
	hex_encode(rep + 0xC0, 32, hd);
	hex_encode(rep + 0x140, 32, rid);
	snprintf(pol, sizeof(pol),
		 "{\"snp\": {\"host_data\": [\"%064d\", \"%s\"], \"report_id\": \"%s\", \"report_id_ma\": [\"%064d\"], "
		 "\"family_id\": [\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\"], \"image_id\": [\"%032d\", \"%032d\"]}}",
		 0, hd, rid, 0, 1, 0);
	judge(rep, pol, &r);
	assert_true(result_check_ok(&r, "host_data"));
	assert_true(result_check_ok(&r, "report_id"));
	assert_true(result_check_ok(&r, "report_id_ma"));
	assert_true(result_check_ok(&r, "family_id"));
	assert_true(result_check_ok(&r, "image_id"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);
	snprintf(pol, sizeof(pol), "{\"snp\": {\"host_data\": [\"%064d\", \"%064d\"], \"report_id_ma\": [\"%s\"]}}", 0, 1,
		 rid);
	judge(rep, pol, &r);
	assert_false(result_check_ok(&r, "host_data"));
	assert_non_null(strstr(result_detail(&r, "host_data"), "none of the 2"));
	assert_false(result_check_ok(&r, "report_id_ma"));
	att_result_free(&r);
	/* chip_id as a list */
	judge(rep, "{\"snp\": {\"chip_id\": [\"" "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
		   "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\"]}}", &r);
	assert_true(result_check_ok(&r, "chip_id"));
	att_result_free(&r);
}

static void test_policy_bits_and_reserved(void **state)
{
	uint8_t rep[1184];
	struct att_result r;
	json_t *bits;

	(void)state;
	t_report_init(rep, &tcb);
	put_le64(rep + 0x08, 0x30000 | (1ull << 21) | (1ull << 22) | (1ull << 24));
	judge(rep, "{\"snp\": {\"require_mem_aes_256_xts\": true, \"require_ciphertext_hiding\": true}}", &r);
	assert_true(result_check_ok(&r, "policy_require_mem_aes_256_xts"));
	assert_true(result_check_ok(&r, "policy_require_ciphertext_hiding"));
	bits = json_object_get(r.claims, "policy_bits");
	assert_int_equal(json_array_size(bits), 4);
	assert_string_equal(json_string_value(json_array_get(bits, 0)), "SMT");
	assert_string_equal(json_string_value(json_array_get(bits, 1)), "CXL_ALLOW");
	assert_string_equal(json_string_value(json_array_get(bits, 2)), "MEM_AES_256_XTS");
	assert_string_equal(json_string_value(json_array_get(bits, 3)), "CIPHERTEXT_HIDING");
	att_result_free(&r);
	judge(rep, "{\"snp\": {\"allow_cxl\": false, \"require_rapl_dis\": true, \"require_page_swap_disable\": true}}",
	      &r);
	assert_false(result_check_ok(&r, "policy_allow_cxl"));
	assert_false(result_check_ok(&r, "policy_require_rapl_dis"));
	assert_false(result_check_ok(&r, "policy_require_page_swap_disable"));
	att_result_free(&r);

	/* reserved guest-policy bits: 63:26 zero, 17 one */
	put_le64(rep + 0x08, 0x30000 | (1ull << 26));
	judge(rep, NULL, &r);
	assert_false(result_check_ok(&r, "guest_policy_reserved"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	put_le64(rep + 0x08, 0x10000);
	judge(rep, NULL, &r);
	assert_false(result_check_ok(&r, "guest_policy_reserved"));
	att_result_free(&r);
	/* reserved report bytes and FLAGS bits */
	t_report_init(rep, &tcb);
	rep[0x1EB] = 1;
	judge(rep, NULL, &r);
	assert_false(result_check_ok(&r, "report_reserved"));
	assert_non_null(strstr(result_detail(&r, "report_reserved"), "0x1eb"));
	att_result_free(&r);
	t_report_init(rep, &tcb);
	rep[0x250] = 1;
	judge(rep, NULL, &r);
	assert_false(result_check_ok(&r, "report_reserved"));
	att_result_free(&r);
	t_report_init(rep, &tcb);
	put_le32(rep + 0x48, 1u << 5);
	judge(rep, NULL, &r);
	assert_false(result_check_ok(&r, "report_reserved"));
	att_result_free(&r);
}

static void test_version_and_mitigations(void **state)
{
	uint8_t rep[1184];
	struct att_result r;

	(void)state;
	t_report_init(rep, &tcb);
	judge(rep, "{\"snp\": {\"min_report_version\": 3, \"require_launch_mit_vector\": \"0x1\"}}", &r);
	assert_true(result_check_ok(&r, "min_report_version"));
	assert_false(result_check_ok(&r, "launch_mit_vector")); /* a v3 report has none */
	att_result_free(&r);
	judge(rep, "{\"snp\": {\"min_report_version\": 5}}", &r);
	assert_false(result_check_ok(&r, "min_report_version"));
	att_result_free(&r);
	/* v5 with mitigation vectors */
	put_le32(rep, 5);
	put_le64(rep + 0x1F8, 0x3);
	put_le64(rep + 0x200, 0x7);
	judge(rep, "{\"snp\": {\"require_launch_mit_vector\": \"0x3\", \"require_current_mit_vector\": 4}}", &r);
	assert_true(result_check_ok(&r, "launch_mit_vector"));
	assert_true(result_check_ok(&r, "current_mit_vector"));
	assert_true(result_check_ok(&r, "report_reserved"));
	att_result_free(&r);
	judge(rep, "{\"snp\": {\"require_launch_mit_vector\": \"0x4\"}}", &r);
	assert_false(result_check_ok(&r, "launch_mit_vector"));
	att_result_free(&r);
}

static void test_policy_validation(void **state)
{
	static const char *const bad[] = {
		"{\"snp\": {\"min_api_version\": \"1\"}}",
		"{\"snp\": {\"min_api_version\": \"1.300\"}}",
		"{\"snp\": {\"host_data\": []}}",
		"{\"snp\": {\"host_data\": [\"00\"]}}",
		"{\"snp\": {\"trusted_id_key_digests\": \"00\"}}",
		"{\"snp\": {\"min_launch_tcb\": {\"ucode\": 1}}}",
		"{\"snp\": {\"require_rapl_dis\": 1}}",
		"{\"snp\": {\"min_build\": 256}}",
	};
	uint8_t rep[1184];
	struct att_result r;

	(void)state;
	t_report_init(rep, &tcb);
	t_report_sign(rep, C.vek_key);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(t_verify(rep, &C, bad[i], &r), -EINVAL);
		if (!strstr(err_msg(), "policy: snp."))
			fail_msg("%s: %s", bad[i], err_msg());
		att_result_free(&r);
	}
}

/* An RSA-PSS (SHA-384) signed certificate with salt length salt, AMD's subject. */
static X509 *pss_cert(EVP_PKEY *key, int salt, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx;
	static const char *const f[][2] = { { "OU", "Engineering" }, { "C", "US" }, { "L", "Santa Clara" },
					     { "ST", "CA" }, { "O", "Advanced Micro Devices" } };

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		X509_NAME_add_entry_by_txt(name, f[i][0], MBSTRING_ASC, (const unsigned char *)f[i][1], -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_NAME_free(name);
	X509_set_pubkey(x, key);
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, EVP_sha384(), NULL, key), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) > 0);
	assert_true(X509_sign_ctx(x, ctx) > 0);
	EVP_MD_CTX_free(ctx);
	return x;
}

static void test_kds_profile(void **state)
{
	static const char *const fixtures[] = { "milan-virtee", "milan-gosevguest", "milan-vlek-trustee" };
	struct att_result r;
	char detail[160];
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	X509 *x;

	(void)state;
	/* AMD's own certificates (fixtures' VCEK/VLEK, built-in ARK/ASK/ASVK) */
	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		verify_fixture(fixtures[i], NULL, &r);
		assert_true(result_check_ok(&r, "kds_profile"));
		att_result_free(&r);
	}
	/* a non-AMD chain is not judged by AMD's profile (no check recorded) */
	assert_false(snp_kds_profile_ok(C.vek, "vcek", SNP_PRODUCT_MILAN, detail, sizeof(detail)));
	assert_non_null(strstr(detail, "RSASSA-PSS"));
	/* the parameters: salt 32 is not AMD's */
	x = pss_cert(rsa, 32, "ARK-Milan");
	assert_false(snp_kds_profile_ok(x, "ark", SNP_PRODUCT_MILAN, detail, sizeof(detail)));
	assert_non_null(strstr(detail, "salt 48"));
	X509_free(x);
	/* salt 48 but the wrong CN, then the wrong key size */
	x = pss_cert(rsa, 48, "ARK-Genoa");
	assert_false(snp_kds_profile_ok(x, "ark", SNP_PRODUCT_MILAN, detail, sizeof(detail)));
	assert_non_null(strstr(detail, "CN is not 'ARK-Milan'"));
	X509_free(x);
	x = pss_cert(rsa, 48, "ARK-Milan");
	assert_false(snp_kds_profile_ok(x, "ark", SNP_PRODUCT_MILAN, detail, sizeof(detail)));
	assert_non_null(strstr(detail, "RSA-4096"));
	X509_free(x);
	EVP_PKEY_free(rsa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firmware_real),	   cmocka_unit_test(test_firmware_generated),
		cmocka_unit_test(test_id_block),	   cmocka_unit_test(test_value_lists),
		cmocka_unit_test(test_policy_bits_and_reserved), cmocka_unit_test(test_version_and_mitigations),
		cmocka_unit_test(test_policy_validation), cmocka_unit_test(test_kds_profile),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
