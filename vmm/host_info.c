/* host_info.c - `cvmm host-info [--json]`: what this host offers for
 * confidential guests (issue 11): KVM and its VM types (KVM_CAP_VM_TYPES,
 * api.rst), the AMD secure processor (/dev/sev: SEV_PLATFORM_STATUS and
 * SNP_PLATFORM_STATUS, linux/psp-sev.h), the kvm_amd / kvm_intel
 * parameters that switch SEV, SEV-ES, SEV-SNP and TDX on, what is missing
 * for each platform, and the best platform `cvmm run` can use. The probes
 * go through the ioctl seam (vmm/ioctl_rec.h), sysfs under a root that the
 * tests point elsewhere. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/common.h"
#include "sev/sev_uapi.h"
#include "vmm/host_info.h"
#include "vmm/kvm_uapi.h"

static const char *const vm_type_names[] = { "default", "sw-protected", "sev", "sev-es", "snp", "tdx" };

/* "Y"/"1" in sysroot/sys/module/M/parameters/P: 1; "N"/"0": 0; absent: -1. */
static int module_param(const char *sysroot, const char *module, const char *param)
{
	char path[512], buf[8] = {0};
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys/module/%s/parameters/%s", sysroot, module, param);
	if (!(f = fopen(path, "re")))
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return buf[0] == 'Y' || buf[0] == 'y' || buf[0] == '1';
}

static void missing(json_t *m, const char *platform, const char *what)
{
	json_t *a = json_object_get(m, platform);

	if (!a) {
		a = json_array();
		json_object_set_new(m, platform, a);
	}
	json_array_append_new(a, json_string(what));
}

static void probe_sev(struct cc_io *io, int fd, json_t *o)
{
	struct sev_user_data_snp_status snp = {0};
	struct sev_user_data_status st = {0};
	struct sev_issue_cmd c = { .cmd = SEV_PLATFORM_STATUS, .data = (uintptr_t)&st };
	char v[32];

	if (io->ioctl(io, fd, SEV_ISSUE_CMD, &c) >= 0) {
		snprintf(v, sizeof(v), "%u.%u", st.api_major, st.api_minor);
		json_object_set_new(o, "sev_api_version", json_string(v));
		json_object_set_new(o, "sev_build", json_integer(st.build));
		json_object_set_new(o, "sev_es_configured", json_boolean(st.flags & SEV_STATUS_FLAGS_CONFIG_ES));
	} else {
		json_object_set_new(o, "sev_platform_status_error", json_integer(c.error));
	}
	c = (struct sev_issue_cmd){ .cmd = SNP_PLATFORM_STATUS, .data = (uintptr_t)&snp };
	if (io->ioctl(io, fd, SEV_ISSUE_CMD, &c) >= 0) {
		snprintf(v, sizeof(v), "%u.%u", snp.api_major, snp.api_minor);
		json_object_set_new(o, "snp_api_version", json_string(v));
		json_object_set_new(o, "snp_build_id", json_integer(snp.build_id));
		json_object_set_new(o, "snp_state", json_integer(snp.state));
		json_object_set_new(o, "snp_rmp_initialized", json_boolean(snp.is_rmp_initialized));
		snprintf(v, sizeof(v), "%#018llx", (unsigned long long)snp.current_tcb_version);
		json_object_set_new(o, "snp_current_tcb", json_string(v));
		snprintf(v, sizeof(v), "%#018llx", (unsigned long long)snp.reported_tcb_version);
		json_object_set_new(o, "snp_reported_tcb", json_string(v));
	} else {
		json_object_set_new(o, "snp_platform_status_error", json_integer(c.error));
	}
}

