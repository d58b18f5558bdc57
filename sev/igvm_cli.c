/* `cvmm measure --igvm FILE` (the launch digest of an IGVM file, as
 * COCONUT-SVSM's igvmmeasure computes it) and `cvmm show --igvm FILE` (its
 * headers). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/common.h"
#include "igvm.h"
#include "sev.h"

#define IGVM_MAX (1u << 30)

static const char measure_usage[] =
	"usage: cvmm measure --igvm FILE [--platform snp|sev-es|sev|tdx] [OPTIONS]\n"
	"Predict the launch digest an IGVM file's directives produce (as COCONUT-SVSM's igvmmeasure).\n"
	"  --igvm FILE            the IGVM file (any readable file)\n"
	"  --platform P           snp (default; also sev-snp), sev-es (seves), sev, tdx (MRTD)\n"
	"  --native-zero          measure pages without data as SNP ZERO pages (igvmmeasure --native-zero)\n"
	"  --ignore-idblock       do not check the digest against the file's SNP ID block\n"
	"  --check-kvm            refuse what QEMU/KVM cannot launch as measured (igvmmeasure --check-kvm)\n"
	"  --output-format hex|base64, --json, --trace, -v   as for cvmm measure\n"
	"Exit status: 0 success, 2 usage or input error (also: the ID block's digest differs).\n";

enum { O_IGVM = 256, O_PLATFORM, O_NATIVE_ZERO, O_IGNORE_ID, O_OUTFMT, O_JSON, O_TRACE, O_CHECK_KVM };

static const struct option measure_opts[] = {
	{ "igvm", required_argument, NULL, O_IGVM },
	{ "platform", required_argument, NULL, O_PLATFORM },
	{ "mode", required_argument, NULL, O_PLATFORM },
	{ "native-zero", no_argument, NULL, O_NATIVE_ZERO },
	{ "ignore-idblock", no_argument, NULL, O_IGNORE_ID },
	{ "check-kvm", no_argument, NULL, O_CHECK_KVM },
	{ "output-format", required_argument, NULL, O_OUTFMT },
	{ "json", no_argument, NULL, O_JSON },
	{ "trace", no_argument, NULL, O_TRACE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void trace_step(void *ctx, size_t index, const struct plan_step *s, const uint8_t *digest, size_t n)
{
	char hex[97];

	(void)ctx;
	hex_encode(digest, n, hex);
	fprintf(stderr, "trace: step %zu gpa=%#llx type=%s len=%#llx pages=%llu label=\"%s\" digest=%s\n", index,
		(unsigned long long)s->gpa, plan_kind_name(s->kind), (unsigned long long)s->len,
		(unsigned long long)(s->len / SEV_PAGE_SIZE), s->label, hex);
}

static int parse_platform(const char *s, uint32_t *p)
{
	if (!strcasecmp(s, "snp") || !strcasecmp(s, "sev-snp"))
		*p = IGVM_PLATFORM_SEV_SNP;
	else if (!strcasecmp(s, "sev-es") || !strcasecmp(s, "seves"))
		*p = IGVM_PLATFORM_SEV_ES;
	else if (!strcasecmp(s, "sev"))
		*p = IGVM_PLATFORM_SEV;
	else if (!strcasecmp(s, "tdx"))
		*p = IGVM_PLATFORM_TDX;
	else
		return err_set(EINVAL, "--platform: unknown platform '%s' for --igvm (snp, sev-es, sev, tdx)", s);
	return 0;
}

/* igvmmeasure --check-kvm: QEMU/KVM sets only the first vCPU's VMSA, at
 * the fixed VMSA gpa, measures it last (so no parameter insert may follow
 * it), and overrides CR0 (protected or real mode with NE: 0x31 or 0x30). */
static int check_kvm(const struct igvm *f)
{
	size_t vmsas = 0;

	for (size_t i = 0; i < f->n; i++) {
		const struct igvm_hdr *h = &f->h[i];

		if (h->type == IGVM_VHT_PARAMETER_INSERT && vmsas)
			return err_set(EINVAL, "%s: --check-kvm: PARAMETER_INSERT at offset %#x follows the VMSA; QEMU/KVM "
					       "measures the VMSA last", f->what, h->offset);
		if (h->type != IGVM_VHT_VP_CONTEXT || !h->data)
			continue;
		if (vmsas++)
			return err_set(EINVAL, "%s: --check-kvm: more than one VMSA (offset %#x); QEMU/KVM sets only the "
					       "first vCPU's", f->what, h->offset);
		if (h->gpa != SNP_VMSA_GPA)
			return err_set(EINVAL, "%s: --check-kvm: VMSA gpa %#llx is not KVM's %#llx", f->what,
				       (unsigned long long)h->gpa, (unsigned long long)SNP_VMSA_GPA);
		if (le64(h->data + 0x158) != 0x31 && le64(h->data + 0x158) != 0x30)
			return err_set(EINVAL, "%s: --check-kvm: VMSA CR0 %#llx is not 0x31 or 0x30 (KVM overrides it)",
				       f->what, (unsigned long long)le64(h->data + 0x158));
	}
	return 0;
}

static int load(const char *path, uint8_t **data, size_t *len, struct igvm *f)
{
	int ret = file_read_any(path, IGVM_MAX, data, len);

	return ret ? ret : igvm_parse(*data, *len, path, f);
}

