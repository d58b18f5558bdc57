/* measure_sim_cli.c - `cvmm measure --platform sim-snp`: the SNP launch
 * digest of a `cvmm run --platform sim-snp` direct kernel boot (and with
 * `--platform sim-tdx` the MRTD of a sim-tdx launch, tdx_sim_mrtd). It builds
 * the launch plan with the very function `cvmm run` loads the guest with
 * (boot_plan.c), over scratch guest memory of the same size, and folds it
 * like the sim secure processor does, so the digest printed here is the
 * MEASUREMENT of every report of that launch (docs/attestation.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/common.h"
#include "tdx/tdx.h"
#include "vmm/vmm.h"
#include "vmm/vmm_core.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvmm measure --platform sim-snp|sim-tdx --kernel BZIMAGE [OPTIONS]\n"
		"Predict the launch measurement of `cvmm run --platform sim-snp` (direct kernel boot),\n"
		"or the MRTD of `cvmm run --platform sim-tdx`.\n"
		"  --kernel FILE      bzImage, as given to cvmm run --kernel\n"
		"  --initrd FILE      initial ramdisk (cvmm run --initrd)\n"
		"  --append S         kernel command line (cvmm run --cmdline; default \"%s\")\n"
		"  --vcpus N          vCPUs, 1-%d (default 1)\n"
		"  --mem SIZE         guest RAM, K/M/G suffixes (default 512M)\n"
		"  --policy P         SNP guest policy (default 0x%llx; reported, not measured)\n"
		"  --trace            print every plan step with the running digest\n"
		"  --json             print the digest and the inputs as JSON\n"
		"Exit status: 0 success, 2 usage or input error.\n",
		vmm_default_cmdline(false), VM_MAX_VCPUS, (unsigned long long)SIM_SNP_DEFAULT_POLICY);
}

struct sim_measure {
	const char *kernel, *initrd, *append;
	unsigned vcpus;
	uint64_t mem, policy;
	bool trace, json, tdx;
};

static int parse_args(int argc, char **argv, struct sim_measure *a)
{
	enum { O_PLATFORM = 256, O_KERNEL, O_INITRD, O_APPEND, O_VCPUS, O_MEM, O_POLICY, O_TRACE, O_JSON };
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, O_PLATFORM }, { "kernel", required_argument, NULL, O_KERNEL },
		{ "initrd", required_argument, NULL, O_INITRD },     { "append", required_argument, NULL, O_APPEND },
		{ "vcpus", required_argument, NULL, O_VCPUS },       { "mem", required_argument, NULL, O_MEM },
		{ "policy", required_argument, NULL, O_POLICY },     { "trace", no_argument, NULL, O_TRACE },
		{ "json", no_argument, NULL, O_JSON },               { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int o, rc = 0;

	optind = 1;
	opterr = 0;
	while (!rc && (o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case O_PLATFORM:
			if (strcmp(optarg, "sim-snp") && strcmp(optarg, "sim-tdx"))
				rc = err_set(EINVAL, "--platform %s: this form measures sim-snp and sim-tdx only", optarg);
			a->tdx = !strcmp(optarg, "sim-tdx");
			break;
		case O_KERNEL: a->kernel = optarg; break;
		case O_INITRD: a->initrd = optarg; break;
		case O_APPEND: a->append = optarg; break;
		case O_VCPUS:
			rc = parse_u64(optarg, VM_MAX_VCPUS, &v, "--vcpus");
			if (!rc && !v)
				rc = err_set(EINVAL, "--vcpus: must be at least 1");
			a->vcpus = (unsigned)v;
			break;
		case O_MEM: rc = parse_size(optarg, &a->mem, "--mem"); break;
		case O_POLICY:
			rc = parse_u64(optarg, UINT64_MAX, &a->policy, "--policy");
			if (!rc && !(a->policy & (1ull << 17)))
				rc = err_set(EINVAL, "--policy %s: bit 17 must be set (SNP ABI, guest policy)", optarg);
			break;
		case O_TRACE: a->trace = true; break;
		case O_JSON: a->json = true; break;
		case 'h': return 1;
		default:
			return err_set(EINVAL, "unknown option or missing argument '%s' (try cvmm measure --platform "
					       "sim-snp --help)", argv[optind - 1]);
		}
	}
	if (!rc && optind < argc)
		rc = err_set(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!rc && !a->kernel)
		rc = err_set(EINVAL, "--kernel is required for --platform sim-snp (a direct kernel boot)");
	return rc;
}

static void trace_step(void *ctx, size_t i, const struct plan_step *s, const uint8_t *d, size_t n)
{
	char hex[2 * SNP_DIGEST_LEN + 1];

	(void)ctx;
	hex_encode(d, n, hex);
	printf("%4zu %-14s %-10s gpa %#014llx len %#10llx %s\n", i, s->label, plan_kind_name(s->kind),
	       (unsigned long long)s->gpa, (unsigned long long)s->len, hex);
}

/* The sim-snp measurement of these inputs (also used by tests). */
int vmm_sim_snp_measure(const uint8_t *kernel, size_t klen, const char *kernel_path, const uint8_t *initrd,
			size_t ilen, const char *cmdline, unsigned vcpus, uint64_t mem, bool trace,
			uint8_t out[SNP_DIGEST_LEN])
{
	struct guest_mem m = { 0 };
	struct launch_plan plan = { 0 };
	uint64_t entry;
	const struct boot_inputs in = {
		.kernel = kernel, .kernel_len = klen, .kernel_path = kernel_path, .initrd = initrd,
		.initrd_len = ilen, .cmdline = cmdline, .vcpus = vcpus, .snp = true,
		.sev_features = SIM_SNP_SEV_FEATURES,
	};
	int rc = gm_alloc(&m, mem);

	if (!rc)
		rc = vmm_boot_plan(&m, &in, &plan, &entry);
	if (!rc)
		rc = snp_digest_fold(&plan, 0, NULL, out, trace ? trace_step : NULL, NULL);
	plan_free(&plan);
	gm_free(&m);
	return rc;
}

