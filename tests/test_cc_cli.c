/* test_cc_cli.c - `cvmm run` for the hardware platforms, the parts issue 11
 * added after the launch itself: the refusal on a host without the
 * hardware (one line naming what is missing, exit 2), --launch-secret in the
 * recorded dry run (KVM_SEV_LAUNCH_SECRET between LAUNCH_MEASURE and
 * LAUNCH_FINISH, at OVMF's SEV secret area 0x810000 of the fixture image,
 * whose footer GUID table entry 4c2eb361-... holds base 0x810000, size
 * 0xc00), its bad inputs, --tdx-qgs, and --platform auto's choice line. */
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

#include "tests/cli_run.h"

#define FIX "tests/fixtures/measure/"
#define OVMF FIX "firmware/OVMF.amdsev-2026.08+ds-2.fd"
#define TDVF FIX "firmware/OVMF.inteltdx.ms-2026.08+ds-2.fd"
#define SEV_ES_DIGEST "0a6ab7bc78d7ad6b76210f22cdd720eef4676549bbade8fef3f260778a980932"

static char dir[64], path[128], jsonl[128];

static const char *file(const char *name, const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	return path;
}

static bool one_line(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '\n' && !memchr(s, '\n', n - 1);
}

/* Without --dry-run on a host without the hardware: exit 2, one line that
 * says which platform and what is missing (here: KVM itself; in the nested
 * L1: the VM type or /dev/sev). */
static void test_refusal(void **state)
{
	static const char *const plat[] = { "snp", "sev-es", "sev", "tdx" };
	struct cli_result r;
	char want[64];

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		const char *args[] = { "run", "--platform", plat[i], "--firmware", i == 3 ? TDVF : OVMF, "--vcpus", "2",
				       "--vcpu-type", "EPYC-v4", NULL };

		if (i == 3)
			args[7] = NULL;
		cli_run(&r, args);
		assert_int_equal(r.code, 2);
		assert_true(one_line(r.err));
		snprintf(want, sizeof(want), "cvmm run: --platform %s: ", plat[i]);
		if (strncmp(r.err, want, strlen(want)))
			fail_msg("%s", r.err);
		assert_true(strstr(r.err, "/dev/kvm is missing") || strstr(r.err, "does not offer") ||
			    strstr(r.err, "/dev/sev is missing"));
		assert_int_equal(r.out_len, 0);
		cli_free(&r);
	}
}

static void test_launch_secret_dry_run(void **state)
{
	/* 52-byte header of 0x01, 32-byte secret of 0x02 */
	const char *secret = file("secret.json", "{\"packet-header\": \"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ==\","
						 " \"secret\": \"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\"}");
	const char *args[] = { "run", "--platform", "sev-es", "--firmware", OVMF, "--kernel",
			       FIX "boot/vmlinuz-6.1.0-56-cloud-amd64", "--initrd", FIX "boot/initrd-fixture.cpio.gz",
			       "--cmdline", "console=ttyS0", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--mem", "1G",
			       "--launch-secret", secret, "--dry-run", jsonl, NULL };
	struct cli_result r;
	char *buf = NULL, last[3][64] = { "", "", "" };
	size_t cap = 0;
	json_t *sec = NULL;
	FILE *f;

	(void)state;
	cli_run(&r, args);
	if (r.code)
		fail_msg("%s", r.err);
	assert_string_equal(r.out, SEV_ES_DIGEST "\n"); /* the secret is not measured */
	cli_free(&r);
	assert_non_null(f = fopen(jsonl, "r"));
	while (getline(&buf, &cap, f) > 0) {
		json_t *o = json_loads(buf, 0, NULL);
		const char *c = json_string_value(json_object_get(o, "cmd"));

		assert_non_null(o);
		memmove(last[0], last[1], 128);
		snprintf(last[2], sizeof(last[2]), "%s", c ? c : json_string_value(json_object_get(o, "ioctl")));
		if (c && !strcmp(c, "KVM_SEV_LAUNCH_SECRET"))
			sec = json_incref(o);
		json_decref(o);
	}
	free(buf);
	fclose(f);
	assert_string_equal(last[0], "KVM_SEV_LAUNCH_MEASURE");
	assert_string_equal(last[1], "KVM_SEV_LAUNCH_SECRET");
	assert_string_equal(last[2], "KVM_SEV_LAUNCH_FINISH");
	assert_non_null(sec);
	assert_int_equal(json_integer_value(json_object_get(sec, "gpa")), 0x810000);
	assert_int_equal(json_integer_value(json_object_get(sec, "hdr_len")), 52);
	assert_int_equal(json_integer_value(json_object_get(sec, "trans_len")), 32);
	assert_int_equal(json_integer_value(json_object_get(sec, "guest_len")), 32);
	json_decref(sec);
}