static int do_measure(int argc, char **argv, struct bytebuf *out, bool *help)
{
	const char *path = NULL, *outfmt = NULL;
	struct igvm_measure_opts o = { .platform = IGVM_PLATFORM_SEV_SNP };
	struct igvm_measurement m;
	struct igvm f = {0};
	bool ignore_id = false, kvm = false, json = false, trace = false, verbose = false, b64 = false;
	uint8_t *data = NULL;
	size_t len = 0;
	char digest[129];
	int c, ret;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+vh", measure_opts, NULL)) != -1) {
		switch (c) {
		case O_IGVM: path = optarg; break;
		case O_PLATFORM:
			if ((ret = parse_platform(optarg, &o.platform)))
				return ret;
			break;
		case O_NATIVE_ZERO: o.native_zero = true; break;
		case O_IGNORE_ID: ignore_id = true; break;
		case O_CHECK_KVM: kvm = true; break;
		case O_OUTFMT: outfmt = optarg; break;
		case O_JSON: json = true; break;
		case O_TRACE: trace = true; break;
		case 'v': verbose = true; break;
		case 'h': *help = true; return 0;
		default:
			if (optopt && optopt >= O_IGVM)
				return err_set(EINVAL, "%s needs a value", argv[optind - 1]);
			return err_set(EINVAL, "unknown option '%s' with --igvm (try cvmm measure --igvm x --help)",
				       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!path)
		return err_set(EINVAL, "--igvm needs a file");
	if (outfmt && !strcmp(outfmt, "base64"))
		b64 = true;
	else if (outfmt && strcmp(outfmt, "hex"))
		return err_set(EINVAL, "--output-format: unknown format '%s' (hex or base64)", outfmt);
	if ((ret = load(path, &data, &len, &f)) || (kvm && (ret = check_kvm(&f))))
		goto out;
	if (trace && o.platform != IGVM_PLATFORM_SEV_SNP)
		fprintf(stderr, "trace: only SNP digests are traced step by step\n");
	if ((ret = igvm_measure(&f, &o, &m, trace ? trace_step : NULL, NULL)))
		goto out;
	if (b64)
		EVP_EncodeBlock((unsigned char *)digest, m.digest, (int)m.digest_len);
	else
		hex_encode(m.digest, m.digest_len, digest);
	if (m.has_id_block && !ignore_id && memcmp(m.id_block_ld, m.digest, m.digest_len)) {
		char want[97];

		hex_encode(m.id_block_ld, 48, want);
		ret = err_set(EINVAL, "%s: the SNP ID block expects digest %s, the directives give %s (--ignore-idblock "
				      "to print it anyway)", path, want, digest);
		goto out;
	}
	if (json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:b}", "platform",
				      o.platform == IGVM_PLATFORM_SEV_SNP ? "snp" : o.platform == IGVM_PLATFORM_SEV_ES ? "sev-es"
				      : o.platform == IGVM_PLATFORM_TDX ? "tdx" : "sev",
				      "digest_algorithm", m.digest_len == 48 ? "sha384" : "sha256", "digest", digest, "igvm", path,
				      "vmsas", (json_int_t)m.vmsas, "id_block", m.has_id_block, "native_zero", o.native_zero);
		char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

		json_decref(j);
		ret = text ? bb_printf(out, "%s\n", text) : err_set(ENOMEM, "out of memory");
		free(text);
	} else if (verbose) {
		ret = bb_printf(out, "Calculated %s guest measurement: %s\n",
				o.platform == IGVM_PLATFORM_SEV_SNP ? "SEV_SNP" : o.platform == IGVM_PLATFORM_SEV_ES ? "SEV_ES"
				: o.platform == IGVM_PLATFORM_TDX ? "TDX MRTD" : "SEV",
				digest);
	} else {
		ret = bb_printf(out, "%s\n", digest);
	}
out:
	igvm_free(&f);
	free(data);
	return ret;
}

static int finish(const char *cmd, int ret, bool help, const char *usage, struct bytebuf *out)
{
	if (!ret && help)
		fputs(usage, stdout);
	else if (!ret && fwrite(out->data, 1, out->len, stdout) != out->len)
		ret = err_set(EIO, "writing the result to stdout failed");
	bb_free(out);
	if (ret) {
		fprintf(stderr, "cvmm %s: %s\n", cmd, err_msg());
		return 2;
	}
	return 0;
}

int igvm_cli_measure(int argc, char **argv)
{
	struct bytebuf out = {0};
	bool help = false;
	int ret;

	err_clear();
	ret = do_measure(argc, argv, &out, &help);
	return finish("measure", ret, help, measure_usage, &out);
}

static const char show_usage[] = "usage: cvmm show --igvm FILE\nList the headers of an IGVM file.\n";

int igvm_cli_show(int argc, char **argv)
{
	const char *path = NULL;
	struct bytebuf out = {0};
	struct igvm f = {0};
	uint8_t *data = NULL;
	size_t len = 0;
	bool help = false;
	int ret = 0;

	err_clear();
	for (int i = 1; i < argc && !ret; i++) {
		if (!strcmp(argv[i], "--igvm") && i + 1 < argc)
			path = argv[++i];
		else if (!strncmp(argv[i], "--igvm=", 7))
			path = argv[i] + 7;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			help = true;
		else
			ret = err_set(EINVAL, "unexpected argument '%s' with --igvm", argv[i]);
	}
	if (!ret && !help && !path)
		ret = err_set(EINVAL, "--igvm needs a file");
	if (!ret && !help && !(ret = load(path, &data, &len, &f)))
		ret = igvm_show(&f, &out);
	igvm_free(&f);
	free(data);
	return finish("show", ret, help, show_usage, &out);
}