/* The sim-tdx MRTD of these inputs: the same plan without the SNP pages,
 * folded as KVM builds a TD (also used by tests). */
int vmm_sim_tdx_measure(const uint8_t *kernel, size_t klen, const char *kernel_path, const uint8_t *initrd,
			size_t ilen, const char *cmdline, unsigned vcpus, uint64_t mem, FILE *trace,
			uint8_t out[TDX_MR_SIZE])
{
	struct guest_mem m = { 0 };
	struct launch_plan plan = { 0 };
	uint64_t entry;
	const struct boot_inputs in = {
		.kernel = kernel, .kernel_len = klen, .kernel_path = kernel_path, .initrd = initrd,
		.initrd_len = ilen, .cmdline = cmdline, .vcpus = vcpus,
	};
	int rc = gm_alloc(&m, mem);

	if (!rc)
		rc = vmm_boot_plan(&m, &in, &plan, &entry);
	if (!rc)
		rc = tdx_sim_mrtd(&plan, trace, out);
	plan_free(&plan);
	gm_free(&m);
	return rc;
}

static int print_json(const struct sim_measure *a, const char *cmdline, const char *hex)
{
	char policy[24];
	json_t *o;
	char *s;

	snprintf(policy, sizeof(policy), "0x%llx", (unsigned long long)a->policy);
	if (a->tdx)
		o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:i, s:I}", "platform", "sim-tdx", "mrtd", hex, "kernel",
			      a->kernel, "initrd", a->initrd, "cmdline", cmdline, "vcpus", (int)a->vcpus, "mem",
			      (json_int_t)a->mem);
	else
		o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:i, s:I, s:s}", "platform", "sim-snp", "measurement", hex,
		      "kernel", a->kernel, "initrd", a->initrd, "cmdline", cmdline, "vcpus", (int)a->vcpus, "mem",
		      (json_int_t)a->mem, "policy", policy);
	s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	if (!s)
		return err_set(ENOMEM, "out of memory (or a command line that is not UTF-8)");
	printf("%s\n", s);
	free(s);
	return 0;
}

int vmm_cli_measure_sim(int argc, char **argv)
{
	struct sim_measure a = { .vcpus = 1, .mem = 512ull << 20, .policy = SIM_SNP_DEFAULT_POLICY };
	uint8_t *kernel = NULL, *initrd = NULL, digest[SNP_DIGEST_LEN > TDX_MR_SIZE ? SNP_DIGEST_LEN : TDX_MR_SIZE];
	size_t klen = 0, ilen = 0;
	char hex[2 * SNP_DIGEST_LEN + 1];
	int rc = parse_args(argc, argv, &a);

	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	const char *cmdline = a.append ? a.append : vmm_default_cmdline(false);
	if (!rc)
		rc = file_read(a.kernel, 256u << 20, &kernel, &klen);
	if (!rc && a.initrd)
		rc = file_read(a.initrd, 2048ull << 20, &initrd, &ilen);
	if (!rc && a.tdx)
		rc = vmm_sim_tdx_measure(kernel, klen, a.kernel, initrd, ilen, cmdline, a.vcpus, a.mem,
					 a.trace ? stdout : NULL, digest);
	else if (!rc)
		rc = vmm_sim_snp_measure(kernel, klen, a.kernel, initrd, ilen, cmdline, a.vcpus, a.mem, a.trace,
					 digest);
	free(kernel);
	free(initrd);
	if (!rc) {
		hex_encode(digest, a.tdx ? TDX_MR_SIZE : SNP_DIGEST_LEN, hex);
		if (a.json)
			rc = print_json(&a, cmdline, hex);
		else
			printf("%s\n", hex);
	}
	if (rc) {
		fprintf(stderr, "cvmm measure: %s\n", err_msg());
		return 2;
	}
	return 0;
}

static bool wants_sim(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--platform") && i + 1 < argc &&
		    (!strcmp(argv[i + 1], "sim-snp") || !strcmp(argv[i + 1], "sim-tdx")))
			return true;
		if (!strcmp(argv[i], "--platform=sim-snp") || !strcmp(argv[i], "--platform=sim-tdx"))
			return true;
	}
	return false;
}

int vmm_cli_measure(int argc, char **argv)
{
	return wants_sim(argc, argv) ? vmm_cli_measure_sim(argc, argv) : sev_cli_measure(argc, argv);
}
