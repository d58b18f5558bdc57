/* Unit tests: the TDX TCB status computation (attestation/tdx_collateral.c)
 * checked against Intel's algorithm as its Quote Verification Library
 * implements it (checkTcbLevel, TdxModuleCheck, TDRelaunchCheck,
 * EnclaveReportVerifier) and google/go-tdx-guest (verify.go). The real quotes
 * of tests/fixtures/evidence/tdx/ are used unchanged (their signatures stay
 * valid); only the collateral JSON is varied, written to a temporary
 * directory without a signing chain (its signature check is then advisory).
 *
 * The platforms, read from the fixtures (PCK certificate SGX extensions,
 * OID 1.2.840.113741.1.13.1.2.1-.17, and the TD quote body):
 *   v4-spr-gotdxguest: PCK SGX TCB components 3,3,2,2,2,1,0,2,0.. PCESVN 11,
 *     TEE_TCB_SVN 03 00 04 00.. (module SVN 3, major version 0, [2] = 4),
 *     QE ISVSVN 4. FMSPC 50806f000000.
 *   v5-gotdxguest (TDX 1.5 body): PCK SGX TCB 4,4,2,2,4,1,0,5,0.. PCESVN 13,
 *     TEE_TCB_SVN 0b 01 04 00.. (module SVN 11, major version 1, [2] = 4),
 *     TEE_TCB_SVN2 0d 01 04 00.. FMSPC 90c06f000000. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "attestation/attestation.h"
#include "common/common.h"
#include "tests/att_checks.h"

#define EV "tests/fixtures/evidence/tdx/"
#define AT_SPR 1687100000 /* 2023-06-18T15:33Z: inside the SPR collateral's validity */
#define AT_V5 1770000000  /* 2026-02-02: inside the v5 TCB info's validity */

static char dir[64];

static json_t *load_json(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);

	if (!j)
		fprintf(stderr, "%s: %s\n", path, je.text);
	assert_non_null(j);
	return j;
}

/* doc (tcbinfo.json or qe_identity.json as PCS serves it) into the test
 * directory; NULL removes the file. */
static void put(const char *file, const json_t *doc)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	unlink(path);
	if (doc)
		assert_int_equal(json_dump_file(doc, path, JSON_COMPACT), 0);
}

static json_t *tcb_info(json_t *doc)
{
	return json_object_get(doc, "tcbInfo");
}

static json_t *level(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(tcb_info(doc), "tcbLevels"), i);
}

/* Set the 16 SVNs of a level's "sgxtcbcomponents" / "tdxtcbcomponents". */
static void set_svns(json_t *lvl, const char *kind, const int svn[16])
{
	json_t *arr = json_object_get(json_object_get(lvl, "tcb"), kind);

	assert_int_equal(json_array_size(arr), 16);
	for (size_t i = 0; i < 16; i++)
		json_object_set_new(json_array_get(arr, i), "svn", json_integer(svn[i]));
}

static void set_status(json_t *lvl, const char *st)
{
	json_object_set_new(lvl, "tcbStatus", json_string(st));
}

static const char *claim(const struct att_result *r, const char *name)
{
	return json_string_value(json_object_get(r->claims, name));
}

/* Verify the fixture quote of `c` with the test directory's collateral and
 * return the claimed tcb_status (into r, which the caller frees). */
static const char *status_of(const char *c, time_t at, struct att_result *r)
{
	struct att_options o = { .collateral_dir = dir, .at = at };
	char path[256];
	uint8_t *q;
	size_t len;

	snprintf(path, sizeof(path), EV "%s/quote.bin", c);
	assert_int_equal(file_read(path, 1 << 20, &q, &len), 0);
	assert_int_equal(att_result_init(r, "tdx"), 0);
	assert_int_equal(att_tdx_verify(q, len, &o, r), 0);
	free(q);
	if (getenv("TDX_TEST_DUMP")) {
		char *s = json_dumps(r->checks, JSON_INDENT(1));

		fprintf(stderr, "%s\n", s);
		free(s);
	}
	return claim(r, "tcb_status");
}

/* The SPR platform's own SGX TCB, and its TEE_TCB_SVN. */
static const int spr_sgx[16] = { 3, 3, 2, 2, 2, 1, 0, 2 };
static const int spr_tdx[16] = { 3, 0, 4 };

