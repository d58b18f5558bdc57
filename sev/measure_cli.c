/* `cvmm measure`: predict the launch digest of an SEV, SEV-ES or SEV-SNP
 * guest (and hand TDX to tdx/). Flags and output follow the public tool
 * sev-snp-measure so its users need not relearn them; see docs/measure.md. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/common.h"
#include "sev.h"
#include "sev_measure.h"
#include "igvm.h"
#include "tdx/tdx.h"

#define KERNEL_MAX ((size_t)1 << 30)
#define INITRD_MAX ((size_t)2 << 30)

static const char usage_text[] =
	"usage: cvmm measure --platform snp|sev-es|sev|tdx (or --mode snp|seves|sev) --firmware FILE [OPTIONS]\n"
	"Predict the launch digest the AMD secure processor reports (SNP: SHA-384, SEV/SEV-ES: SHA-256).\n"
	"  --platform P, --mode M    snp (sev-snp), sev-es (seves), sev; --mode snp:ovmf-hash prints the\n"
	"                            digest of the firmware pages only (for --snp-ovmf-hash); snp:svsm is\n"
	"                            SNP with a COCONUT-SVSM (--svsm, --vars-size or --vars-file)\n"
	"  --svsm FILE               the SVSM binary (snp:svsm), placed below the OVMF variables store\n"
	"  --vars-size N, --vars-file FILE   size of the OVMF variables store (snp:svsm)\n"
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
	"  --igvm FILE               measure an IGVM file instead (snp, sev-es, sev, tdx; cvmm measure --igvm F --help)\n"
	"Exit status: 0 success, 2 usage or input error.\n";

enum {
	OPT_PLATFORM = 256, OPT_MODE, OPT_VCPUS, OPT_VCPU_TYPE, OPT_VCPU_SIG, OPT_FAMILY, OPT_MODEL, OPT_STEPPING,
	OPT_FIRMWARE, OPT_KERNEL, OPT_INITRD, OPT_APPEND, OPT_FEATURES, OPT_VMM, OPT_OVMF_HASH, OPT_OUTFMT,
	OPT_JSON, OPT_DUMP, OPT_TRACE, OPT_SVSM, OPT_VARS_SIZE, OPT_VARS_FILE,
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
	{ "svsm", required_argument, NULL, OPT_SVSM },
	{ "vars-size", required_argument, NULL, OPT_VARS_SIZE },
	{ "vars-file", required_argument, NULL, OPT_VARS_FILE },
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
	} else if (!strcasecmp(s, "snp:svsm") || !strcasecmp(s, "sev-snp:svsm")) {
		m->mode = SEV_MODE_SNP;
		m->svsm_mode = true;
	}
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

/* Numbers are read as sev-snp-measure reads them (Python int()), so one
 * spelling never means two values: surrounding blanks, a '+' and single '_'
 * between digits are allowed. --guest-features and --vcpu-sig take a 0x/0o/0b
 * prefix (int(s, 0)) and reject other leading zeros, as Python does (never C
 * octal: "010" is an error, not 8). The other counts are decimal, where "010"
 * is ten; cvmm also takes 0x there. Negative values are rejected: sev-snp-
 * measure would wrap them into the VMSA, which no VMM does. */
static int py_int(const char *flag, const char *s, bool auto_base, uint64_t max, uint64_t *out)
{
	const char *p = s, *digits;
	unsigned base = 10, d;
	uint64_t v = 0;
	bool neg = false, any = false, lead_zero = false, nonzero = false;

	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X' || (auto_base && strchr("oObB", p[1]) && p[1]))) {
		base = (p[1] == 'x' || p[1] == 'X') ? 16 : (p[1] == 'o' || p[1] == 'O') ? 8 : 2;
		p += 2;
		if (*p == '_') /* Python allows one '_' after the prefix */
			p++;
	}
	digits = p;
	for (; *p; p++) {
		if (*p == '_' && p > digits && p[-1] != '_' && isxdigit((unsigned char)p[1]))
			continue;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (d >= base)
			break;
		if (!any && d == 0 && base == 10)
			lead_zero = true;
		nonzero |= d != 0;
		any = true;
		if (v > (UINT64_MAX - d) / base)
			return err_set(ERANGE, "%s: '%s' is too large (at most %llu)", flag, s, (unsigned long long)max);
		v = v * base + d;
	}
	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (!any || *p || (p > digits && p[-1] == '_'))
		return err_set(EINVAL, "%s: '%s' is not a number", flag, s);
	if (auto_base && lead_zero && nonzero)
		return err_set(EINVAL, "%s: '%s': a leading zero is ambiguous (write 0x.. for hex, 0o.. for octal, or "
				       "drop the zero)", flag, s);
	if (neg && v)
		return err_set(EINVAL, "%s: '%s' is negative", flag, s);
	if (v > max)
		return err_set(ERANGE, "%s: %llu is out of range (at most %llu)", flag, (unsigned long long)v,
			       (unsigned long long)max);
	*out = v;
	return 0;
}

