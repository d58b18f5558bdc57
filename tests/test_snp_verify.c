/* Unit tests: SEV-SNP report verification against the real-hardware fixtures
 * (tests/fixtures/evidence/snp/<case>/meta.json gives verdict and claims),
 * the built-in AMD roots, and broken evidence: flipped signature and
 * measurement bytes, a wrong VCEK, expired certificates (evaluation time far
 * in the future/past), truncated files, wrong versions, policy failures. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "attestation/attestation.h"
#include "common/common.h"
#include "tests/att_checks.h"

#define SNP_DIR "tests/fixtures/evidence/snp"
/* All fixture certificates are valid on this date (the VLEK only for a year). */
static const time_t fixture_time = 1748736000; /* 2025-06-01 */

static uint8_t *load(const char *dir, const char *name, size_t *len)
{
	char path[512];
	uint8_t *p;

	snprintf(path, sizeof(path), "%s/%s/%s", SNP_DIR, dir, name);
	assert_int_equal(file_read(path, 1 << 20, &p, len), 0);
	return p;
}

/* Verify bytes with a certs dir and policy; returns the verifier's return. */
static int verify(const uint8_t *rep, size_t len, const char *certs, json_t *policy, time_t at,
		  struct att_result *r)
{
	struct att_options o = { .certs_dir = certs, .policy = policy, .at = at };

	assert_int_equal(att_result_init(r, "snp"), 0);
	return att_snp_verify(rep, len, &o, r);
}

/* Every case directory under SNP_DIR (held-back cases dropped in are picked
 * up too) verifies, judged now, with the verdict and claims of its meta.json. */
static void test_fixtures_verdict_and_claims(void **state)
{
	DIR *d = opendir(SNP_DIR);
	struct dirent *e;
	int seen = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		char dir[512], path[600];
		json_error_t jerr;
		json_t *meta, *claims, *v;
		const char *key;
		struct att_result r;
		uint8_t *rep;
		size_t len;

		snprintf(dir, sizeof(dir), "%s/%s", SNP_DIR, e->d_name);
		snprintf(path, sizeof(path), "%s/meta.json", dir);
		if (e->d_name[0] == '.' || access(path, R_OK))
			continue;
		meta = json_load_file(path, 0, &jerr);
		assert_non_null(meta);
		rep = load(e->d_name, "report.bin", &len);
		assert_int_equal(verify(rep, len, dir, NULL, 0, &r), 0);
		bool valid = json_is_true(json_object_get(json_object_get(meta, "expected"), "valid"));
		if ((att_result_status(&r) != ATT_CONTRAINDICATED) != valid)
			fail_msg("%s: expected %s, got %s", e->d_name, valid ? "valid" : "invalid",
				 att_status_name(att_result_status(&r)));
		seen++;
		if (!valid)
			goto next;
		assert_true(result_check_ok(&r, "report_signature"));
		assert_true(result_check_ok(&r, "vek_tcb"));
		/* every claim in meta.json, same value */
		claims = json_object_get(meta, "claims");
		json_object_foreach(claims, key, v) {
			json_t *got = json_object_get(r.claims, key);

			if (!got)
				fail_msg("%s: claim '%s' missing", e->d_name, key);
			if (json_is_string(v))
				assert_string_equal(json_string_value(got), json_string_value(v));
			else
				assert_int_equal(json_integer_value(got), json_integer_value(v));
		}
		if (json_object_get(meta, "product"))
			assert_string_equal(json_string_value(json_object_get(r.claims, "product")),
					    json_string_value(json_object_get(meta, "product")));
		if (json_object_get(meta, "signer"))
			assert_string_equal(json_string_value(json_object_get(r.claims, "signing_key")),
					    json_string_value(json_object_get(meta, "signer")));
next:
		att_result_free(&r);
		json_decref(meta);
		free(rep);
	}
	closedir(d);
	assert_true(seen >= 3);
}

/* The milan-gosevguest guest allows DEBUG: authentic but a warning, and a
 * policy forbidding debug makes it contraindicated. */
