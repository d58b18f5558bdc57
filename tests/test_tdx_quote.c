/* Unit tests: TDX quote verification against the real-hardware fixtures in
 * tests/fixtures/evidence/tdx/ (expected verdict and claims from meta.json),
 * and negative cases made from them (flipped bytes, truncation, wrong
 * version / certification data type, expired collateral via --at). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <unistd.h>

#include "attestation/attestation.h"
#include "common/common.h"
#include "tests/att_checks.h"

#define EV "tests/fixtures/evidence/tdx/"

static const char *const cases[] = { "v4-azure", "v4-spr-gotdxguest", "v4-trustee-4", "v5-gotdxguest" };

static uint8_t *load(const char *c, const char *file, size_t *len)
{
	char path[512];
	uint8_t *d;

	snprintf(path, sizeof(path), EV "%s/%s", c, file);
	assert_int_equal(file_read(path, 1 << 20, &d, len), 0);
	return d;
}

static void dump(const struct att_result *r)
{
	char *s = json_dumps(r->checks, JSON_INDENT(1));

	fprintf(stderr, "%s\n%s\n", s, att_status_name(att_result_status(r)));
	free(s);
}

static int verify(const uint8_t *q, size_t len, const struct att_options *o, struct att_result *r)
{
	int ret;

	assert_int_equal(att_result_init(r, "tdx"), 0);
	ret = att_tdx_verify(q, len, o, r);
	if (ret == 0 && getenv("TDX_TEST_DUMP"))
		dump(r);
	return ret;
}

/* Every fixture directory (the four known ones and any added later): the
 * verdict meta.json expects, and for valid ones its claims. */
static void test_fixtures(void **state)
{
	DIR *d = opendir(EV);
	struct dirent *e;
	size_t seen = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		struct att_options o = { 0 };
		struct att_result r;
		size_t len, mlen;
		uint8_t *q, *m;
		json_t *meta, *claims, *v;
		const char *k;
		char path[600];
		int ret;

		snprintf(path, sizeof(path), EV "%s/meta.json", e->d_name);
		if (e->d_name[0] == '.' || access(path, F_OK))
			continue;
		q = load(e->d_name, "quote.bin", &len);
		m = load(e->d_name, "meta.json", &mlen);
		meta = json_loadb((const char *)m, mlen, 0, NULL);
		assert_non_null(meta);
		claims = json_object_get(meta, "claims");
		ret = verify(q, len, &o, &r);
		if (!json_is_true(json_object_get(json_object_get(meta, "expected"), "valid"))) {
			/* unreadable (input error) or judged invalid */
			if (ret == 0 && !r.auth_failed) {
				fprintf(stderr, "%s: expected invalid, got %s\n", e->d_name,
					att_status_name(att_result_status(&r)));
				fail();
			}
			goto next;
		}
		if (ret || r.auth_failed || r.policy_failed) {
			fprintf(stderr, "%s: expected valid: %s\n", e->d_name, ret ? err_msg() : "auth failed");
			dump(&r);
			fail();
		}
		assert_true(result_check_ok(&r, "tdx.quote_signature"));
		assert_true(result_check_ok(&r, "tdx.qe_report_data"));
		assert_true(result_check_ok(&r, "tdx.qe_report_signature"));
		assert_true(result_check_ok(&r, "tdx.pck_chain"));
		json_object_foreach(claims, k, v) {
			if (!json_equal(json_object_get(r.claims, k), v)) {
				fprintf(stderr, "%s: claim %s differs\n", e->d_name, k);
				fail();
			}
		}
		if (json_object_get(claims, "version"))
			assert_int_equal(json_integer_value(json_object_get(r.claims, "quote_version")),
					 json_integer_value(json_object_get(claims, "version")));
		assert_non_null(json_object_get(r.claims, "fmspc"));
		/* no collateral: only a debug TD (TD attributes bit 0) warns */
		assert_int_equal(att_result_status(&r),
				 strncmp(json_string_value(json_object_get(r.claims, "td_attributes")), "01", 2)
					 ? ATT_AFFIRMING : ATT_WARNING);
		assert_int_equal(result_check_ok(&r, "tdx.debug"), att_result_status(&r) == ATT_AFFIRMING);
	next:
		att_result_free(&r);
		json_decref(meta);
		free(q);
		free(m);
		seen++;
	}
	closedir(d);
	assert_true(seen >= ARRAY_SIZE(cases));
}