static int u32_arg(const char *flag, const char *s, bool auto_base, uint32_t *v)
{
	uint64_t x;
	int ret = py_int(flag, s, auto_base, UINT32_MAX, &x);

	if (!ret)
		*v = (uint32_t)x;
	return ret;
}

/* bytes.fromhex() as sev-snp-measure uses it: blanks between byte pairs are
 * allowed; cvmm also takes a leading 0x. */
static int parse_ovmf_hash(const char *s, uint8_t out[SNP_DIGEST_LEN])
{
	char hex[2 * SNP_DIGEST_LEN + 1];
	size_t n = 0;
	const char *p = s;

	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p; p++) {
		if (*p == ' ' || (*p >= '\t' && *p <= '\r')) {
			if (n % 2)
				return err_set(EINVAL, "--snp-ovmf-hash: blank inside a byte at offset %zu", (size_t)(p - s));
			continue;
		}
		if (n == sizeof(hex) - 1)
			return err_set(EINVAL, "--snp-ovmf-hash: more than %u bytes (%u hex digits)", SNP_DIGEST_LEN,
				       2 * SNP_DIGEST_LEN);
		hex[n++] = *p;
	}
	hex[n] = 0;
	return hex_decode_exact(hex, out, SNP_DIGEST_LEN, "--snp-ovmf-hash");
}

/* snp:svsm (sev-snp-measure's SEV_SNP_SVSM): QEMU only, no measured kernel
 * (the SVSM starts OVMF, which loads the kernel unmeasured), no precomputed
 * firmware digest. */
static int svsm_args(struct measure_req *m, const char *vars_size)
{
	int ret;

	if (!m->svsm_mode) {
		if (m->svsm || vars_size || m->vars_file)
			return err_set(EINVAL, "%s only works with --mode snp:svsm",
				       m->svsm ? "--svsm" : vars_size ? "--vars-size" : "--vars-file");
		return 0;
	}
	if (!m->svsm)
		return err_set(EINVAL, "snp:svsm needs --svsm FILE (the SVSM binary)");
	if (vars_size && m->vars_file)
		return err_set(EINVAL, "--vars-size and --vars-file conflict (give one)");
	if (!vars_size && !m->vars_file)
		return err_set(EINVAL, "snp:svsm needs --vars-size N or --vars-file FILE (the OVMF variables store)");
	if (vars_size && (ret = py_int("--vars-size", vars_size, false, 1ull << 32, &m->vars_size)))
		return ret;
	if (m->kernel)
		return err_set(EINVAL, "--kernel: snp:svsm measures no kernel (OVMF loads it after the SVSM, unmeasured)");
	if (m->vmm != SEV_VMM_QEMU)
		return err_set(EINVAL, "--vmm-type: snp:svsm is only defined for QEMU");
	return 0;
}

