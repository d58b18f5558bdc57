/* CLI tests: `cvmm measure` run as a program (the binary named by $CVMM, else
 * the cvmm next to this test's build directory): digests, output formats,
 * --json, --trace, --dump-vmsa, and bad input (one line on stderr, exit 2,
 * nothing on stdout). */
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

#include "common/common.h"
#include "cli_run.h"

#define FIX "tests/fixtures/measure/"
#define FW_DEB FIX "firmware/OVMF-2022.11-6+deb12u2.fd"
#define FW_SEV FIX "firmware/OVMF.amdsev-2026.08+ds-2.fd"
#define FW_TDX FIX "firmware/OVMF.inteltdx.ms-2026.08+ds-2.fd"
#define KERNEL FIX "boot/vmlinuz-6.1.0-56-cloud-amd64"
#define INITRD FIX "boot/initrd-fixture.cpio.gz"
/* snp-expected.tsv rows 1 and 8 */
#define ROW1 "11570979c77a0adb515761a702527c8b9e11554e730552621d950988613a3a75c6ff1703f540bd22a9beede8fe7a97e3"
#define ROW8 "d83f8337782bfb620df1b80f17f85a4ba4e111d18ee6e0ea526db34dbd90e16b358075d9fb7b3524deff8b4a630fe0f6"

static char tmpdir[] = "/tmp/cvmm-snp-cli-XXXXXX";
static char *out_text, *err_text;

/* Run cvmm measure ARGS...; returns the exit status, output in out_text/err_text. */
static int run(const char *first, ...)
{
	const char *args[64] = { "measure" };
	struct cli_result r;
	int n = 1;
	va_list ap;

	va_start(ap, first);
	for (const char *a = first; a && n < 63; a = va_arg(ap, const char *))
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	cli_run(&r, args);
	free(out_text);
	free(err_text);
	out_text = r.out;
	err_text = r.err;
	return r.code;
}

static void expect_usage_error(const char *msg)
{
	assert_string_equal(out_text, "");
	assert_true(!strncmp(err_text, "cvmm measure: ", 14));
	assert_non_null(strchr(err_text, '\n'));
	assert_string_equal(strchr(err_text, '\n'), "\n");
	if (!strstr(err_text, msg))
		fail_msg("stderr '%s' does not mention '%s'", err_text, msg);
}

static void test_digest_hex_and_aliases(void **state)
{
	(void)state;
	assert_int_equal(run("--mode", "snp", "--ovmf", FW_DEB, "--vcpus", "1", "--vcpu-type", "EPYC-v4",
			     "--guest-features", "0x1", "--vmm-type", "QEMU", NULL), 0);
	assert_string_equal(out_text, ROW1 "\n");
	assert_string_equal(err_text, "");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", "1", "--vcpu-family", "23",
			     "--vcpu-model", "1", "--vcpu-stepping", "2", "--vmm-type", "qemu", NULL), 0);
	assert_string_equal(out_text, ROW1 "\n");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", "1", "--vcpu-sig", "0x800f12",
			     NULL), 0);
	assert_string_equal(out_text, ROW1 "\n");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_SEV, "--kernel", KERNEL, "--initrd", INITRD,
			     "--append", "console=ttyS0", "--vcpus", "1", "--vcpu-type", "EPYC-v4", NULL), 0);
	assert_string_equal(out_text, ROW8 "\n");
	assert_int_equal(run("--mode", "snp", "--ovmf", FW_DEB, "--vcpus", "1", "--vcpu-type", "EPYC-v4", "-v", NULL),
			 0);
	assert_string_equal(out_text, "Calculated SEV_SNP guest measurement: " ROW1 "\n");
	assert_int_equal(run("--platform", "sev", "--firmware", FW_DEB, NULL), 0);
	assert_string_equal(out_text, "7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773\n");
}

/* More combinations than the fixture table (other vCPU counts, types, VMM
 * types, features, firmware); expected values computed with
 * virtee/sev-snp-measure 8f2b337 using the same flags. */