/* Collateral: TCB info / QE identity as PCS serves them, PCK and root CRLs. */
static void test_collateral(void **state)
{
	struct att_options o = { .collateral_dir = EV "v4-spr-gotdxguest/collateral" };
	struct att_result r;
	size_t len;
	uint8_t *q = load("v4-spr-gotdxguest", "quote.bin", &len);

	(void)state;
	o.at = 1687100000; /* 2023-06-18T15:33Z: inside both documents' validity */
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(r.auth_failed);
	assert_true(result_check_ok(&r, "tdx.pck_chain")); /* with both CRLs */
	assert_non_null(strstr(result_detail(&r, "tdx.pck_chain"), "root CRL"));
	assert_true(result_check_ok(&r, "tdx.crl.fresh"));
	assert_true(result_check_ok(&r, "tdx.tcb_info"));
	assert_true(result_check_ok(&r, "tdx.tcb_info.fresh"));
	assert_true(result_check_ok(&r, "tdx.qe_identity"));
	assert_true(result_check_ok(&r, "tdx.qe_identity.fresh"));
	/* the PCS response headers with the signing chain are not in the fixture */
	assert_false(result_check_ok(&r, "tdx.tcb_info.signature"));
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_info.signature"),
			       "not checked: no signing chain"));
	/* NotSupported, as Intel's QVL and go-tdx-guest compute it: the PCK
	 * certificate's SGX TCB component 1 (3) is below every level's (5), so
	 * no level is selected (derivation in tests/test_tdx_quote_tcb.c) */
	assert_false(result_check_ok(&r, "tdx.tcb_level"));
	assert_string_equal(json_string_value(json_object_get(r.claims, "tcb_status")), "NotSupported");
	assert_string_equal(json_string_value(json_object_get(r.claims, "qe_tcb_status")), "UpToDate");
	assert_string_equal(json_string_value(json_object_get(r.claims, "fmspc")), "50806f000000");
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	att_result_free(&r);

	/* expired collateral (--at after nextUpdate): advisory warnings only */
	o.at = 1700000000; /* 2023-11-14 */
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.tcb_info.fresh"));
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_info.fresh"), "expired"));
	assert_false(result_check_ok(&r, "tdx.qe_identity.fresh"));
	assert_false(result_check_ok(&r, "tdx.crl.fresh"));
	assert_false(r.auth_failed);
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	att_result_free(&r);
	free(q);

	/* v5 (TD15 body) with TCB info v3 and TDX module identities */
	q = load("v5-gotdxguest", "quote.bin", &len);
	o.collateral_dir = EV "v5-gotdxguest/collateral";
	o.at = 1770000000; /* 2026-02-02 */
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(r.auth_failed);
	assert_true(result_check_ok(&r, "tdx.tcb_level"));
	assert_true(result_check_ok(&r, "tdx.tcb_info.tdx_module"));
	assert_true(result_check_ok(&r, "tdx.tcb_status"));
	assert_string_equal(json_string_value(json_object_get(r.claims, "tcb_status")), "UpToDate");
	assert_string_equal(json_string_value(json_object_get(r.claims, "tdx_module_tcb_status")), "UpToDate");
	assert_false(result_check_ok(&r, "tdx.qe_identity")); /* no qe_identity.json: not checked */
	att_result_free(&r);

	/* --at not given: now, long after this TCB info's nextUpdate (2026-03-03) */
	o.at = 0;
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.tcb_info.fresh"));
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_info.fresh"), "expired"));
	att_result_free(&r);
	o.at = 1770000000;

	/* a policy accepting only OutOfDate turns UpToDate into a policy failure */
	o.policy = json_pack("{s:{s:[s]}}", "tdx", "accepted_tcb_status", "OutOfDate");
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.tcb_status"));
	assert_true(r.policy_failed);
	att_result_free(&r);
	json_decref(o.policy);
	free(q);
}

/* A byte flipped in the signature, or in MRTD (signed data), breaks the
 * attestation-key signature and nothing else. */
static void test_flipped_signature_and_mrtd(void **state)
{
	static const size_t offs[] = { 48 + 584 + 4 + 10 /* signature */, 48 + 136 /* body.mrtd (v4) */ };
	struct att_options o = { 0 };
	struct att_result r;
	size_t len;
	uint8_t *q = load("v4-trustee-4", "quote.bin", &len);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(offs); i++) {
		q[offs[i]] ^= 0x01;
		assert_int_equal(verify(q, len, &o, &r), 0);
		assert_false(result_check_ok(&r, "tdx.quote_signature"));
		assert_true(result_check_ok(&r, "tdx.qe_report_signature"));
		assert_true(r.auth_failed);
		assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
		att_result_free(&r);
		q[offs[i]] ^= 0x01;
	}
	free(q);
}