static void test_launch_secret_bad(void **state)
{
	static const struct { const char *text; const char *platform; const char *msg; } c[] = {
		{ "{", "sev", "--launch-secret " },
		{ "{\"secret\": \"AA==\"}", "sev", "want {\"packet-header\"" },
		{ "{\"packet-header\": \"AQ==\", \"secret\": \"AA==\"}", "sev", "a packet header of 1 bytes (need 52)" },
		{ "{\"packet-header\": \"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ==\", \"secret\": \"AA==\", "
		  "\"gpa\": 7}", "sev", "\"gpa\" must be a 16-byte aligned address" },
		{ "{\"packet-header\": \"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ==\", \"secret\": \"AA==\", "
		  "\"gpa\": 1099511627776}", "sev", "there are not guest memory" },
		{ "{\"packet-header\": \"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ==\", \"secret\": \"AA==\"}",
		  "snp", "--launch-secret is for --platform sev and sev-es" },
	};
	struct cli_result r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		const char *secret = file("bad.json", c[i].text);

		unlink(jsonl);
		const char *args[] = { "run", "--platform", c[i].platform, "--firmware", OVMF, "--vcpus", "1",
				       "--vcpu-type", "EPYC-v4", "--launch-secret", secret, "--dry-run", jsonl, NULL };

		cli_run(&r, args);
		assert_int_equal(r.code, 2);
		assert_true(one_line(r.err));
		if (!strstr(r.err, c[i].msg))
			fail_msg("case %zu: %s", i, r.err);
		assert_int_equal(access(jsonl, F_OK), -1); /* no half-written file */
		cli_free(&r);
	}
}

static void test_tdx_qgs_flag(void **state)
{
	const char *bad[] = { "run", "--platform", "tdx", "--firmware", TDVF, "--tdx-qgs", "tcp:1:2", "--dry-run", jsonl,
			      NULL };
	const char *good[] = { "run", "--platform", "tdx", "--firmware", TDVF, "--tdx-qgs", "vsock:2:4050", "--dry-run",
			       jsonl, NULL };
	struct cli_result r;

	(void)state;
	cli_run(&r, bad);
	assert_int_equal(r.code, 2);
	assert_string_equal(r.err, "cvmm run: --tdx-qgs tcp:1:2: expected unix:PATH or vsock:CID:PORT\n");
	cli_free(&r);
	cli_run(&r, good); /* accepted; the dry run stops before any GetQuote */
	assert_int_equal(r.code, 0);
	assert_int_equal(r.out_len, 97);
	cli_free(&r);
}

/* --platform auto on this host: KVM (or nothing) without SEV/TDX -> kvm,
 * said on stderr; the kvm path then goes on with its own checks. */
static void test_auto(void **state)
{
	const char *args[] = { "run", "--platform", "auto", "--kernel", "/nonexistent/bzImage", NULL };
	struct cli_result r;

	(void)state;
	if (!access("/dev/sev", F_OK) || !access("/sys/module/kvm_intel/parameters/tdx", F_OK))
		skip(); /* a host that may have hardware: the choice is not ours to predict */
	cli_run(&r, args);
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err, "cvmm run: --platform auto: kvm (no confidential hardware platform: snp needs "));
	cli_free(&r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_launch_secret_dry_run),
		cmocka_unit_test(test_launch_secret_bad),
		cmocka_unit_test(test_tdx_qgs_flag),
		cmocka_unit_test(test_auto),
	};
	char cmd[128];
	int rc;

	if (cli_locate(argv[0]))
		return 1;
	(void)argc;
	snprintf(dir, sizeof(dir), "/tmp/test_cc_cli.%d", (int)getpid());
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(jsonl, sizeof(jsonl), "%s/t.jsonl", dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		rc = rc ? rc : 1;
	return rc;
}
