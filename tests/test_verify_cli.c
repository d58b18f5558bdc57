/* CLI tests: `cvmm verify` and `cvmm show` run as a program (the binary
 * named by $CVMM, else the cvmm next to this test's build directory): exit
 * codes 0/1/2, JSON result shape, flags merged into the policy (--nonce,
 * --expect-measurement, --policy), --at, and bad input (one line on stderr,
 * exit 2, nothing on stdout). */
#include <errno.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/common.h"
#include "cli_run.h"

#define SNP "tests/fixtures/evidence/snp"
#define VIRTEE SNP "/milan-virtee"
#define GOSEV SNP "/milan-gosevguest"
#define VLEK SNP "/milan-vlek-trustee"
#define VIRTEE_MEAS "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f"

static char tmpdir[] = "/tmp/cvmm-verify-cli-XXXXXX";

static json_t *run_json(const char *const *args, int want_code)
{
	struct cli_result r;
	json_error_t jerr;
	json_t *j;

	cli_run(&r, args);
	if (r.code != want_code)
		fail_msg("exit %d, want %d; stderr: %s", r.code, want_code, r.err);
	j = json_loads(r.out, 0, &jerr);
	assert_non_null(j);
	cli_free(&r);
	return j;
}

static const json_t *check(const json_t *res, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(res, "checks"), i, c) if (!strcmp(json_string_value(json_object_get(c, "name")), name)) return c;
	fail_msg("no check %s", name);
	return NULL;
}

static bool ok(const json_t *res, const char *name)
{
	return json_is_true(json_object_get(check(res, name), "ok"));
}

static const char *status(const json_t *res)
{
	return json_string_value(json_object_get(res, "status"));
}

static void test_verify_json(void **state)
{
	const char *a[] = { "verify", "--report", VIRTEE "/report.bin", "--certs", VIRTEE, "--json", NULL };
	json_t *j;

	(void)state;
	j = run_json(a, 0);
	assert_string_equal(status(j), "affirming");
	assert_string_equal(json_string_value(json_object_get(j, "platform")), "snp");
	assert_true(ok(j, "report_signature"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "claims"), "measurement")), VIRTEE_MEAS);
	json_decref(j);

	/* debug allowed: warning, exit 0; with a policy forbidding it: exit 1 */
	const char *b[] = { "verify", "--report", GOSEV "/report.bin", "--certs", GOSEV, "--json", NULL };
	j = run_json(b, 0);
	assert_string_equal(status(j), "warning");
	assert_false(ok(j, "debug"));
	json_decref(j);

	char policy[256];
	snprintf(policy, sizeof(policy), "%s/policy.json", tmpdir);
	const char *ptext = "{\"snp\": {\"allow_debug\": false, \"vmpl\": 0}, \"tdx\": {\"allow_debug\": false}}";
	assert_int_equal(file_write(policy, ptext, strlen(ptext)), 0);
	const char *c[] = { "verify", "--report", GOSEV "/report.bin", "--certs", GOSEV, "--policy", policy, "--json", NULL };
	j = run_json(c, 1);
	assert_string_equal(status(j), "contraindicated");
	assert_false(ok(j, "debug"));
	assert_true(ok(j, "vmpl"));
	json_decref(j);
}

static void test_expect_measurement_and_nonce(void **state)
{
	json_t *j;

	(void)state;
	const char *a[] = { "verify", "--report", VIRTEE "/report.bin", "--certs", VIRTEE, "--json",
			    "--expect-measurement", "00" VIRTEE_MEAS + 2, "--expect-measurement", VIRTEE_MEAS, NULL };
	j = run_json(a, 0);
	assert_true(ok(j, "measurement"));
	json_decref(j);
	const char *b[] = { "verify", "--report", GOSEV "/report.bin", "--certs", GOSEV, "--json",
			    "--expect-measurement", VIRTEE_MEAS, NULL };
	j = run_json(b, 1);
	assert_false(ok(j, "measurement"));
	json_decref(j);
	/* report_data is not SHA-512 of this nonce */
	const char *c[] = { "verify", "--report", VIRTEE "/report.bin", "--certs", VIRTEE, "--json", "--nonce",
			    "0102030405", NULL };
	j = run_json(c, 1);
	assert_false(ok(j, "report_data"));
	json_decref(j);
}

static void test_at_and_vlek(void **state)
{
	json_t *j;

	(void)state;
	const char *a[] = { "verify", "--report", VLEK "/report.bin", "--certs", VLEK, "--json", "--at", "2025-06-01", NULL };
	j = run_json(a, 0);
	assert_true(ok(j, "vlek"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "claims"), "signing_key")), "vlek");
	json_decref(j);
	const char *b[] = { "verify", "--report", VIRTEE "/report.bin", "--certs", VIRTEE, "--json", "--at", "2099-01-01T00:00:00Z", NULL };
	j = run_json(b, 1);
	assert_false(ok(j, "cert_validity"));
	json_decref(j);
	const char *c[] = { "verify", "--report", VIRTEE "/report.bin", "--certs", VIRTEE, "--json", "--at", "@946684800", NULL };
	j = run_json(c, 1);
	assert_false(ok(j, "cert_validity"));
	json_decref(j);
}

static void test_human_output(void **state)
{
	struct cli_result r;
	const char *a[] = { "verify", "--report", VIRTEE "/report.bin", "--certs", VIRTEE, NULL };

	(void)state;
	cli_run(&r, a);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "affirming"));
	assert_non_null(strstr(r.out, VIRTEE_MEAS));
	assert_int_equal(r.err_len, 0);
	cli_free(&r);
}

