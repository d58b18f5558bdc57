/* `cvmm measure`: predict the launch digest of an SEV, SEV-ES or SEV-SNP
 * guest (and hand TDX to tdx/). Flags and output follow the public tool
 * sev-snp-measure so its users need not relearn them; see docs/measure.md. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/common.h"
#include "sev.h"
#include "sev_measure.h"
#include "tdx/tdx.h"

#define KERNEL_MAX ((size_t)1 << 30)
#define INITRD_MAX ((size_t)2 << 30)

static const char usage_text[] =
	"usage: cvmm measure --platform snp|sev-es|sev|tdx (or --mode snp|seves|sev) --firmware FILE [OPTIONS]\n"
	"Predict the launch digest the AMD secure processor reports (SNP: SHA-384, SEV/SEV-ES: SHA-256).\n"
	"  --platform P, --mode M    snp (sev-snp), sev-es (seves), sev; --mode snp:ovmf-hash prints the\n"
	"                            digest of the firmware pages only (for --snp-ovmf-hash)\n"
	"  --firmware FILE, --ovmf FILE  OVMF image (loaded to end at 4 GiB)\n"
	"  --vcpus N                 number of vCPUs, 1..512 (snp, sev-es)\n"
	"  --vcpu-type NAME          EPYC, EPYC-v1..v5, EPYC-IBPB, EPYC-Rome[-vN], EPYC-Milan[-vN],\n"
	"                            EPYC-Genoa[-vN], EPYC-Turin[-v1]\n"
	"  --vcpu-sig VALUE          CPUID signature instead of --vcpu-type\n"
	"  --vcpu-family N --vcpu-model N --vcpu-stepping N   the same, from its parts\n"
	"  --kernel FILE, --initrd FILE, --append CMDLINE   measured direct kernel boot (SEV hashes table)\n"
	"  --guest-features VALUE    SEV_FEATURES of the SNP VMSAs (default 0x1)\n"
	"  --vmm-type qemu|ec2|gce   whose initial vCPU state to reproduce (default qemu)\n"
	"  --snp-ovmf-hash HEX       start from this precomputed firmware digest (snp)\n"
	"  --output-format hex|base64  digest encoding (default hex)\n"
	"  --json                    print the digest and every input as JSON\n"
	"  --dump-vmsa DIR           write the measured VMSAs to DIR/vmsa<N>.bin\n"
	"  --trace                   one line per measured step on stderr (gpa, type, length, digest)\n"
	"  -v, --verbose             print \"Calculated <MODE> guest measurement: <digest>\"\n"
	"Exit status: 0 success, 2 usage or input error.\n";

enum {
	OPT_PLATFORM = 256, OPT_MODE, OPT_VCPUS, OPT_VCPU_TYPE, OPT_VCPU_SIG, OPT_FAMILY, OPT_MODEL, OPT_STEPPING,
	OPT_FIRMWARE, OPT_KERNEL, OPT_INITRD, OPT_APPEND, OPT_FEATURES, OPT_VMM, OPT_OVMF_HASH, OPT_OUTFMT,
	OPT_JSON, OPT_DUMP, OPT_TRACE,
};

static const struct option long_opts[] = {
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "vcpu-type", required_argument, NULL, OPT_VCPU_TYPE },
	{ "vcpu-sig", required_argument, NULL, OPT_VCPU_SIG },
	{ "vcpu-family", required_argument, NULL, OPT_FAMILY },
	{ "vcpu-model", required_argument, NULL, OPT_MODEL },
	{ "vcpu-stepping", required_argument, NULL, OPT_STEPPING },
	{ "ovmf", required_argument, NULL, OPT_FIRMWARE },
	{ "firmware", required_argument, NULL, OPT_FIRMWARE },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "guest-features", required_argument, NULL, OPT_FEATURES },
	{ "vmm-type", required_argument, NULL, OPT_VMM },
	{ "snp-ovmf-hash", required_argument, NULL, OPT_OVMF_HASH },
	{ "output-format", required_argument, NULL, OPT_OUTFMT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "dump-vmsa", required_argument, NULL, OPT_DUMP },
	{ "trace", no_argument, NULL, OPT_TRACE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* --platform (cvmm) and --mode (sev-snp-measure, sevsnpmeasure/sev_mode.py)
 * name the same thing. */