/* QE report: a flipped byte fails its PCK signature; changed auth data
 * breaks the binding of the attestation key. */
static void test_broken_qe_report(void **state)
{
	const size_t cert = 48 + 584 + 4 + 128 + 6; /* v4: certification data */
	struct att_options o = { 0 };
	struct att_result r;
	size_t len;
	uint8_t *q = load("v4-azure", "quote.bin", &len);
	uint16_t auth_len;

	(void)state;
	q[cert + 100] ^= 0x80; /* inside the QE report (MRENCLAVE) */
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.qe_report_signature"));
	assert_true(result_check_ok(&r, "tdx.qe_report_data"));
	assert_true(result_check_ok(&r, "tdx.quote_signature"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	q[cert + 100] ^= 0x80;

	auth_len = le16(q + cert + 384 + 64);
	assert_true(auth_len > 0);
	q[cert + 384 + 64 + 2] ^= 0x01; /* first byte of the QE auth data */
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.qe_report_data"));
	assert_true(result_check_ok(&r, "tdx.qe_report_signature"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	free(q);
}

/* Malformed input: an error naming the field, never a crash. */
static void test_malformed(void **state)
{
	struct att_options o = { 0 };
	struct att_result r;
	size_t len;
	uint8_t *q = load("v5-gotdxguest", "quote.bin", &len);
	const size_t cert = 48 + 6 + 648 + 4 + 128; /* v5 TD15 body: certification data */

	(void)state;
	assert_int_equal(q[48], 3); /* body type TD15 */
	for (size_t cut = 0; cut < len; cut += (cut < 700 ? 1 : 97)) {
		assert_int_equal(verify(q, cut, &o, &r), -EINVAL);
		att_result_free(&r);
	}
	assert_int_equal(verify(q, 100, &o, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "body"));
	att_result_free(&r);

	q[0] = 3;
	assert_int_equal(verify(q, len, &o, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "version 3"));
	att_result_free(&r);
	q[0] = 5;

	q[cert] = 5; /* outer certification data: PCK chain instead of QE report */
	assert_int_equal(verify(q, len, &o, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "certification data type 5"));
	att_result_free(&r);
	q[cert] = 6;

	{ /* inner certification data: must be the PCK chain (5) */
		size_t inner = cert + 6 + 384 + 64 + 2 + le16(q + cert + 6 + 384 + 64);

		assert_int_equal(q[inner], 5);
		q[inner] = 3;
		assert_int_equal(verify(q, len, &o, &r), -EINVAL);
		assert_non_null(strstr(err_msg(), "inner certification data type 3"));
		att_result_free(&r);
		q[inner] = 5;
	}

	/* v5: the descriptor and the TD15 fields are signed too */
	q[48 + 6 + 600] ^= 1; /* MRSERVICETD */
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.quote_signature"));
	att_result_free(&r);
	q[48 + 6 + 600] ^= 1;
	q[48 + 6 + 136] ^= 1; /* MRTD */
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.quote_signature"));
	att_result_free(&r);
	q[48 + 6 + 136] ^= 1;

	q[48] = 2; /* TD10 type with a TD15 size */
	assert_int_equal(verify(q, len, &o, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "body type 2 with size 648"));
	att_result_free(&r);
	q[48] = 3;

	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(r.auth_failed);
	att_result_free(&r);
	free(q);
}

static int verify_policy(const char *c, const char *policy_json, struct att_result *r)
{
	struct att_options o = { 0 };
	size_t len;
	uint8_t *q = load(c, "quote.bin", &len);
	int ret;

	o.policy = json_loads(policy_json, 0, NULL);
	assert_non_null(o.policy);
	ret = verify(q, len, &o, r);
	json_decref(o.policy);
	free(q);
	return ret;
}

#define AZ_MRTD "024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d15469dc8c1ba7ab7b"
#define ZERO48 "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

/* Policy: reference values, debug, XFAM, minimum TEE TCB SVN, bad policies. */
static void test_policy(void **state)
{
	struct att_result r;

	(void)state;
	/* all reference values of the azure quote */
	assert_int_equal(verify_policy("v4-azure",
				       "{\"tdx\":{\"mrtd\":[\"" ZERO48 "\",\"" AZ_MRTD "\"],\"rtmr0\":\"" ZERO48 "\","
				       "\"mrconfigid\":\"" ZERO48 "\",\"mrowner\":\"" ZERO48 "\",\"allow_debug\":false,"
				       "\"xfam\":\"0x00000000000618e7\",\"min_tee_tcb_svn\":\"02010600000000000000000000000000\","
				       "\"report_data\":\"9734504f161d104c74e3165c15f779b06a9bb40dfa71937817d7eee68e593839"
				       "0000000000000000000000000000000000000000000000000000000000000000\"}}",
				       &r),
			 0);
	assert_true(result_check_ok(&r, "tdx.policy.mrtd"));
	assert_true(result_check_ok(&r, "tdx.policy.rtmr0"));
	assert_true(result_check_ok(&r, "tdx.policy.xfam"));
	assert_true(result_check_ok(&r, "tdx.policy.min_tee_tcb_svn"));
	assert_true(result_check_ok(&r, "tdx.policy.report_data"));
	assert_true(result_check_ok(&r, "tdx.debug"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);

	/* each mismatch is a policy failure (the evidence stays authentic) */
	assert_int_equal(verify_policy("v4-azure",
				       "{\"tdx\":{\"mrtd\":[\"" ZERO48 "\"],\"rtmr1\":\"" AZ_MRTD "\","
				       "\"xfam\":\"e718060000000001\",\"min_tee_tcb_svn\":\"02010700000000000000000000000000\"}}",
				       &r),
			 0);
	assert_false(result_check_ok(&r, "tdx.policy.mrtd"));
	assert_false(result_check_ok(&r, "tdx.policy.rtmr1"));
	assert_false(result_check_ok(&r, "tdx.policy.xfam"));
	assert_false(result_check_ok(&r, "tdx.policy.min_tee_tcb_svn"));
	assert_true(r.policy_failed);
	assert_false(r.auth_failed);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);

	/* a debug TD: warning without a policy (test_fixtures), failure
	 * when the policy forbids it, accepted when it allows it */
	assert_int_equal(verify_policy("v4-trustee-4", "{\"tdx\":{\"allow_debug\":false}}", &r), 0);
	assert_false(result_check_ok(&r, "tdx.debug"));
	assert_true(r.policy_failed);
	att_result_free(&r);
	assert_int_equal(verify_policy("v4-trustee-4", "{\"tdx\":{\"allow_debug\":true}}", &r), 0);
	assert_true(result_check_ok(&r, "tdx.debug"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);

	/* accepted_tcb_status without collateral cannot be met */
	assert_int_equal(verify_policy("v4-azure", "{\"tdx\":{\"accepted_tcb_status\":[\"UpToDate\"]}}", &r), 0);
	assert_false(result_check_ok(&r, "tdx.tcb_status"));
	assert_true(r.policy_failed);
	att_result_free(&r);

	/* malformed policies are input errors, named */
	assert_int_equal(verify_policy("v4-azure", "{\"tdx\":{\"mrdt\":[]}}", &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "tdx.mrdt: unknown key"));
	att_result_free(&r);
	assert_int_equal(verify_policy("v4-azure", "{\"tdx\":{\"rtmr2\":\"abcd\"}}", &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "tdx.rtmr2"));
	att_result_free(&r);
	assert_int_equal(verify_policy("v4-azure", "{\"tdx\":{\"allow_debug\":\"no\"}}", &r), -EINVAL);
	att_result_free(&r);
	assert_int_equal(verify_policy("v4-azure", "{\"tdx\":[]}", &r), -EINVAL);
	att_result_free(&r);
}

/* show: JSON and text, nothing printed for a malformed quote. */
static void test_show(void **state)
{
	size_t len;
	uint8_t *q = load("v5-gotdxguest", "quote.bin", &len);
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	json_t *j;

	(void)state;
	assert_int_equal(att_tdx_show(q, len, true, f), 0);
	fclose(f);
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "body"), "mrtd")),
			    "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "header"), "version")), 5);
	json_decref(j);
	free(buf);

	f = open_memstream(&buf, &blen);
	assert_int_equal(att_tdx_show(q, len, false, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "body.mrtd: 7348651a"));
	assert_non_null(strstr(buf, "qe_report.isvsvn: "));
	free(buf);
	f = open_memstream(&buf, &blen);
	assert_int_equal(att_tdx_show(q, 47, false, f), -EINVAL);
	fclose(f);
	assert_int_equal(blen, 0);
	free(buf);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_collateral),
		cmocka_unit_test(test_flipped_signature_and_mrtd),
		cmocka_unit_test(test_broken_qe_report),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_show),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
