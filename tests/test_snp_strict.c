/* test_snp_strict.c - the fail-closed SNP policy (docs/verify.md "Strict
 * verification"): require_crl (a missing CRL is recorded either way),
 * collateral_grace_period on the CRL, "strict" turning warnings (DEBUG,
 * out-of-date TCB, expired certificates, stale CRL) into refusals, and the
 * keys that accept each one (snp.allow_debug, snp.allow_outdated_tcb,
 * snp.allow_expired_certs). Reports are made and signed here with a test
 * chain (tests/snp_test_chain.h); the `cvmm verify --strict` flag on a real
 * fixture (the milan-virtee report has DEBUG clear but its VCEK chain is
 * judged with no CRL). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/att_checks.h"
#include "tests/snp_test_chain.h"

static const struct t_tcb tcb = { 3, 0, 8, 115 };
static struct t_chain C, EXPIRED;

static int setup(void **state)
{
	(void)state;
	t_chain_make(&C, &tcb, 86400L * 365);
	t_chain_make(&EXPIRED, &tcb, -86400L); /* the VCEK expired yesterday */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_chain_free(&C);
	t_chain_free(&EXPIRED);
	return 0;
}

static void good_report(uint8_t rep[1184], EVP_PKEY *key)
{
	t_report_init(rep, &tcb);
	t_report_sign(rep, key);
}