static int parse_mode(const char *flag, const char *s, struct measure_req *m)
{
	if (!strcasecmp(s, "snp") || !strcasecmp(s, "sev-snp"))
		m->mode = SEV_MODE_SNP;
	else if (!strcasecmp(s, "sev-es") || !strcasecmp(s, "seves"))
		m->mode = SEV_MODE_SEV_ES;
	else if (!strcasecmp(s, "sev"))
		m->mode = SEV_MODE_SEV;
	else if (!strcasecmp(s, "snp:ovmf-hash") && !strcmp(flag, "--mode")) {
		m->mode = SEV_MODE_SNP;
		m->ovmf_hash_only = true;
	} else if (!strcasecmp(s, "snp:svsm") || !strcasecmp(s, "sev-snp:svsm"))
		return err_set(EINVAL, "%s: '%s' (SNP with an SVSM) is not supported", flag, s);
	else
		return err_set(EINVAL, "%s: unknown platform '%s' (snp, sev-es, sev or tdx)", flag, s);
	return 0;
}

static bool wants_tdx(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((!strcmp(a, "--platform") || !strcmp(a, "--mode")) && i + 1 < argc && !strcasecmp(argv[i + 1], "tdx"))
			return true;
		if (!strcasecmp(a, "--platform=tdx") || !strcasecmp(a, "--mode=tdx"))
			return true;
	}
	return false;
}

static int u32_arg(const char *flag, const char *s, uint32_t *v)
{
	uint64_t x;
	int ret = parse_u64(s, UINT32_MAX, &x, flag);

	if (!ret)
		*v = (uint32_t)x;
	return ret;
}