int vmm_host_info(struct cc_io *io, const char *sysroot, json_t **out)
{
	json_t *o = json_object(), *types = json_array(), *miss = json_object(), *params = json_object();
	int kvm = io->open(io, "/dev/kvm"), vm_types = 0, sev;
	static const struct { const char *module, *param; } ps[] = {
		{ "kvm_amd", "sev" }, { "kvm_amd", "sev_es" }, { "kvm_amd", "sev_snp" }, { "kvm_intel", "tdx" },
	};
	int pv[4];

	if (!o || !types || !miss || !params) {
		json_decref(o);
		json_decref(types);
		json_decref(miss);
		json_decref(params);
		return err_set(ENOMEM, "out of memory");
	}
	json_object_set_new(o, "kvm", json_boolean(kvm >= 0));
	if (kvm >= 0) {
		int r = io->ioctl(io, kvm, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_VM_TYPES);

		vm_types = r > 0 ? r : 1; /* no KVM_CAP_VM_TYPES: only the default type */
		io->close(io, kvm);
	}
	for (unsigned t = 0; t < ARRAY_SIZE(vm_type_names); t++)
		if (vm_types & (1 << t))
			json_array_append_new(types, json_string(vm_type_names[t]));
	json_object_set_new(o, "vm_types", types);
	for (size_t i = 0; i < ARRAY_SIZE(ps); i++) {
		char key[48];

		pv[i] = module_param(sysroot, ps[i].module, ps[i].param);
		snprintf(key, sizeof(key), "%s.%s", ps[i].module, ps[i].param);
		json_object_set_new(params, key, pv[i] < 0 ? json_null() : json_boolean(pv[i]));
	}
	json_object_set_new(o, "kernel_parameters", params);
	sev = io->open(io, "/dev/sev");
	json_object_set_new(o, "dev_sev", json_boolean(sev >= 0));
	if (sev >= 0) {
		probe_sev(io, sev, o);
		io->close(io, sev);
	}

	if (kvm < 0) {
		const char *const all[] = { "snp", "sev-es", "sev", "tdx", "sim-snp", "sim-tdx", "kvm" };

		for (size_t i = 0; i < ARRAY_SIZE(all); i++)
			missing(miss, all[i], "/dev/kvm");
	}
	static const struct { const char *platform; unsigned type; int param; } hw[] = {
		{ "snp", KVM_X86_SNP_VM, 2 }, { "sev-es", KVM_X86_SEV_ES_VM, 1 }, { "sev", KVM_X86_SEV_VM, 0 },
		{ "tdx", KVM_X86_TDX_VM, 3 },
	};
	const char *best = kvm >= 0 ? "sim-snp" : NULL;
	for (size_t i = 0; i < ARRAY_SIZE(hw); i++) {
		bool ok = kvm >= 0;

		if (kvm >= 0 && !(vm_types & (1 << hw[i].type))) {
			char what[64];

			snprintf(what, sizeof(what), "KVM_X86_%s_VM in KVM_CAP_VM_TYPES",
				 hw[i].type == KVM_X86_SNP_VM ? "SNP" : hw[i].type == KVM_X86_SEV_ES_VM ? "SEV_ES"
				 : hw[i].type == KVM_X86_SEV_VM ? "SEV" : "TDX");
			missing(miss, hw[i].platform, what);
			ok = false;
		}
		if (pv[hw[i].param] != 1) {
			char what[64];

			snprintf(what, sizeof(what), "%s.%s=1", ps[hw[i].param].module, ps[hw[i].param].param);
			missing(miss, hw[i].platform, what);
			ok = false;
		}
		if (hw[i].type != KVM_X86_TDX_VM && sev < 0) {
			missing(miss, hw[i].platform, "/dev/sev");
			ok = false;
		}
		if (ok && (!best || !strncmp(best, "sim-", 4)))
			best = hw[i].platform;
	}
	json_object_set_new(o, "missing", miss);
	json_object_set_new(o, "best_platform", best ? json_string(best) : json_null());
	*out = o;
	return 0;
}