/* The question this file answers: the SPR quote with its PCS collateral
 * (TCB evaluation data number 15, issued 2023-06-18) is NotSupported, and
 * rightly. Both levels of that TCB info (2023-02-15 UpToDate, 2018-01-04
 * OutOfDate) need SGX TCB components 5,5,2,2,3,1,0,3 and PCESVN 5/11; the PCK
 * certificate has 3,3,2,2,2,1,0,2 (component 1 = OID .2.1 = 3 < 5, also 2, 5
 * and 8 are short) and PCESVN 11. So no level is even selected as the SGX
 * TCB level, which QVL's checkTcbLevel reports as STATUS_TCB_NOT_SUPPORTED
 * ("SGX TCB Level has not been selected") and go-tdx-guest as "no matching
 * TCB level found" for this very quote and TCB info (its
 * TestNegativeRawQuoteVerifyWithCollateral). TEE_TCB_SVN[2] = 4 < 5 (TDX late
 * microcode) would fail the TDX comparison too, but is never reached. The PCK
 * certificate predates the platform's microcode update (the QE report's
 * CPUSVN is 04 04 0d 0f ...): the verifier must judge the PCK's TCB, as both
 * references do. */
static void test_spr_fixture_not_supported(void **state)
{
	struct att_result r;
	json_t *ti = load_json(EV "v4-spr-gotdxguest/collateral/tcbinfo.json");
	json_t *qi = load_json(EV "v4-spr-gotdxguest/collateral/qe_identity.json");

	(void)state;
	put("tcbinfo.json", ti);
	put("qe_identity.json", qi);
	assert_string_equal(status_of("v4-spr-gotdxguest", AT_SPR, &r), "NotSupported");
	assert_false(r.auth_failed);
	assert_false(result_check_ok(&r, "tdx.tcb_level"));
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_level"), "components 3,3,2,2,2,1,0,2, PCESVN 11"));
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_level"), "first short: component 1"));
	assert_string_equal(claim(&r, "qe_tcb_status"), "UpToDate");
	att_result_free(&r);

	/* Component order: a level equal to the PCK's TCB but for component 8
	 * (SEAMLDR ACM, OID .2.8) = 3 is still short exactly there. */
	{
		int s[16];

		memcpy(s, spr_sgx, sizeof(s));
		s[7] = 3;
		set_svns(level(ti, 0), "sgxtcbcomponents", s);
		set_svns(level(ti, 1), "sgxtcbcomponents", s);
		put("tcbinfo.json", ti);
		assert_string_equal(status_of("v4-spr-gotdxguest", AT_SPR, &r), "NotSupported");
		assert_non_null(strstr(result_detail(&r, "tdx.tcb_level"), "first short: component 8"));
		att_result_free(&r);
	}

	/* SGX TCB met by both levels, but TEE_TCB_SVN[2] = 4 below both
	 * levels' TDX component 3 (index 2) = 5: an SGX level, no TDX level,
	 * still NotSupported (QVL: "TDX TCB Level has not been selected"). */
	set_svns(level(ti, 0), "sgxtcbcomponents", spr_sgx);
	set_svns(level(ti, 1), "sgxtcbcomponents", spr_sgx);
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v4-spr-gotdxguest", AT_SPR, &r), "NotSupported");
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_level"), "needs TEE_TCB_SVN[2] >= 5, the quote has 4"));
	att_result_free(&r);

	/* The older level's TDX TCB lowered to the quote's: the SGX level is
	 * the first, the TDX level the second, whose status counts. */
	set_svns(level(ti, 1), "tdxtcbcomponents", spr_tdx);
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v4-spr-gotdxguest", AT_SPR, &r), "OutOfDate");
	assert_true(result_check_ok(&r, "tdx.tcb_level"));
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_level"), "tcbLevels[1] of 2018-01-04"));
	assert_non_null(json_object_get(r.claims, "advisory_ids"));
	att_result_free(&r);

	/* Module SVN (TEE_TCB_SVN[0]) counts while the major version is 0:
	 * a level needing module SVN 4 > 3 is not met. */
	set_svns(level(ti, 0), "tdxtcbcomponents", (const int[16]){ 4, 0, 4 });
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v4-spr-gotdxguest", AT_SPR, &r), "OutOfDate");
	att_result_free(&r);
	set_svns(level(ti, 0), "tdxtcbcomponents", spr_tdx);
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v4-spr-gotdxguest", AT_SPR, &r), "UpToDate");
	assert_true(result_check_ok(&r, "tdx.tcb_info.tdx_module")); /* tdxModule: MRSIGNERSEAM 0, attributes 0 */
	att_result_free(&r);

	/* The levels listed oldest first are judged in QVL's order (highest
	 * TCB first), so the same level matches. */
	{
		json_t *lv = json_object_get(tcb_info(ti), "tcbLevels"), *first = json_incref(level(ti, 0));

		json_array_remove(lv, 0);
		json_array_append_new(lv, first);
		assert_string_equal(json_string_value(json_object_get(level(ti, 0), "tcbStatus")), "OutOfDate");
		put("tcbinfo.json", ti);
		assert_string_equal(status_of("v4-spr-gotdxguest", AT_SPR, &r), "UpToDate");
		att_result_free(&r);
	}

	/* TCB info version 2 describes SGX platforms only: not for a TDX quote. */
	json_object_set_new(tcb_info(ti), "version", json_integer(2));
	put("tcbinfo.json", ti);
	status_of("v4-spr-gotdxguest", AT_SPR, &r);
	assert_false(result_check_ok(&r, "tdx.tcb_info"));
	assert_true(r.auth_failed);
	att_result_free(&r);
	json_decref(ti);
	json_decref(qi);
}