/* Input errors: exit 2, one line on stderr, nothing on stdout. */
static void test_bad_input(void **state)
{
	char trunc[256], badver[256], policy[256];
	size_t len;
	uint8_t *rep;

	(void)state;
	assert_int_equal(file_read(VIRTEE "/report.bin", 1 << 20, &rep, &len), 0);
	snprintf(trunc, sizeof(trunc), "%s/trunc.bin", tmpdir);
	assert_int_equal(file_write(trunc, rep, 600), 0);
	snprintf(badver, sizeof(badver), "%s/badver.bin", tmpdir);
	put_le32(rep, 9);
	assert_int_equal(file_write(badver, rep, len), 0);
	free(rep);
	snprintf(policy, sizeof(policy), "%s/bad-policy.json", tmpdir);
	const char *bad = "{\"snp\": {\"measurement\": []}}";
	assert_int_equal(file_write(policy, bad, strlen(bad)), 0);

	const char *cases[][12] = {
		{ "verify", "--report", trunc, "--certs", VIRTEE, NULL },
		{ "verify", "--report", badver, "--certs", VIRTEE, NULL },
		{ "verify", "--report", "/nonexistent/report.bin", NULL },
		{ "verify", NULL },
		{ "verify", "--report", VIRTEE "/report.bin", "--quote", VIRTEE "/report.bin", NULL },
		{ "verify", "--report", VIRTEE "/report.bin", "--expect-measurement", "abcd", NULL },
		{ "verify", "--report", VIRTEE "/report.bin", "--nonce", "xyz", NULL },
		{ "verify", "--report", VIRTEE "/report.bin", "--at", "yesterday", NULL },
		{ "verify", "--report", VIRTEE "/report.bin", "--policy", policy, NULL },
		{ "verify", "--report", VIRTEE "/report.bin", "--bogus", NULL },
		{ "verify", "--report", VIRTEE "/report.bin", "--event-log", "x", NULL },
		{ "show", trunc, NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cli_result r;

		cli_run(&r, cases[i]);
		if (r.code != 2)
			fail_msg("case %zu: exit %d, want 2 (stderr: %s)", i, r.code, r.err);
		assert_int_equal(r.out_len, 0);
		assert_true(r.err_len > 0);
		assert_non_null(strchr(r.err, '\n'));
		assert_ptr_equal(strchr(r.err, '\n'), r.err + r.err_len - 1); /* one line */
		assert_true(!strncmp(r.err, "cvmm verify: ", 13) || !strncmp(r.err, "cvmm show: ", 11));
		cli_free(&r);
	}
	/* the messages name the problem */
	struct cli_result r;
	const char *v[] = { "verify", "--report", badver, NULL };
	cli_run(&r, v);
	assert_non_null(strstr(r.err, "VERSION 9"));
	cli_free(&r);
	const char *p[] = { "verify", "--report", VIRTEE "/report.bin", "--policy", policy, NULL };
	cli_run(&r, p);
	assert_non_null(strstr(r.err, "snp.measurement"));
	cli_free(&r);
}

static void test_evidence_invalid_exit_1(void **state)
{
	char flipped[256];
	size_t len;
	uint8_t *rep;
	json_t *j;

	(void)state;
	assert_int_equal(file_read(VIRTEE "/report.bin", 1 << 20, &rep, &len), 0);
	rep[0x2A0] ^= 0xff;
	snprintf(flipped, sizeof(flipped), "%s/flipped.bin", tmpdir);
	assert_int_equal(file_write(flipped, rep, len), 0);
	free(rep);
	const char *a[] = { "verify", "--report", flipped, "--certs", VIRTEE, "--json", NULL };
	j = run_json(a, 1);
	assert_false(ok(j, "report_signature"));
	json_decref(j);
	/* wrong VCEK */
	const char *b[] = { "verify", "--report", VIRTEE "/report.bin", "--certs", GOSEV, "--json", NULL };
	j = run_json(b, 1);
	assert_false(ok(j, "vek_chip_id"));
	json_decref(j);
	/* no certificates at all */
	const char *c[] = { "verify", "--report", VIRTEE "/report.bin", "--json", NULL };
	j = run_json(c, 1);
	assert_false(ok(j, "vek_present"));
	json_decref(j);
}

static void test_show(void **state)
{
	struct cli_result r;
	json_t *j;

	(void)state;
	const char *a[] = { "show", VIRTEE "/report.bin", NULL };
	cli_run(&r, a);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "Measurement:"));
	assert_non_null(strstr(r.out, "Reported TCB"));
	assert_non_null(strstr(r.out, " 7a 1e 5c 26"));
	cli_free(&r);
	const char *b[] = { "show", VLEK "/report.bin", "--json", NULL };
	j = run_json(b, 0);
	assert_string_equal(json_string_value(json_object_get(j, "signing_key")), "vlek");
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 3);
	assert_string_equal(json_string_value(json_object_get(j, "product")), "milan");
	json_decref(j);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const names[] = { "policy.json", "bad-policy.json", "trunc.bin",
					     "badver.bin", "flipped.bin" };
	char p[512];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_json),	 cmocka_unit_test(test_expect_measurement_and_nonce),
		cmocka_unit_test(test_at_and_vlek),	 cmocka_unit_test(test_human_output),
		cmocka_unit_test(test_bad_input),	 cmocka_unit_test(test_evidence_invalid_exit_1),
		cmocka_unit_test(test_show),
	};
	(void)argc;
	if (cli_locate(argv[0]))
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