static int parse_args(int argc, char **argv, struct measure_req *m, bool *help)
{
	const char *platform = NULL, *mode = NULL, *vcpus = NULL, *sig = NULL, *fam = NULL, *model = NULL,
		   *step = NULL, *features = NULL, *vmm = NULL, *ovmf_hash = NULL, *outfmt = NULL, *vars_size = NULL;
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
		case OPT_SVSM: m->svsm = optarg; break;
		case OPT_VARS_SIZE: vars_size = optarg; break;
		case OPT_VARS_FILE: m->vars_file = optarg; break;
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
	if ((ret = svsm_args(m, vars_size)))
		return ret;
	if (m->initrd && !m->kernel)
		return err_set(EINVAL, "--initrd needs --kernel");
	if (m->append && *m->append && !m->kernel)
		return err_set(EINVAL, "--append needs --kernel");

	m->guest_features = 0x1; /* sev-snp-measure's default: SNP active */
	if (features && (ret = py_int("--guest-features", features, true, UINT64_MAX, &m->guest_features)))
		return ret;
	if (vmm && (ret = sev_vmm_type_parse(vmm, &m->vmm)))
		return ret;
	if (outfmt && !strcmp(outfmt, "base64"))
		m->base64 = true;
	else if (outfmt && strcmp(outfmt, "hex"))
		return err_set(EINVAL, "--output-format: unknown format '%s' (hex or base64)", outfmt);
	/* An empty --snp-ovmf-hash is no hash, as in sev-snp-measure (the
	 * firmware pages are then hashed). */
	if (ovmf_hash && *ovmf_hash) {
		if (m->mode != SEV_MODE_SNP || m->ovmf_hash_only || m->svsm_mode)
			return err_set(EINVAL, "--snp-ovmf-hash only works with --platform snp");
		if ((ret = parse_ovmf_hash(ovmf_hash, m->ovmf_hash)))
			return ret;
		m->has_ovmf_hash = true;
	}
	if (m->dump_dir && (m->mode == SEV_MODE_SEV || m->ovmf_hash_only))
		return err_set(EINVAL, "--dump-vmsa: SEV guests have no VMSA (use sev-es or snp)");

	/* The vCPU flags are checked in every mode (sev-snp-measure's argparse
	 * does), even where SEV ignores them. */
	uint64_t n = 0;
	if (vcpus && (ret = py_int("--vcpus", vcpus, false, UINT32_MAX, &n)))
		return ret;
	/* Precedence as in sev-snp-measure: family/model/stepping, then
	 * --vcpu-sig, then --vcpu-type (which must be known in any case). */
	if (m->vcpu_type && (ret = sev_vcpu_type_sig(m->vcpu_type, &m->vcpu_sig)))
		return ret;
	if (sig && (ret = u32_arg("--vcpu-sig", sig, true, &m->vcpu_sig)))
		return ret;
	if (fam || model || step) {
		uint32_t f, mo, st;

		if (!fam || !model || !step)
			return err_set(EINVAL, "--vcpu-family, --vcpu-model and --vcpu-stepping go together");
		if ((ret = u32_arg("--vcpu-family", fam, false, &f)) || (ret = u32_arg("--vcpu-model", model, false, &mo)) ||
		    (ret = u32_arg("--vcpu-stepping", step, false, &st)))
			return ret;
		/* QEMU's limits (target/i386/cpu.c, x86_cpuid_version_set_family/
		 * _model/_stepping); sev-snp-measure would silently wrap. */
		if (f > 0xff + 0xf || mo > 0xff || st > 0xf)
			return err_set(EINVAL, "--vcpu-family/--vcpu-model/--vcpu-stepping %u/%u/%u out of range "
					       "(family <= 270, model <= 255, stepping <= 15)", f, mo, st);
		m->vcpu_sig = sev_cpu_sig(f, mo, st);
	}
	m->has_vcpu_sig = m->vcpu_type || sig || fam;
	if (m->mode == SEV_MODE_SEV || m->ovmf_hash_only)
		return 0;

	if (!vcpus)
		return err_set(EINVAL, "missing --vcpus N (needed for %s)", m->mode == SEV_MODE_SNP ? "snp" : "sev-es");
	/* A guest has at least one vCPU (QEMU -smp); sev-snp-measure would
	 * measure none. */
	if (!n || n > SEV_MAX_VCPUS)
		return err_set(ERANGE, "--vcpus: %llu is out of range (1..%u)", (unsigned long long)n, SEV_MAX_VCPUS);
	m->vcpus = (unsigned)n;
	/* EC2 and GCE load a fixed RDX, so only QEMU needs the signature. */
	if (!m->has_vcpu_sig && m->vmm == SEV_VMM_QEMU)
		return err_set(EINVAL, "missing --vcpu-type, --vcpu-sig or --vcpu-family/--vcpu-model/--vcpu-stepping");
	return 0;
}