/* The QE identity (QVL EnclaveReportVerifier) and its convergence with an
 * up-to-date platform. */
static void test_qe_identity(void **state)
{
	struct att_result r;
	json_t *ti = load_json(EV "v4-spr-gotdxguest/collateral/tcbinfo.json");
	json_t *qi = load_json(EV "v4-spr-gotdxguest/collateral/qe_identity.json");
	json_t *id = json_object_get(qi, "enclaveIdentity"), *lv = json_object_get(id, "tcbLevels");

	(void)state;
	set_svns(level(ti, 0), "sgxtcbcomponents", spr_sgx);
	set_svns(level(ti, 0), "tdxtcbcomponents", spr_tdx);
	put("tcbinfo.json", ti);
	put("qe_identity.json", qi);
	assert_string_equal(status_of("v4-spr-gotdxguest", AT_SPR, &r), "UpToDate");
	assert_true(result_check_ok(&r, "tdx.qe_identity"));
	att_result_free(&r);

	/* The identity's attributes are compared as given with the masked
	 * report ATTRIBUTES (0x15 & 0xfb = 0x11), not masked themselves. */
	json_object_set_new(id, "attributes", json_string("15000000000000000000000000000000"));
	put("qe_identity.json", qi);
	status_of("v4-spr-gotdxguest", AT_SPR, &r);
	assert_false(result_check_ok(&r, "tdx.qe_identity"));
	assert_true(r.auth_failed);
	att_result_free(&r);
	json_object_set_new(id, "attributes", json_string("11000000000000000000000000000000"));

	/* ISVPRODID 2 is the TD QE's; version 1 identities are SGX-only */
	json_object_set_new(id, "isvprodid", json_integer(1));
	put("qe_identity.json", qi);
	status_of("v4-spr-gotdxguest", AT_SPR, &r);
	assert_false(result_check_ok(&r, "tdx.qe_identity"));
	att_result_free(&r);
	json_object_set_new(id, "isvprodid", json_integer(2));
	json_object_set_new(id, "version", json_integer(1));
	put("qe_identity.json", qi);
	status_of("v4-spr-gotdxguest", AT_SPR, &r);
	assert_false(result_check_ok(&r, "tdx.qe_identity"));
	att_result_free(&r);
	json_object_set_new(id, "version", json_integer(2));

	/* ISVSVN 4: the first level with isvsvn <= 4, in the listed order */
	json_array_insert_new(lv, 0, json_pack("{s:{s:i},s:s,s:s}", "tcb", "isvsvn", 5, "tcbDate",
					       "2024-01-01T00:00:00Z", "tcbStatus", "UpToDate"));
	json_object_set_new(json_array_get(lv, 1), "tcbStatus", json_string("OutOfDate"));
	put("qe_identity.json", qi);
	assert_string_equal(status_of("v4-spr-gotdxguest", AT_SPR, &r), "OutOfDate");
	assert_string_equal(claim(&r, "qe_tcb_status"), "OutOfDate");
	att_result_free(&r);
	/* ... with a ConfigurationNeeded platform: OutOfDateConfigurationNeeded */
	set_status(level(ti, 0), "ConfigurationNeeded");
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v4-spr-gotdxguest", AT_SPR, &r), "OutOfDateConfigurationNeeded");
	att_result_free(&r);
	set_status(level(ti, 0), "UpToDate");
	put("tcbinfo.json", ti);
	/* a revoked QE revokes the whole TCB */
	json_object_set_new(json_array_get(lv, 1), "tcbStatus", json_string("Revoked"));
	put("qe_identity.json", qi);
	assert_string_equal(status_of("v4-spr-gotdxguest", AT_SPR, &r), "Revoked");
	att_result_free(&r);
	/* no level for ISVSVN 4: NotSupported (QVL ISVSVN_NOT_SUPPORTED) */
	json_array_remove(lv, 1);
	put("qe_identity.json", qi);
	assert_string_equal(status_of("v4-spr-gotdxguest", AT_SPR, &r), "NotSupported");
	assert_string_equal(claim(&r, "qe_tcb_status"), "NotSupported");
	att_result_free(&r);
	json_decref(ti);
	json_decref(qi);
}