static void test_more_cases(void **state)
{
	(void)state;
	assert_int_equal(run("--mode", "snp", "--ovmf", FW_TDX, "--vcpus", "3", "--vcpu-type", "EPYC-Milan-v2",
			     "--vmm-type", "ec2", NULL), 0);
	assert_string_equal(out_text, "d12a31c71fd772cc66b19b8ef1bb08f4f649a615b5717f06d61928decac4b40319e4acba291064e3"
				      "9fd52e69d6e1e9cf\n");
	assert_int_equal(run("--mode", "snp", "--ovmf", FW_TDX, "--vcpus", "5", "--vcpu-type", "EPYC-Genoa",
			     "--vmm-type", "gce", "--guest-features", "0x3f", NULL), 0);
	assert_string_equal(out_text, "166aad0b2a078ff20bc155e07d60e6223959887e801760cf547e26f43ba0f2ac0490e0d29e40d2fe"
				      "63230137d0c21b7d\n");
	assert_int_equal(run("--mode", "snp", "--ovmf", FW_DEB, "--vcpus", "64", "--vcpu-sig", "0xa10f11",
			     "--guest-features", "0x0", NULL), 0);
	assert_string_equal(out_text, "19c49c000b0135028dc2539d6cedfca9229ab5117059fde283f0333d1826db02c9ae6cb70313bd4b"
				      "3be663ea27eca363\n");
	assert_int_equal(run("--mode", "snp", "--ovmf", FW_SEV, "--vcpus", "3", "--vcpu-type", "EPYC-Rome-v3",
			     "--vmm-type", "ec2", "--kernel", KERNEL, "--initrd", INITRD, NULL), 0);
	assert_string_equal(out_text, "7da1c29d9955710f49b5fe7f98072d57a9e684e0c546f4288e6030f7c2a6fbe31dd009fb70cf3dd8"
				      "bca864cb2e877ab0\n");
	assert_int_equal(run("--mode", "seves", "--ovmf", FW_SEV, "--vcpus", "2", "--vcpu-type", "EPYC-Milan",
			     "--vmm-type", "gce", "--kernel", KERNEL, NULL), 0);
	assert_string_equal(out_text, "fb0c17552798c3846acda1da8537f5be13fcc6bf17977c75c9098c9ecc2fc128\n");
	assert_int_equal(run("--mode", "sev", "--ovmf", FW_SEV, "--kernel", KERNEL, "--append", "", NULL), 0);
	assert_string_equal(out_text, "0d4c2e5e87e9f588727da51c7dc08d0736062ef605343c17aff90973517931ee\n");
}

static void test_base64_and_ovmf_hash(void **state)
{
	char seed[128];

	(void)state;
	assert_int_equal(run("--mode", "snp", "--ovmf", FW_DEB, "--vcpus", "1", "--vcpu-type", "EPYC-v4",
			     "--output-format", "base64", NULL), 0);
	assert_string_equal(out_text, "EVcJecd6CttRV2GnAlJ8i54RVU5zBVJiHZUJiGE6OnXG/xcD9UC9Iqm+7ej+epfj\n"); /* = row 1 */
	/* snp:ovmf-hash, then the same digest from the precomputed seed */
	assert_int_equal(run("--mode", "snp:ovmf-hash", "--ovmf", FW_DEB, NULL), 0);
	assert_int_equal(strlen(out_text), 97);
	snprintf(seed, sizeof(seed), "%.96s", out_text);
	assert_int_equal(run("--mode", "snp", "--ovmf", FW_DEB, "--vcpus", "1", "--vcpu-type", "EPYC-v4",
			     "--snp-ovmf-hash", seed, NULL), 0);
	assert_string_equal(out_text, ROW1 "\n");
}

static void test_json(void **state)
{
	json_error_t jerr;
	json_t *j, *in;

	(void)state;
	assert_int_equal(run("--platform", "snp", "--firmware", FW_SEV, "--kernel", KERNEL, "--initrd", INITRD,
			     "--append", "console=ttyS0", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--json", NULL), 0);
	j = json_loads(out_text, 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "digest")), ROW8);
	assert_string_equal(json_string_value(json_object_get(j, "platform")), "snp");
	in = json_object_get(j, "inputs");
	assert_int_equal(json_integer_value(json_object_get(in, "vcpus")), 1);
	assert_string_equal(json_string_value(json_object_get(in, "vcpu_sig")), "0x800f12");
	assert_string_equal(json_string_value(json_object_get(in, "append")), "console=ttyS0");
	assert_string_equal(json_string_value(json_object_get(json_object_get(in, "kernel"), "path")), KERNEL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(in, "firmware"), "size")), 4 << 20);
	json_decref(j);
}

static void test_trace_and_dump(void **state)
{
	char path[4200];
	struct stat st;
	int lines = 0;

	(void)state;
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", "2", "--vcpu-type", "EPYC-v4",
			     "--trace", "--dump-vmsa", tmpdir, NULL), 0);
	/* firmware + 5 metadata sections + 2 VMSAs */
	for (const char *p = err_text; (p = strstr(p, "trace: step")); p++)
		lines++;
	assert_int_equal(lines, 8);
	assert_non_null(strstr(err_text, "gpa=0xffe00000 type=normal len=0x200000"));
	assert_non_null(strstr(err_text, "type=secrets"));
	assert_non_null(strstr(err_text, "type=vmsa"));
	assert_non_null(strstr(err_text, "digest=a5b54e62ae971b58"));
	assert_string_equal(out_text, "a5b54e62ae971b58274dd24cc6c47b842662617036e7bd67d7326c07ac6363f35399ef933330a5ea16"
				      "0cead90a00603f\n");
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/vmsa%d.bin", tmpdir, i);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 4096);
		unlink(path);
	}
}