static int print_text(json_t *o)
{
	const char *k;
	json_t *v;

	printf("kvm: %s\n", json_is_true(json_object_get(o, "kvm")) ? "yes" : "no");
	printf("vm types:");
	for (size_t i = 0; i < json_array_size(json_object_get(o, "vm_types")); i++)
		printf(" %s", json_string_value(json_array_get(json_object_get(o, "vm_types"), i)));
	printf("\n/dev/sev: %s\n", json_is_true(json_object_get(o, "dev_sev")) ? "yes" : "no");
	json_object_foreach(o, k, v)
		if ((!strncmp(k, "sev_", 4) || !strncmp(k, "snp_", 4)) && (json_is_string(v) || json_is_integer(v)))
			json_is_string(v) ? printf("  %s: %s\n", k, json_string_value(v))
					  : printf("  %s: %lld\n", k, (long long)json_integer_value(v));
	printf("kernel parameters:\n");
	json_object_foreach(json_object_get(o, "kernel_parameters"), k, v)
		printf("  %s: %s\n", k, json_is_null(v) ? "(module not loaded)" : json_is_true(v) ? "Y" : "N");
	printf("missing:\n");
	json_object_foreach(json_object_get(o, "missing"), k, v) {
		printf("  %s:", k);
		for (size_t i = 0; i < json_array_size(v); i++)
			printf("%s %s", i ? "," : "", json_string_value(json_array_get(v, i)));
		printf("\n");
	}
	json_t *b = json_object_get(o, "best_platform");
	printf("best platform: %s\n", json_is_string(b) ? json_string_value(b) : "none");
	return 0;
}

int vmm_cli_host_info(int argc, char **argv)
{
	bool json = false;
	json_t *o = NULL;
	int rc = 0;

	err_clear();
	for (int i = 1; i < argc && !rc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			puts("usage: cvmm host-info [--json]\n"
			     "What this host offers for confidential guests: KVM VM types, /dev/sev status,\n"
			     "kernel parameters, what each platform is missing, the best platform.");
			return 0;
		} else
			rc = err_set(EINVAL, "unknown option '%s' (cvmm host-info [--json])", argv[i]);
	}
	if (!rc)
		rc = vmm_host_info(&cc_io_real, "", &o);
	if (!rc && json) {
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (!s)
			rc = err_set(ENOMEM, "out of memory");
		else
			puts(s);
		free(s);
	} else if (!rc) {
		print_text(o);
	}
	json_decref(o);
	if (rc) {
		fprintf(stderr, "cvmm host-info: %s\n", err_msg());
		return 2;
	}
	return 0;
}

const char *vmm_auto_platform(json_t *info)
{
	static const char *const hw[] = { "snp", "tdx", "sev-es", "sev" };
	json_t *miss = json_object_get(info, "missing");

	for (size_t i = 0; i < ARRAY_SIZE(hw); i++) {
		json_t *m = json_object_get(miss, hw[i]);

		if (json_is_object(miss) && (!m || (json_is_array(m) && !json_array_size(m))))
			return hw[i];
	}
	return "kvm";
}

int vmm_resolve_auto(struct cc_io *io, const char *sysroot, int argc, char **argv)
{
	static char eq[32];
	json_t *info = NULL;
	const char *pick;
	int at = -1, rc;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--platform") && i + 1 < argc && !strcmp(argv[i + 1], "auto"))
			at = i + 1;
		else if (!strcmp(argv[i], "--platform=auto"))
			at = i;
	if (at < 0)
		return 0;
	if ((rc = vmm_host_info(io, sysroot, &info)))
		return err_wrap(-rc, "--platform auto");
	pick = vmm_auto_platform(info);
	if (!strcmp(pick, "kvm")) {
		json_t *m = json_object_get(json_object_get(info, "missing"), "snp");
		json_t *t = json_object_get(json_object_get(info, "missing"), "tdx");

		fprintf(stderr, "cvmm run: --platform auto: kvm (no confidential hardware platform: snp needs %s, tdx "
				"needs %s)\n", json_string_value(json_array_get(m, 0)) ? json_string_value(json_array_get(m, 0)) : "?",
			json_string_value(json_array_get(t, 0)) ? json_string_value(json_array_get(t, 0)) : "?");
	} else {
		fprintf(stderr, "cvmm run: --platform auto: %s\n", pick);
	}
	if (!strncmp(argv[at], "--platform=", 11)) {
		snprintf(eq, sizeof(eq), "--platform=%s", pick);
		argv[at] = eq;
	} else {
		argv[at] = (char *)pick;
	}
	json_decref(info);
	return 0;
}