static json_t *module_identity(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(tcb_info(doc), "tdxModuleIdentities"), i);
}

/* TDX_01's TCB levels: (isvsvn, status) pairs, highest first. */
static void set_module_levels(json_t *doc, int n, const int *isvsvn, const char *const *st)
{
	json_t *id = module_identity(doc, 1), *lv = json_array();

	assert_string_equal(json_string_value(json_object_get(id, "id")), "TDX_01");
	for (int i = 0; i < n; i++)
		json_array_append_new(lv, json_pack("{s:{s:i},s:s,s:s}", "tcb", "isvsvn", isvsvn[i], "tcbDate",
						    "2024-01-01T00:00:00Z", "tcbStatus", st[i]));
	json_object_set_new(id, "tcbLevels", lv);
}

/* v5 quote, TDX module major version 1 (TEE_TCB_SVN[1] > 0): the module is
 * judged by tdxModuleIdentities["TDX_01"], the first two TDX components are
 * skipped, and (TDX 1.5 body) the TD relaunch check applies. */
static void test_module_identity_and_relaunch(void **state)
{
	struct att_result r;
	json_t *ti = load_json(EV "v5-gotdxguest/collateral/tcbinfo.json");

	(void)state;
	put("qe_identity.json", NULL);
	put("tcbinfo.json", ti);
	/* level 0 (2024-11-13): SGX 3,3,2,2,4,1,0,5 PCESVN 13 <= 4,4,2,2,4,1,0,5
	 * / 13; TDX from index 2: 3 <= 4. TDX_01 level isvsvn 6 <= 11. */
	assert_string_equal(status_of("v5-gotdxguest", AT_V5, &r), "UpToDate");
	assert_string_equal(claim(&r, "tdx_module_tcb_status"), "UpToDate");
	att_result_free(&r);

	/* TDX components 0 and 1 are the module's: not compared here */
	set_svns(level(ti, 0), "tdxtcbcomponents", (const int[16]){ 99, 99, 3 });
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v5-gotdxguest", AT_V5, &r), "UpToDate");
	att_result_free(&r);
	/* ... index 2 is: 5 > 4 leaves level 1 (2024-03-13, OutOfDate) */
	set_svns(level(ti, 0), "tdxtcbcomponents", (const int[16]){ 5, 0, 5 });
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v5-gotdxguest", AT_V5, &r), "OutOfDate");
	att_result_free(&r);
	set_svns(level(ti, 0), "tdxtcbcomponents", (const int[16]){ 5, 0, 3 });

	/* the identity's id is matched without regard to case (QVL upper-cases it) */
	json_object_set_new(module_identity(ti, 1), "id", json_string("tdx_01"));
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v5-gotdxguest", AT_V5, &r), "UpToDate");
	assert_true(result_check_ok(&r, "tdx.tcb_info.tdx_module"));
	att_result_free(&r);
	json_object_set_new(module_identity(ti, 1), "id", json_string("TDX_01"));

	/* module SVN 11: the first TDX_01 level with isvsvn <= 11 */
	set_module_levels(ti, 2, (const int[]){ 13, 6 }, (const char *const[]){ "UpToDate", "Revoked" });
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v5-gotdxguest", AT_V5, &r), "Revoked");
	assert_string_equal(claim(&r, "tdx_module_tcb_status"), "Revoked");
	att_result_free(&r);
	set_module_levels(ti, 1, (const int[]){ 12 }, (const char *const[]){ "UpToDate" });
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v5-gotdxguest", AT_V5, &r), "NotSupported");
	att_result_free(&r);

	/* An out-of-date module (11 < 13) on an up-to-date platform is
	 * OutOfDate, unless the TD would get an up-to-date module by being
	 * relaunched: TEE_TCB_SVN2 = 0d 01 04 (module SVN 13, major 1, [2] 4)
	 * reaches TDX_01's latest level (isvsvn 13) and the latest TCB level's
	 * TDX component 2 (3): TDRelaunchAdvised (QVL TDRelaunchCheck). */
	set_module_levels(ti, 2, (const int[]){ 13, 6 }, (const char *const[]){ "UpToDate", "OutOfDate" });
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v5-gotdxguest", AT_V5, &r), "TDRelaunchAdvised");
	assert_string_equal(claim(&r, "tdx_module_tcb_status"), "OutOfDate");
	assert_false(result_check_ok(&r, "tdx.tcb_status"));
	att_result_free(&r);
	/* ... with a ConfigurationNeeded platform level */
	set_status(level(ti, 0), "ConfigurationNeeded");
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v5-gotdxguest", AT_V5, &r), "TDRelaunchAdvisedConfigurationNeeded");
	att_result_free(&r);
	/* TEE_TCB_SVN2's module SVN 13 < 14: relaunching does not help */
	set_module_levels(ti, 2, (const int[]){ 14, 6 }, (const char *const[]){ "UpToDate", "OutOfDate" });
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v5-gotdxguest", AT_V5, &r), "OutOfDateConfigurationNeeded");
	att_result_free(&r);
	set_status(level(ti, 0), "UpToDate");
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v5-gotdxguest", AT_V5, &r), "OutOfDate");
	att_result_free(&r);

	/* no identity for major version 1: the module is unknown (QVL
	 * TDX_MODULE_MISMATCH), never UpToDate through the tdxModule entry */
	json_object_set_new(module_identity(ti, 1), "id", json_string("TDX_02"));
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v5-gotdxguest", AT_V5, &r), "NotSupported");
	assert_false(result_check_ok(&r, "tdx.tcb_info.tdx_module"));
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_info.tdx_module"), "TDX_01"));
	assert_true(r.auth_failed);
	att_result_free(&r);
	json_object_del(tcb_info(ti), "tdxModuleIdentities");
	put("tcbinfo.json", ti);
	assert_string_equal(status_of("v5-gotdxguest", AT_V5, &r), "NotSupported");
	assert_true(r.auth_failed);
	att_result_free(&r);
	json_decref(ti);
}