/* Only SNP uses the SEV metadata sections. When they (or the whole footer
 * table) are missing or unreadable, SEV and SEV-ES still launch: QEMU ignores
 * metadata it cannot read (hw/i386/pc_sysfw_ovmf.c, pc_system_parse_sev_metadata)
 * and needs only the reset block (SEV-ES) and the hashes table (direct kernel
 * boot); snp:ovmf-hash needs nothing but the image. Errors in those two
 * entries, or a malformed table, still fail. */
static int info_without_metadata(struct measure_req *m, int parse_err)
{
	const uint8_t *d;
	size_t n;
	int ret;

	/* without any footer table SEV-ES cannot start its APs: keep the
	 * parser's message, which names the missing table */
	if (parse_err == -ENOENT && m->mode == SEV_MODE_SEV_ES)
		return parse_err;
	memset(&m->info, 0, sizeof(m->info));
	if (m->ovmf_hash_only) {
		err_clear();
		return 0;
	}
	ret = fw_table_find(&m->fw, FW_GUID_SEV_ES_RESET, &d, &n);
	if (ret && ret != -ENOENT)
		return parse_err;
	if (!ret && n >= 4) {
		m->info.has_reset_block = true;
		m->info.ap_reset_eip = le32(d);
	}
	ret = fw_table_find(&m->fw, FW_GUID_SEV_HASHES, &d, &n);
	if (ret && ret != -ENOENT)
		return parse_err;
	if (!ret && n >= 8 && le32(d)) {
		m->info.has_hashes_table = true;
		m->info.hashes_gpa = le32(d);
		m->info.hashes_size = le32(d + 4);
	}
	err_clear();
	return 0;
}

static int load_svsm(struct measure_req *m)
{
	uint8_t sha[32];
	int ret;

	/* the variables store is not measured: only its size matters */
	if (m->vars_file && (ret = sev_file_sha256(m->vars_file, 1ull << 32, sha, &m->vars_size)))
		return err_wrap(-ret, "--vars-file");
	if ((ret = fw_load(m->svsm, &m->svsm_fw)))
		return ret;
	m->svsm_loaded = true;
	if ((ret = sev_svsm_place(&m->fw, m->vars_size, &m->svsm_fw)))
		return ret;
	return fw_sev_parse(&m->svsm_fw, &m->svsm_info);
}

static int load_inputs(struct measure_req *m)
{
	int ret = fw_load(m->firmware, &m->fw);

	if (ret)
		return ret;
	m->fw_loaded = true;
	if (m->svsm_mode)
		return load_svsm(m);
	ret = fw_sev_parse(&m->fw, &m->info);
	if (ret && (m->mode != SEV_MODE_SNP || m->ovmf_hash_only))
		ret = info_without_metadata(m, ret);
	if (ret)
		return ret;
	if (!m->kernel)
		return 0;
	/* The command line's hash (and the empty initrd's), then the files',
	 * streamed: a kernel or initrd may be a pipe or /dev/null. */
	ret = fw_sev_hashes_compute(NULL, 0, NULL, 0, m->append, &m->hashes);
	if (!ret)
		ret = sev_file_sha256(m->kernel, KERNEL_MAX, m->hashes.kernel, &m->kernel_len);
	if (!ret && m->initrd)
		ret = sev_file_sha256(m->initrd, INITRD_MAX, m->hashes.initrd, &m->initrd_len);
	return ret;
}

int sev_measure_load(struct measure_req *m)
{
	return load_inputs(m);
}

static void release(struct measure_req *m)
{
	if (m->fw_loaded)
		fw_free(&m->fw);
	if (m->svsm_loaded)
		fw_free(&m->svsm_fw);
	plan_free(&m->plan);
}

void sev_measure_release(struct measure_req *m)
{
	release(m);
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
	if (m->svsm_mode) {
		struct sev_svsm_cfg sc = { .vcpus = m->vcpus, .vcpu_sig = m->vcpu_sig, .ovmf = &m->fw,
					   .svsm = &m->svsm_fw, .svsm_info = &m->svsm_info };

		m->digest_len = SNP_DIGEST_LEN;
		ret = sev_svsm_plan_build(&sc, &m->plan);
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

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--igvm") || !strncmp(argv[i], "--igvm=", 7))
			return igvm_cli_measure(argc, argv);
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