static void test_baseline_affirming(void **state)
{
	uint8_t rep[1184];
	struct att_result r;

	(void)state;
	good_report(rep, C.vek_key);
	assert_int_equal(t_verify(rep, &C, "{\"strict\": true}", &r), 0);
	assert_true(result_check_ok(&r, "report_signature"));
	assert_true(result_check_ok(&r, "crl")); /* recorded: not checked */
	assert_non_null(strstr(result_detail(&r, "crl"), "not checked"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);
}

static void test_require_crl(void **state)
{
	uint8_t rep[1184];
	struct att_result r;
	char path[128];

	(void)state;
	good_report(rep, C.vek_key);
	assert_int_equal(t_verify(rep, &C, "{\"require_crl\": true}", &r), 0);
	assert_false(result_check_ok(&r, "crl"));
	assert_non_null(strstr(result_detail(&r, "crl"), "require_crl"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);

	t_chain_crl(&C, 86400);
	assert_int_equal(t_verify(rep, &C, "{\"require_crl\": true}", &r), 0);
	assert_true(result_check_ok(&r, "crl"));
	assert_true(result_check_ok(&r, "crl_current"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);
	snprintf(path, sizeof(path), "%s/crl.pem", C.dir);
	unlink(path);
}

static void test_grace_period(void **state)
{
	uint8_t rep[1184];
	struct att_result r;
	char path[128];

	(void)state;
	good_report(rep, C.vek_key);
	t_chain_crl(&C, -3600); /* nextUpdate an hour ago */
	/* no rule: a warning */
	assert_int_equal(t_verify(rep, &C, NULL, &r), 0);
	assert_false(result_check_ok(&r, "crl_current"));
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	att_result_free(&r);
	/* strict without a grace period: refused */
	assert_int_equal(t_verify(rep, &C, "{\"strict\": true}", &r), 0);
	assert_false(result_check_ok(&r, "crl_current"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	/* grace 0: nothing expired accepted */
	assert_int_equal(t_verify(rep, &C, "{\"collateral_grace_period\": 0}", &r), 0);
	assert_false(result_check_ok(&r, "crl_current"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	/* two hours of grace: accepted, even under strict */
	assert_int_equal(t_verify(rep, &C, "{\"collateral_grace_period\": 7200, \"strict\": true}", &r), 0);
	assert_true(result_check_ok(&r, "crl_current"));
	assert_non_null(strstr(result_detail(&r, "crl_current"), "grace"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);
	snprintf(path, sizeof(path), "%s/crl.pem", C.dir);
	unlink(path);
}

static void test_strict_debug(void **state)
{
	uint8_t rep[1184];
	struct att_result r;

	(void)state;
	t_report_init(rep, &tcb);
	put_le64(rep + 0x08, 0x30000 | (1ull << 19)); /* DEBUG */
	t_report_sign(rep, C.vek_key);
	assert_int_equal(t_verify(rep, &C, NULL, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	att_result_free(&r);
	assert_int_equal(t_verify(rep, &C, "{\"strict\": true}", &r), 0);
	assert_false(result_check_ok(&r, "debug"));
	assert_non_null(strstr(result_detail(&r, "debug"), "[strict: refused]"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	assert_int_equal(t_verify(rep, &C, "{\"strict\": true, \"snp\": {\"allow_debug\": true}}", &r), 0);
	assert_true(result_check_ok(&r, "debug"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);
}

static void test_strict_outdated_tcb(void **state)
{
	uint8_t rep[1184];
	struct att_result r;
	struct t_tcb newer = tcb;

	(void)state;
	newer.snp = 9;
	t_report_init(rep, &tcb);
	t_put_tcb(rep + 0x1E0, &newer); /* COMMITTED_TCB above REPORTED_TCB */
	t_put_tcb(rep + 0x38, &newer);	/* CURRENT too */
	t_report_sign(rep, C.vek_key);
	assert_int_equal(t_verify(rep, &C, NULL, &r), 0);
	assert_false(result_check_ok(&r, "tcb_current"));
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	att_result_free(&r);
	assert_int_equal(t_verify(rep, &C, "{\"strict\": true}", &r), 0);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	assert_int_equal(t_verify(rep, &C, "{\"strict\": true, \"snp\": {\"allow_outdated_tcb\": true}}", &r), 0);
	assert_true(result_check_ok(&r, "tcb_current"));
	assert_non_null(strstr(result_detail(&r, "tcb_current"), "accepted by snp.allow_outdated_tcb"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);
	/* false: a requirement even without strict */
	assert_int_equal(t_verify(rep, &C, "{\"snp\": {\"allow_outdated_tcb\": false}}", &r), 0);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
}

static void test_strict_expired_certs(void **state)
{
	uint8_t rep[1184];
	struct att_result r;

	(void)state;
	good_report(rep, EXPIRED.vek_key);
	assert_int_equal(t_verify(rep, &EXPIRED, NULL, &r), 0);
	assert_false(result_check_ok(&r, "cert_validity"));
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	att_result_free(&r);
	assert_int_equal(t_verify(rep, &EXPIRED, "{\"strict\": true}", &r), 0);
	assert_false(result_check_ok(&r, "cert_validity"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	assert_int_equal(t_verify(rep, &EXPIRED, "{\"strict\": true, \"snp\": {\"allow_expired_certs\": true}}", &r), 0);
	assert_true(result_check_ok(&r, "cert_validity"));
	assert_non_null(strstr(result_detail(&r, "cert_validity"), "has expired"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);
}

static void test_policy_file_keys(void **state)
{
	static const struct {
		const char *text, *error;
	} bad[] = {
		{ "{\"strict\": 1}", "\"strict\" must be true or false" },
		{ "{\"require_crl\": \"yes\"}", "\"require_crl\" must be true or false" },
		{ "{\"collateral_grace_period\": -1}", "collateral_grace_period" },
		{ "{\"collateral_grace_period\": \"1d\"}", "collateral_grace_period" },
		{ "{\"strictness\": true}", "unknown key \"strictness\"" },
	};
	char path[] = "/tmp/cvmm-policy-XXXXXX";
	int fd = mkstemp(path);
	json_t *p;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(file_write(path, bad[i].text, strlen(bad[i].text)), 0);
		assert_int_equal(att_policy_load(path, &p), -EINVAL);
		if (!strstr(err_msg(), bad[i].error))
			fail_msg("%s: %s", bad[i].text, err_msg());
	}
	assert_int_equal(file_write(path, "{\"strict\": true, \"require_crl\": false, \"collateral_grace_period\": 0}", 68),
			 0);
	assert_int_equal(att_policy_load(path, &p), 0);
	assert_true(att_policy_bool(p, "strict"));
	assert_false(att_policy_bool(p, "require_crl"));
	assert_int_equal(att_policy_grace(p), 0);
	json_decref(p);
	assert_int_equal(att_policy_grace(NULL), -1);
	unlink(path);
}

/* Run att_cli_verify with stdout to a file; returns the exit status. */
static int cli(const char *const *args)
{
	char *argv[24];
	int argc = 0, saved = dup(1), fd = open("/dev/null", O_WRONLY), code;

	argv[argc++] = "verify";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	fflush(stdout);
	dup2(fd, 1);
	close(fd);
	code = att_cli_verify(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	return code;
}

/* `cvmm verify --strict` on a real report with DEBUG allowed (milan-gosevguest). */
static void test_cli_strict(void **state)
{
	static const char *const plain[] = { "--report", "tests/fixtures/evidence/snp/milan-gosevguest/report.bin",
					     "--certs", "tests/fixtures/evidence/snp/milan-gosevguest", NULL };
	static const char *const strict[] = { "--report", "tests/fixtures/evidence/snp/milan-gosevguest/report.bin",
					      "--certs", "tests/fixtures/evidence/snp/milan-gosevguest", "--strict", NULL };
	char path[] = "/tmp/cvmm-strict-policy-XXXXXX";
	int fd = mkstemp(path);
	const char *accept[] = { "--report", "tests/fixtures/evidence/snp/milan-gosevguest/report.bin", "--certs",
				 "tests/fixtures/evidence/snp/milan-gosevguest", "--strict", "--policy", path, NULL };

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cli(plain), 0);  /* a warning */
	assert_int_equal(cli(strict), 1); /* refused */
	assert_int_equal(file_write(path, "{\"snp\": {\"allow_debug\": true}}", 30), 0);
	assert_int_equal(cli(accept), 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_affirming), cmocka_unit_test(test_require_crl),
		cmocka_unit_test(test_grace_period),	   cmocka_unit_test(test_strict_debug),
		cmocka_unit_test(test_strict_outdated_tcb), cmocka_unit_test(test_strict_expired_certs),
		cmocka_unit_test(test_policy_file_keys), cmocka_unit_test(test_cli_strict),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