static void test_bad_input(void **state)
{
	char shortfw[4200], trunc[4200], nofooter[4200];
	static uint8_t zeros[1 << 17];

	(void)state;
	snprintf(shortfw, sizeof(shortfw), "%s/short.fd", tmpdir);
	snprintf(trunc, sizeof(trunc), "%s/trunc.fd", tmpdir);
	snprintf(nofooter, sizeof(nofooter), "%s/nofooter.fd", tmpdir);
	assert_int_equal(file_write(shortfw, zeros, 1000), 0);
	assert_int_equal(file_write(trunc, zeros, (1 << 16) + 100), 0);
	assert_int_equal(file_write(nofooter, zeros, 1 << 16), 0);

	assert_int_equal(run("--platform", "snp", "--firmware", "/nonexistent.fd", "--vcpus", "1", "--vcpu-type",
			     "EPYC", NULL), 2);
	expect_usage_error("/nonexistent.fd");
	assert_int_equal(run("--platform", "snp", "--firmware", shortfw, "--vcpus", "1", "--vcpu-type", "EPYC", NULL),
			 2);
	expect_usage_error("too short");
	assert_int_equal(run("--platform", "sev", "--firmware", trunc, NULL), 2);
	expect_usage_error("not a multiple of 4096");
	assert_int_equal(run("--platform", "sev-es", "--firmware", nofooter, "--vcpus", "1", "--vcpu-type", "EPYC", NULL), 2);
	expect_usage_error("no OVMF footer GUID table");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--kernel", KERNEL, "--vcpus", "1",
			     "--vcpu-type", "EPYC", NULL), 2);
	expect_usage_error("has no SEV hashes table");
	assert_int_equal(run("--platform", "sev-es", "--firmware", FW_DEB, "--kernel", KERNEL, "--vcpus", "1",
			     "--vcpu-type", "EPYC", NULL), 2);
	expect_usage_error("has no SEV hashes table");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", "1", "--vcpu-type", "EPYC-Zen9",
			     NULL), 2);
	expect_usage_error("unknown vCPU type 'EPYC-Zen9'");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", "0", "--vcpu-type", "EPYC", NULL),
			 2);
	expect_usage_error("--vcpus");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", "513", "--vcpu-type", "EPYC", NULL),
			 2);
	expect_usage_error("--vcpus: 513");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", "1", "--vcpu-type", "EPYC",
			     "--snp-ovmf-hash", "xyz", NULL), 2);
	expect_usage_error("--snp-ovmf-hash");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", "1", "--vcpu-type", "EPYC",
			     "--guest-features", "0xzz", NULL), 2);
	expect_usage_error("--guest-features");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", "1", NULL), 2);
	expect_usage_error("missing --vcpu-type");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", "1", "--vcpu-type", "EPYC",
			     "--vmm-type", "xen", NULL), 2);
	expect_usage_error("unknown VMM type 'xen'");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", "1", "--vcpu-type", "EPYC",
			     "--bogus", NULL), 2);
	expect_usage_error("unknown option '--bogus'");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", NULL), 2);
	expect_usage_error("needs a value");
	assert_int_equal(run("--firmware", FW_DEB, NULL), 2);
	expect_usage_error("missing --platform");
	assert_int_equal(run("--platform", "snp", "--vcpus", "1", "--vcpu-type", "EPYC", NULL), 2);
	expect_usage_error("missing --firmware");
	assert_int_equal(run("--platform", "snp", "--firmware", FW_DEB, "--vcpus", "1", "--vcpu-type", "EPYC",
			     "--dump-vmsa", "/nonexistent/dir", NULL), 2);
	expect_usage_error("/nonexistent/dir/vmsa0.bin");
	assert_int_equal(run("--help", NULL), 0);
	assert_non_null(strstr(out_text, "--snp-ovmf-hash"));
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char p[4200];

	(void)state;
	free(out_text);
	free(err_text);
	for (const char *const *n = (const char *const[]){ "short.fd", "trunc.fd",
							    "nofooter.fd", NULL }; *n; n++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, *n);
		unlink(p);
	}
	rmdir(tmpdir);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_hex_and_aliases), cmocka_unit_test(test_more_cases),
		cmocka_unit_test(test_base64_and_ovmf_hash),
		cmocka_unit_test(test_json),                    cmocka_unit_test(test_trace_and_dump),
		cmocka_unit_test(test_bad_input),
	};
	(void)argc;
	if (cli_locate(argv[0]))
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