static void test_debug_warning_and_policy(void **state)
{
	struct att_result r;
	size_t len;
	uint8_t *rep = load("milan-gosevguest", "report.bin", &len);
	json_t *policy = json_pack("{s:{s:b}}", "snp", "allow_debug", 0);

	(void)state;
	assert_int_equal(verify(rep, len, SNP_DIR "/milan-gosevguest", NULL, fixture_time, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	assert_false(result_check_ok(&r, "debug"));
	att_result_free(&r);

	assert_int_equal(verify(rep, len, SNP_DIR "/milan-gosevguest", policy, fixture_time, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	assert_false(r.auth_failed);
	assert_true(r.policy_failed);
	att_result_free(&r);
	json_decref(policy);
	free(rep);
}

/* Only the VCEK in a directory: ASK and ARK come from the built-in roots. */
static void test_builtin_roots(void **state)
{
	char dir[] = "/tmp/cvmm-snp-XXXXXX", path[64];
	struct att_result r;
	size_t len, vlen;
	uint8_t *rep = load("milan-virtee", "report.bin", &len);
	uint8_t *vcek = load("milan-virtee", "vcek.der", &vlen);

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vcek.der", dir);
	assert_int_equal(file_write(path, vcek, vlen), 0);
	assert_int_equal(verify(rep, len, dir, NULL, fixture_time, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	assert_non_null(strstr(result_detail(&r, "ask"), "built-in"));
	att_result_free(&r);
	unlink(path);
	rmdir(dir);
	free(rep);
	free(vcek);
}

/* The KDS layout: vcek.der plus cert_chain.pem (ASK then ARK in one file). */
static void test_kds_cert_chain_bundle(void **state)
{
	char dir[] = "/tmp/cvmm-snp-XXXXXX", p1[64], p2[64];
	struct att_result r;
	size_t len, vlen, alen, klen;
	uint8_t *rep = load("milan-gosevguest", "report.bin", &len);
	uint8_t *vcek = load("milan-gosevguest", "vcek.der", &vlen);
	uint8_t *ask = load("milan-gosevguest", "ask.pem", &alen);
	uint8_t *ark = load("milan-gosevguest", "ark.pem", &klen);
	struct bytebuf chain = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p1, sizeof(p1), "%s/vcek.der", dir);
	snprintf(p2, sizeof(p2), "%s/cert_chain.pem", dir);
	assert_int_equal(bb_append(&chain, ask, alen), 0);
	assert_int_equal(bb_append(&chain, ark, klen), 0);
	assert_int_equal(file_write(p1, vcek, vlen), 0);
	assert_int_equal(file_write(p2, chain.data, chain.len), 0);
	assert_int_equal(verify(rep, len, dir, NULL, fixture_time, &r), 0);
	assert_int_not_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	assert_true(result_check_ok(&r, "ask"));
	assert_null(strstr(result_detail(&r, "ask"), "built-in"));
	assert_true(result_check_ok(&r, "report_signature"));
	att_result_free(&r);
	unlink(p1);
	unlink(p2);
	rmdir(dir);
	bb_free(&chain);
	free(rep);
	free(vcek);
	free(ask);
	free(ark);
}

/* Unreadable certificate or CRL files are input errors naming the file. */
static void test_bad_cert_files(void **state)
{
	char dir[] = "/tmp/cvmm-snp-XXXXXX", p1[64], p2[64];
	struct att_result r;
	size_t len, vlen;
	uint8_t *rep = load("milan-virtee", "report.bin", &len);
	uint8_t *vcek = load("milan-virtee", "vcek.der", &vlen);

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p1, sizeof(p1), "%s/vcek.der", dir);
	snprintf(p2, sizeof(p2), "%s/crl.der", dir);
	assert_int_equal(file_write(p1, vcek, vlen / 2), 0); /* truncated DER */
	assert_int_equal(verify(rep, len, dir, NULL, fixture_time, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "vcek.der"));
	att_result_free(&r);
	assert_int_equal(file_write(p1, vcek, vlen), 0);
	assert_int_equal(file_write(p2, "not a crl", 9), 0);
	assert_int_equal(verify(rep, len, dir, NULL, fixture_time, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "crl.der"));
	att_result_free(&r);
	unlink(p1);
	unlink(p2);
	rmdir(dir);
	free(rep);
	free(vcek);
}

static void expect_auth_failure(uint8_t *rep, size_t len, const char *certs, time_t at, const char *check)
{
	struct att_result r;

	assert_int_equal(verify(rep, len, certs, NULL, at, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	assert_true(r.auth_failed);
	assert_false(result_check_ok(&r, check));
	att_result_free(&r);
}

static void test_flipped_bytes(void **state)
{
	size_t len;
	uint8_t *rep = load("milan-virtee", "report.bin", &len);

	(void)state;
	rep[0x2A0 + 5] ^= 0x01; /* signature R */
	expect_auth_failure(rep, len, SNP_DIR "/milan-virtee", fixture_time, "report_signature");
	rep[0x2A0 + 5] ^= 0x01;
	rep[0x90] ^= 0x80; /* MEASUREMENT */
	expect_auth_failure(rep, len, SNP_DIR "/milan-virtee", fixture_time, "report_signature");
	rep[0x90] ^= 0x80;
	rep[0x180 + 7] ^= 0x01; /* REPORTED_TCB microcode: the VCEK no longer matches */
	expect_auth_failure(rep, len, SNP_DIR "/milan-virtee", fixture_time, "vek_tcb");
	free(rep);
}

/* The virtee report with the VCEK of another chip. */
static void test_wrong_vcek(void **state)
{
	size_t len;
	uint8_t *rep = load("milan-virtee", "report.bin", &len);

	(void)state;
	expect_auth_failure(rep, len, SNP_DIR "/milan-gosevguest", fixture_time, "vek_chip_id");
	expect_auth_failure(rep, len, SNP_DIR "/milan-gosevguest", fixture_time, "report_signature");
	free(rep);
}

static void test_expired_and_not_yet_valid(void **state)
{
	size_t len;
	uint8_t *rep = load("milan-virtee", "report.bin", &len);
	struct att_result r;

	(void)state;
	expect_auth_failure(rep, len, SNP_DIR "/milan-virtee", 4102444800 /* 2100 */, "cert_validity");
	expect_auth_failure(rep, len, SNP_DIR "/milan-virtee", 946684800 /* 2000 */, "cert_validity");
	assert_int_equal(verify(rep, len, SNP_DIR "/milan-virtee", NULL, 4102444800, &r), 0);
	assert_non_null(strstr(result_detail(&r, "cert_validity"),
			       "expired"));
	att_result_free(&r);
	free(rep);
}

static void test_malformed(void **state)
{
	size_t len;
	uint8_t *rep = load("milan-virtee", "report.bin", &len);
	struct att_result r;

	(void)state;
	assert_int_equal(verify(rep, 1000, SNP_DIR "/milan-virtee", NULL, 0, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "1184"));
	att_result_free(&r);
	assert_int_equal(verify(rep, 0, SNP_DIR "/milan-virtee", NULL, 0, &r), -EINVAL);
	att_result_free(&r);
	put_le32(rep, 1);
	assert_int_equal(verify(rep, len, SNP_DIR "/milan-virtee", NULL, 0, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "VERSION 1"));
	att_result_free(&r);
	put_le32(rep, 0xffffffff);
	assert_int_equal(verify(rep, len, SNP_DIR "/milan-virtee", NULL, 0, &r), -EINVAL);
	att_result_free(&r);
	/* version 5 parses (layout with mitigation vectors), but the signature
	 * no longer matches */
	put_le32(rep, 5);
	expect_auth_failure(rep, len, SNP_DIR "/milan-virtee", fixture_time, "report_signature");
	put_le32(rep, 2);
	/* SIGNING_KEY = 7 (none): unsigned */
	rep[0x48] = 7 << 2;
	expect_auth_failure(rep, len, SNP_DIR "/milan-virtee", fixture_time, "report_signature");
	free(rep);
}

static void test_no_certs(void **state)
{
	size_t len;
	uint8_t *rep = load("milan-virtee", "report.bin", &len);

	(void)state;
	expect_auth_failure(rep, len, NULL, fixture_time, "vek_present");
	expect_auth_failure(rep, len, "/nonexistent-dir", fixture_time, "vek_present");
	free(rep);
}

static void test_policy(void **state)
{
	size_t len;
	uint8_t *rep = load("milan-virtee", "report.bin", &len);
	const char *dir = SNP_DIR "/milan-virtee";
	struct att_result r;
	json_t *p;

	(void)state;
	p = json_pack("{s:{s:[s,s], s:s, s:s, s:b, s:{s:i, s:i, s:i, s:i}, s:i, s:s, s:i, s:b}}", "snp",
		      "measurements", "00",
		      "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
		      "report_data",
		      "d447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca0040433be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd",
		      "host_data", "0000000000000000000000000000000000000000000000000000000000000000", "allow_debug",
		      0, "min_tcb", "bootloader", 3, "tee", 0, "snp", 8, "microcode", 115, "vmpl", 0,
		      "platform_info_require", "0x1", "platform_info_forbid", 2, "allow_migration_agent", 0);
	/* "00" is not 48 bytes: the policy is rejected as input */
	assert_int_equal(verify(rep, len, dir, p, fixture_time, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "snp.measurements"));
	att_result_free(&r);
	json_array_remove(json_object_get(json_object_get(p, "snp"), "measurements"), 0);
	assert_int_equal(verify(rep, len, dir, p, fixture_time, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	assert_true(result_check_ok(&r, "measurement"));
	assert_true(result_check_ok(&r, "report_data"));
	assert_true(result_check_ok(&r, "min_tcb"));
	assert_true(result_check_ok(&r, "platform_info_require"));
	att_result_free(&r);

	/* each requirement failing on its own */
	static const char *const bad[][2] = {
		{ "measurements", "[\"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01\"]" },
		{ "report_data", "\"01020304\"" },
		{ "host_data", "\"0100000000000000000000000000000000000000000000000000000000000000\"" },
		{ "min_tcb", "{\"microcode\": 116}" },
		{ "vmpl", "1" },
		{ "platform_info_forbid", "1" },
		{ "allow_smt", "false" },
		{ "min_abi_major", "1" },
	};
	static const char *const check[] = { "measurement", "report_data", "host_data", "min_tcb",
					     "vmpl", "platform_info_forbid", "smt", "min_abi" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		json_t *q = json_pack("{s:{}}", "snp");
		json_object_set_new(json_object_get(q, "snp"), bad[i][0], json_loads(bad[i][1], JSON_DECODE_ANY, NULL));
		assert_int_equal(verify(rep, len, dir, q, fixture_time, &r), 0);
		assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
		assert_false(r.auth_failed);
		assert_false(result_check_ok(&r, check[i]));
		att_result_free(&r);
		json_decref(q);
	}

	/* unknown keys and wrong types are input errors */
	json_decref(p);
	p = json_pack("{s:{s:i}}", "snp", "min_tbc", 1);
	assert_int_equal(verify(rep, len, dir, p, fixture_time, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "min_tbc"));
	att_result_free(&r);
	json_decref(p);
	p = json_pack("{s:{s:{s:i}}}", "snp", "min_tcb", "tee", 300);
	assert_int_equal(verify(rep, len, dir, p, fixture_time, &r), -EINVAL);
	att_result_free(&r);
	json_decref(p);
	free(rep);
}

static void test_nonce_report_data(void **state)
{
	uint8_t out[64];
	char hex[129];

	(void)state;
	/* SHA-512("abc"), FIPS 180-2 appendix C.1 */
	assert_int_equal(att_nonce_report_data((const uint8_t *)"abc", 3, out), 0);
	hex_encode(out, 64, hex);
	assert_string_equal(hex, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
				 "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

static void test_result_framework(void **state)
{
	struct att_result r;

	(void)state;
	assert_int_equal(att_result_init(&r, "snp"), 0);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	assert_true(att_check(&r, ATT_AUTH, "a", true, "fine %d", 1));
	assert_false(att_check(&r, ATT_ADVISORY, "b", false, "meh"));
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	assert_false(att_check(&r, ATT_POLICY, "c", false, "no"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	assert_int_equal(json_array_size(r.checks), 3);
	assert_string_equal(att_status_name(ATT_WARNING), "warning");
	att_claim_hex(&r, "x", (const uint8_t *)"\xAB\x01", 2);
	assert_string_equal(json_string_value(json_object_get(r.claims, "x")), "ab01");
	att_result_free(&r);
}

/* The VLEK of milan-vlek-trustee expired on 2025-12-10. Judged now without
 * --at, the report is still authentic: expiry is a warning. With an explicit
 * evaluation time after the expiry, the evidence is invalid. */
static void test_expired_vlek(void **state)
{
	struct att_result r;
	size_t len;
	uint8_t *rep = load("milan-vlek-trustee", "report.bin", &len);

	(void)state;
	assert_int_equal(verify(rep, len, SNP_DIR "/milan-vlek-trustee", NULL, 0, &r), 0);
	if (time(NULL) > 1765405000) { /* after notAfter */
		assert_false(result_check_ok(&r, "cert_validity"));
		assert_false(r.auth_failed);
		assert_int_equal(att_result_status(&r), ATT_WARNING);
	}
	assert_true(result_check_ok(&r, "report_signature"));
	att_result_free(&r);
	assert_int_equal(verify(rep, len, SNP_DIR "/milan-vlek-trustee", NULL, 1767225600 /* 2026-01-01 */, &r), 0);
	assert_false(result_check_ok(&r, "cert_validity"));
	assert_true(r.auth_failed);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	free(rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_verdict_and_claims),
		cmocka_unit_test(test_debug_warning_and_policy),
		cmocka_unit_test(test_builtin_roots),
		cmocka_unit_test(test_kds_cert_chain_bundle),
		cmocka_unit_test(test_bad_cert_files),
		cmocka_unit_test(test_flipped_bytes),
		cmocka_unit_test(test_wrong_vcek),
		cmocka_unit_test(test_expired_and_not_yet_valid),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_no_certs),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_nonce_report_data),
		cmocka_unit_test(test_result_framework),
		cmocka_unit_test(test_expired_vlek),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