static int parse_args(int argc, char **argv, struct measure_req *m, bool *help)
{
	const char *platform = NULL, *mode = NULL, *vcpus = NULL, *sig = NULL, *fam = NULL, *model = NULL,
		   *step = NULL, *features = NULL, *vmm = NULL, *ovmf_hash = NULL, *outfmt = NULL;
	int c, ret;

	opterr = 0;
	optind = 0; /* full re-initialisation (glibc): the CLI may run more than once per process */
	while ((c = getopt_long(argc, argv, "+vh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PLATFORM: platform = optarg; break;
		case OPT_MODE: mode = optarg; break;
		case OPT_VCPUS: vcpus = optarg; break;
		case OPT_VCPU_TYPE: m->vcpu_type = optarg; break;
		case OPT_VCPU_SIG: sig = optarg; break;
		case OPT_FAMILY: fam = optarg; break;
		case OPT_MODEL: model = optarg; break;
		case OPT_STEPPING: step = optarg; break;
		case OPT_FIRMWARE: m->firmware = optarg; break;
		case OPT_KERNEL: m->kernel = optarg; break;
		case OPT_INITRD: m->initrd = optarg; break;
		case OPT_APPEND: m->append = optarg; break;
		case OPT_FEATURES: features = optarg; break;
		case OPT_VMM: vmm = optarg; break;
		case OPT_OVMF_HASH: ovmf_hash = optarg; break;
		case OPT_OUTFMT: outfmt = optarg; break;
		case OPT_JSON: m->json = true; break;
		case OPT_DUMP: m->dump_dir = optarg; break;
		case OPT_TRACE: m->trace = true; break;
		case 'v': m->verbose = true; break;
		case 'h': *help = true; return 0;
		default:
			if (optopt && optopt >= OPT_PLATFORM)
				return err_set(EINVAL, "%s needs a value", argv[optind - 1]);
			return err_set(EINVAL, "unknown option '%s' (try cvmm measure --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(EINVAL, "unexpected argument '%s' (try cvmm measure --help)", argv[optind]);

	if (!platform && !mode)
		return err_set(EINVAL, "missing --platform (snp, sev-es, sev, tdx) or --mode (snp, seves, sev)");
	if (platform && (ret = parse_mode("--platform", platform, m)))
		return ret;
	if (mode) {
		enum sev_mode from_platform = m->mode;

		if ((ret = parse_mode("--mode", mode, m)))
			return ret;
		if (platform && from_platform != m->mode)
			return err_set(EINVAL, "--platform %s and --mode %s disagree", platform, mode);
	}
	if (!m->firmware)
		return err_set(EINVAL, "missing --firmware FILE (or --ovmf FILE)");
	if (m->initrd && !m->kernel)
		return err_set(EINVAL, "--initrd needs --kernel");
	if (m->append && *m->append && !m->kernel)
		return err_set(EINVAL, "--append needs --kernel");

	m->guest_features = 0x1; /* sev-snp-measure's default: SNP active */
	if (features && (ret = parse_u64(features, UINT64_MAX, &m->guest_features, "--guest-features")))
		return ret;
	if (vmm && (ret = sev_vmm_type_parse(vmm, &m->vmm)))
		return ret;
	if (outfmt && !strcmp(outfmt, "base64"))
		m->base64 = true;
	else if (outfmt && strcmp(outfmt, "hex"))
		return err_set(EINVAL, "--output-format: unknown format '%s' (hex or base64)", outfmt);
	if (ovmf_hash) {
		if (m->mode != SEV_MODE_SNP || m->ovmf_hash_only)
			return err_set(EINVAL, "--snp-ovmf-hash only works with --platform snp");
		if ((ret = hex_decode_exact(ovmf_hash, m->ovmf_hash, SNP_DIGEST_LEN, "--snp-ovmf-hash")))
			return ret;
		m->has_ovmf_hash = true;
	}
	if (m->dump_dir && (m->mode == SEV_MODE_SEV || m->ovmf_hash_only))
		return err_set(EINVAL, "--dump-vmsa: SEV guests have no VMSA (use sev-es or snp)");
	if (m->mode == SEV_MODE_SEV || m->ovmf_hash_only)
		return 0;

	if (!vcpus)
		return err_set(EINVAL, "missing --vcpus N (needed for %s)", m->mode == SEV_MODE_SNP ? "snp" : "sev-es");
	uint64_t n;
	if ((ret = parse_u64(vcpus, SEV_MAX_VCPUS, &n, "--vcpus")))
		return ret;
	if (!n)
		return err_set(EINVAL, "--vcpus: 0 is out of range (1..%u)", SEV_MAX_VCPUS);
	m->vcpus = (unsigned)n;

	/* Precedence as in sev-snp-measure: family/model/stepping, then
	 * --vcpu-sig, then --vcpu-type (which must be known in any case). */
	if (m->vcpu_type && (ret = sev_vcpu_type_sig(m->vcpu_type, &m->vcpu_sig)))
		return ret;
	if (sig && (ret = u32_arg("--vcpu-sig", sig, &m->vcpu_sig)))
		return ret;
	if (fam || model || step) {
		uint32_t f, mo, st;

		if (!fam || !model || !step)
			return err_set(EINVAL, "--vcpu-family, --vcpu-model and --vcpu-stepping go together");
		if ((ret = u32_arg("--vcpu-family", fam, &f)) || (ret = u32_arg("--vcpu-model", model, &mo)) ||
		    (ret = u32_arg("--vcpu-stepping", step, &st)))
			return ret;
		if (f > 0xff + 0xf || mo > 0xff || st > 0xf)
			return err_set(EINVAL, "--vcpu-family/--vcpu-model/--vcpu-stepping %u/%u/%u out of range "
					       "(family <= 270, model <= 255, stepping <= 15)", f, mo, st);
		m->vcpu_sig = sev_cpu_sig(f, mo, st);
	}
	m->has_vcpu_sig = m->vcpu_type || sig || fam;
	/* EC2 and GCE load a fixed RDX, so only QEMU needs the signature. */
	if (!m->has_vcpu_sig && m->vmm == SEV_VMM_QEMU)
		return err_set(EINVAL, "missing --vcpu-type, --vcpu-sig or --vcpu-family/--vcpu-model/--vcpu-stepping");
	return 0;
}

static int load_inputs(struct measure_req *m)
{
	int ret = fw_load(m->firmware, &m->fw);

	if (ret)
		return ret;
	m->fw_loaded = true;
	ret = fw_sev_parse(&m->fw, &m->info);
	if (ret)
		return ret;
	if (!m->kernel)
		return 0;
	ret = file_read(m->kernel, KERNEL_MAX, &m->kernel_data, &m->kernel_len);
	if (!ret && m->initrd)
		ret = file_read(m->initrd, INITRD_MAX, &m->initrd_data, &m->initrd_len);
	if (!ret)
		ret = fw_sev_hashes_compute(m->kernel_data, m->kernel_len, m->initrd_data, m->initrd_len, m->append,
					    &m->hashes);
	return ret;
}

static void release(struct measure_req *m)
{
	if (m->fw_loaded)
		fw_free(&m->fw);
	free(m->kernel_data);
	free(m->initrd_data);
	plan_free(&m->plan);
}

static void trace_step(void *ctx, size_t index, const struct plan_step *s, const uint8_t *digest, size_t n)
{
	char hex[2 * SNP_DIGEST_LEN + 1];

	(void)ctx;
	hex_encode(digest, n, hex);
	fprintf(stderr, "trace: step %zu gpa=%#llx type=%s len=%#llx pages=%llu label=\"%s\" digest=%s\n", index,
		(unsigned long long)s->gpa, plan_kind_name(s->kind), (unsigned long long)s->len,
		(unsigned long long)((s->len + SEV_PAGE_SIZE - 1) / SEV_PAGE_SIZE), s->label, hex);
}

int sev_measure_compute(struct measure_req *m)
{
	struct sev_launch_cfg cfg = {
		.mode = m->mode, .vcpus = m->vcpus, .vcpu_sig = m->vcpu_sig, .guest_features = m->guest_features,
		.vmm = m->vmm, .fw = &m->fw, .info = &m->info, .hashes = m->kernel ? &m->hashes : NULL,
	};
	sev_trace_fn trace = m->trace ? trace_step : NULL;
	int ret;

	if (m->ovmf_hash_only) {
		struct plan_step s = { .gpa = m->fw.base_gpa, .len = m->fw.size, .kind = PLAN_NORMAL,
				       .data = m->fw.data, .vcpu = -1, .label = "firmware" };

		m->digest_len = SNP_DIGEST_LEN;
		ret = plan_add(&m->plan, &s);
		return ret ? ret : snp_digest_fold(&m->plan, 0, NULL, m->digest, trace, NULL);
	}
	ret = sev_plan_build(&cfg, &m->plan);
	if (ret)
		return ret;
	if (m->mode == SEV_MODE_SNP) {
		m->digest_len = SNP_DIGEST_LEN;
		/* With --snp-ovmf-hash the seed stands for the firmware step (step 0). */
		if (m->trace && m->has_ovmf_hash)
			trace_step(NULL, 0, &m->plan.steps[0], m->ovmf_hash, SNP_DIGEST_LEN);
		return snp_digest_fold(&m->plan, m->has_ovmf_hash ? 1 : 0, m->has_ovmf_hash ? m->ovmf_hash : NULL,
				       m->digest, trace, NULL);
	}
	m->digest_len = SEV_DIGEST_LEN;
	return sev_digest_fold(&m->plan, m->digest, trace, NULL);
}

static int dump_vmsas(const struct measure_req *m)
{
	for (size_t i = 0; i < m->plan.n; i++) {
		const struct plan_step *s = &m->plan.steps[i];
		char path[4096];
		int ret;

		if (s->kind != PLAN_VMSA)
			continue;
		if (snprintf(path, sizeof(path), "%s/vmsa%d.bin", m->dump_dir, s->vcpu) >= (int)sizeof(path))
			return err_set(ENAMETOOLONG, "--dump-vmsa: directory name too long");
		ret = file_write(path, s->data, SEV_PAGE_SIZE);
		if (ret)
			return ret;
	}
	return 0;
}

int sev_cli_measure(int argc, char **argv)
{
	struct measure_req m = {0};
	struct bytebuf out = {0};
	bool help = false;
	int ret;

	if (wants_tdx(argc, argv))
		return tdx_cli_measure(argc, argv);
	err_clear();
	ret = parse_args(argc, argv, &m, &help);
	if (!ret && help) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!ret)
		ret = load_inputs(&m);
	if (!ret)
		ret = sev_measure_compute(&m);
	if (!ret && m.dump_dir)
		ret = dump_vmsas(&m);
	if (!ret)
		ret = sev_measure_format(&m, &out);
	if (!ret && fwrite(out.data, 1, out.len, stdout) != out.len)
		ret = err_set(EIO, "writing the result to stdout failed");
	release(&m);
	bb_free(&out);
	if (ret) {
		fprintf(stderr, "cvmm measure: %s\n", err_msg());
		return 2;
	}
	return 0;
}
