/* test_host_info.c - `cvmm host-info` (vmm/host_info.c) against the
 * recording ioctl stand-in (which offers every VM type and an SEV firmware
 * 1.55 with SNP initialized) and a fake sysfs of module parameters. */
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
#include "vmm/host_info.h"
#include "vmm/ioctl_rec.h"

static char root[64];

static void param(const char *module, const char *p, const char *v)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sys/module", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sys/module/%s", root, module);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sys/module/%s/parameters", root, module);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sys/module/%s/parameters/%s", root, module, p);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%s\n", v);
	fclose(f);
}

static json_t *probe(void)
{
	struct cc_rec *rec = NULL;
	json_t *o = NULL;

	assert_int_equal(cc_rec_create(NULL, &rec), 0);
	assert_int_equal(vmm_host_info(cc_rec_io(rec), root, &o), 0);
	assert_int_equal(cc_rec_open_fds(rec), 0);
	cc_rec_close(rec);
	return o;
}

static const char *s(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void test_snp_host(void **state)
{
	(void)state;
	param("kvm_amd", "sev", "Y");
	param("kvm_amd", "sev_es", "Y");
	param("kvm_amd", "sev_snp", "Y");
	json_t *o = probe();

	assert_true(json_is_true(json_object_get(o, "kvm")));
	json_t *t = json_object_get(o, "vm_types");
	assert_int_equal(json_array_size(t), 5);
	assert_string_equal(json_string_value(json_array_get(t, 3)), "snp");
	assert_string_equal(s(o, "sev_api_version"), "1.55");
	assert_string_equal(s(o, "snp_api_version"), "1.55");
	assert_string_equal(s(o, "snp_current_tcb"), "0xdb18000000000004");
	assert_true(json_is_true(json_object_get(o, "snp_rmp_initialized")));
	assert_string_equal(s(o, "best_platform"), "snp");
	json_t *m = json_object_get(o, "missing");
	assert_null(json_object_get(m, "snp"));
	assert_null(json_object_get(m, "sev-es"));
	/* no kvm_intel module here */
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "tdx"), 0)), "kvm_intel.tdx=1");
	assert_true(json_is_null(json_object_get(json_object_get(o, "kernel_parameters"), "kvm_intel.tdx")));
	json_decref(o);
}

static void test_snp_off(void **state)
{
	(void)state;
	param("kvm_amd", "sev", "Y");
	param("kvm_amd", "sev_es", "Y");
	param("kvm_amd", "sev_snp", "N");
	json_t *o = probe();
	json_t *snp = json_object_get(json_object_get(o, "missing"), "snp");

	assert_string_equal(s(o, "best_platform"), "sev-es");
	assert_int_equal(json_array_size(snp), 1);
	assert_string_equal(json_string_value(json_array_get(snp, 0)), "kvm_amd.sev_snp=1");
	json_decref(o);
}

/* --platform auto: the best hardware platform with nothing missing, else
 * kvm (never a sim platform); explicit only, rewritten in argv. */
static void test_auto(void **state)
{
	struct cc_rec *rec = NULL;
	char a0[] = "run", a1[] = "--platform", a2[] = "auto", a3[] = "--platform=auto", k[] = "kvm";
	char *argv[] = { a0, a1, a2, NULL }, *argv_eq[] = { a0, a3, NULL }, *argv_none[] = { a0, a1, k, NULL };
	json_t *o;

	(void)state;
	param("kvm_amd", "sev", "Y");
	param("kvm_amd", "sev_es", "Y");
	param("kvm_amd", "sev_snp", "Y");
	param("kvm_intel", "tdx", "N");
	o = probe();
	assert_string_equal(vmm_auto_platform(o), "snp");
	json_decref(o);
	param("kvm_amd", "sev_snp", "N");
	o = probe();
	assert_string_equal(vmm_auto_platform(o), "sev-es");
	json_decref(o);
	param("kvm_amd", "sev", "N");
	param("kvm_amd", "sev_es", "N");
	param("kvm_intel", "tdx", "Y");
	o = probe();
	assert_string_equal(vmm_auto_platform(o), "tdx");
	json_decref(o);
	param("kvm_intel", "tdx", "N");
	o = probe();
	assert_string_equal(s(o, "best_platform"), "sim-snp"); /* host-info's view */
	assert_string_equal(vmm_auto_platform(o), "kvm");      /* auto's: no sim */
	json_decref(o);
	/* the argv rewrite */
	param("kvm_amd", "sev", "Y");
	assert_int_equal(cc_rec_create(NULL, &rec), 0);
	assert_int_equal(vmm_resolve_auto(cc_rec_io(rec), root, 3, argv), 0);
	assert_string_equal(argv[2], "sev");
	assert_int_equal(vmm_resolve_auto(cc_rec_io(rec), root, 2, argv_eq), 0);
	assert_string_equal(argv_eq[1], "--platform=sev");
	assert_int_equal(vmm_resolve_auto(cc_rec_io(rec), root, 3, argv_none), 0);
	assert_string_equal(argv_none[2], "kvm");
	assert_int_equal(cc_rec_open_fds(rec), 0);
	cc_rec_close(rec);
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/test_host_info.%d", (int)getpid());
	mkdir(root, 0755);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snp_host),
		cmocka_unit_test(test_snp_off),
		cmocka_unit_test(test_auto),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		rc = rc ? rc : 1;
	return rc;
}