/* A malformed level (15 components, an SVN over 255) is reported, not
 * guessed at. */
static void test_malformed_levels(void **state)
{
	struct att_result r;
	json_t *ti = load_json(EV "v5-gotdxguest/collateral/tcbinfo.json");
	json_t *arr = json_object_get(json_object_get(level(ti, 1), "tcb"), "sgxtcbcomponents");

	(void)state;
	put("qe_identity.json", NULL);
	json_array_remove(arr, 15);
	put("tcbinfo.json", ti);
	assert_null(status_of("v5-gotdxguest", AT_V5, &r));
	assert_false(result_check_ok(&r, "tdx.tcb_info"));
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_info"), "tcbLevels[1]"));
	att_result_free(&r);
	json_array_append_new(arr, json_pack("{s:i}", "svn", 256));
	put("tcbinfo.json", ti);
	assert_null(status_of("v5-gotdxguest", AT_V5, &r));
	assert_false(result_check_ok(&r, "tdx.tcb_info"));
	att_result_free(&r);
	json_decref(ti);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cvmm-tdx-tcb.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	put("tcbinfo.json", NULL);
	put("qe_identity.json", NULL);
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spr_fixture_not_supported),
		cmocka_unit_test(test_qe_identity),
		cmocka_unit_test(test_module_identity_and_relaunch),
		cmocka_unit_test(test_malformed_levels),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
