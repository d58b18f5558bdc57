/* Unit tests: `cvmm run` flag parsing and the input errors that must come
 * before any KVM resource is touched (exit status 2, one message naming
 * the problem). No /dev/kvm needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"
#include "vmm/vmm.h"

#define KERNEL "tests/fixtures/measure/boot/vmlinuz-6.1.0-56-cloud-amd64"

static int run(const char *expect, ...)
{
	char *argv[32] = { "run" };
	int argc = 1;
	va_list ap;
	va_start(ap, expect);
	for (char *a; argc < 31 && (a = va_arg(ap, char *)); )
		argv[argc++] = a;
	va_end(ap);
	err_clear();
	int rc = vmm_cli_run(argc, argv);
	if (expect && !strstr(err_msg(), expect))
		fail_msg("error '%s' does not mention '%s'", err_msg(), expect);
	return rc;
}

static void test_usage_errors(void **state)
{
	/* flag values are parsed in place, as argv allows: writable copies */
	char net1[] = "mac=52:54:00:00:00:01", net2[] = "tap=t0,mac=01:00:00:00:00:01";
	(void)state;
	assert_int_equal(run("--kernel is required", (char *)NULL), 2);
	assert_int_equal(run("--vcpus", "--kernel", KERNEL, "--vcpus", "0", (char *)NULL), 2);
	assert_int_equal(run("--vcpus", "--kernel", KERNEL, "--vcpus", "65", (char *)NULL), 2);
	assert_int_equal(run("--console", "--kernel", KERNEL, "--console", "vga", (char *)NULL), 2);
	assert_int_equal(run("--net", "--kernel", KERNEL, "--net", net1, (char *)NULL), 2);
	assert_int_equal(run("multicast", "--kernel", KERNEL, "--net", net2, (char *)NULL), 2);
	assert_int_equal(run("--vsock", "--kernel", KERNEL, "--vsock", "2", (char *)NULL), 2);
	assert_int_equal(run("--mem", "--kernel", KERNEL, "--mem", "lots", (char *)NULL), 2);
	assert_int_equal(run("unknown", "--kernel", KERNEL, "--frobnicate", (char *)NULL), 2);
	assert_int_equal(run("unexpected argument", "--kernel", KERNEL, "extra", (char *)NULL), 2);
	assert_int_equal(run("--platform", "--kernel", KERNEL, "--platform", "tdx", (char *)NULL), 2);
	assert_int_equal(run(NULL, "--help", (char *)NULL), 0);
}

static void test_input_errors(void **state)
{
	(void)state;
	/* missing and non-kernel files are named; nothing reaches KVM */
	assert_int_equal(run("/nonexistent/bzImage", "--kernel", "/nonexistent/bzImage", (char *)NULL), 2);
	assert_int_equal(run("not a bzImage", "--kernel", "tests/fixtures/eventlog/ccel-grub/log.bin",
			     (char *)NULL), 2);
	assert_int_equal(run("/nonexistent/initrd", "--kernel", KERNEL, "--initrd", "/nonexistent/initrd",
			     (char *)NULL), 2);
	assert_int_equal(run("--mem", "--kernel", KERNEL, "--mem", "1M", (char *)NULL), 2);
}

int main(void)
{
	/* the CLI prints its one-line errors on stderr; keep the log readable */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_input_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
