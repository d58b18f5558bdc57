/* `cvmm measure --platform tdx`: predict MRTD for a TDVF image.
 *
 * The dispatcher (sev/measure_cli.c) hands over its argv unchanged, so
 * --platform/--mode tdx are accepted here too. MRCONFIGID, MROWNER and
 * MROWNERCONFIG are not measured: the host sets them in TDH.MNG.INIT
 * (TD_PARAMS) and the quote reports them as given, so they are only echoed
 * in the JSON for the reference values. Docs: docs/measure-tdx.md. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/common.h"
#include "tdx.h"

#define DEFAULT_MEM (2ull << 30)
#define MAX_MEM     (1ull << 46)
#define MAX_VCPUS   576 /* KVM_MAX_VCPUS for TDX guests is far above any TD we build */

struct measure_opts {
	const char *firmware, *output;
	const char *kernel, *initrd, *append; /* RTMR inputs: recorded, not in MRTD */
	uint64_t mem, vcpus;
	enum tdx_mrtd_variant variant;
	bool json, trace;
	uint8_t mrconfigid[TDX_MR_SIZE], mrowner[TDX_MR_SIZE], mrownerconfig[TDX_MR_SIZE];
};

enum { OPT_PLATFORM = 256, OPT_FIRMWARE, OPT_MEM, OPT_VCPUS, OPT_VARIANT, OPT_JSON, OPT_TRACE, OPT_MRCONFIGID,
       OPT_MROWNER, OPT_MROWNERCONFIG, OPT_OUTPUT, OPT_KERNEL, OPT_INITRD, OPT_APPEND };

static const struct option long_opts[] = {
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "mode", required_argument, NULL, OPT_PLATFORM },
	{ "firmware", required_argument, NULL, OPT_FIRMWARE },
	{ "ovmf", required_argument, NULL, OPT_FIRMWARE },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "mrtd-variant", required_argument, NULL, OPT_VARIANT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "trace", no_argument, NULL, OPT_TRACE },
	{ "mrconfigid", required_argument, NULL, OPT_MRCONFIGID },
	{ "mrowner", required_argument, NULL, OPT_MROWNER },
	{ "mrownerconfig", required_argument, NULL, OPT_MROWNERCONFIG },
	{ "output", required_argument, NULL, 'o' },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvmm measure --platform tdx --firmware FILE [--mem SIZE] [--vcpus N]\n"
		"                    [--mrtd-variant single-pass|two-pass] [--json] [--trace]\n"
		"                    [--mrconfigid HEX] [--mrowner HEX] [--mrownerconfig HEX] [-o FILE]\n"
		"Predict the TDX MRTD of a TDVF (OVMF IntelTdx) image; prints it as hex.\n"
		"  --platform tdx, --mode tdx   select TDX (either spelling)\n"
		"  --firmware FILE, --ovmf FILE the TDVF image\n"
		"  --mem SIZE                   guest RAM for the TD HOB (default 2G)\n"
		"  --vcpus N                    vCPUs (default 1; not part of MRTD)\n"
		"  --mrtd-variant V             single-pass (Linux KVM + QEMU today, default) or\n"
		"                               two-pass (older stacks); see docs/measure-tdx.md\n"
		"  --json                       all inputs, MRTD and the MRCONFIGID/MROWNER/\n"
		"                               MROWNERCONFIG values (48 bytes hex, zero by default)\n"
		"  --trace                      one line per MRTD record on stderr\n"
		"  -o, --output FILE            write the result to FILE instead of stdout\n"
		"  --kernel F [--initrd F] [--append S]  direct boot: TDVF measures these into\n"
		"                               RTMR1/RTMR2, so they do not change MRTD (not predicted)\n");
}

static int parse_args(int argc, char **argv, struct measure_opts *o)
{
	int c;

	*o = (struct measure_opts){ .mem = DEFAULT_MEM, .vcpus = 1, .variant = TDX_MRTD_SINGLE_PASS };
	optind = 0; /* glibc: full re-initialisation, the dispatcher may have parsed already */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", long_opts, NULL)) != -1) {
		int ret = 0;

		switch (c) {
		case OPT_PLATFORM:
			if (strcasecmp(optarg, "tdx"))
				return err_set(EINVAL, "--platform: '%s' is not tdx", optarg);
			break;
		case OPT_FIRMWARE: o->firmware = optarg; break;
		case OPT_MEM:
			ret = parse_size(optarg, &o->mem, "--mem");
			if (!ret && o->mem > MAX_MEM)
				ret = err_set(ERANGE, "--mem: %s is larger than 64 TiB", optarg);
			break;
		case OPT_VCPUS:
			ret = parse_u64(optarg, MAX_VCPUS, &o->vcpus, "--vcpus");
			if (!ret && o->vcpus == 0)
				ret = err_set(EINVAL, "--vcpus: must be at least 1");
			break;
		case OPT_VARIANT: ret = tdx_mrtd_variant_parse(optarg, &o->variant); break;
		case OPT_JSON: o->json = true; break;
		case OPT_TRACE: o->trace = true; break;
		case OPT_MRCONFIGID: ret = hex_decode_exact(optarg, o->mrconfigid, TDX_MR_SIZE, "--mrconfigid"); break;
		case OPT_MROWNER: ret = hex_decode_exact(optarg, o->mrowner, TDX_MR_SIZE, "--mrowner"); break;
		case OPT_MROWNERCONFIG:
			ret = hex_decode_exact(optarg, o->mrownerconfig, TDX_MR_SIZE, "--mrownerconfig");
			break;
		case 'o': o->output = optarg; break;
		/* TDVF loads a direct-boot kernel through fw_cfg and measures it
		 * into RTMR1/RTMR2: MRTD does not depend on these. Accepted so the
		 * same command line as `cvmm run` works; echoed in --json. */
		case OPT_KERNEL: o->kernel = optarg; break;
		case OPT_INITRD: o->initrd = optarg; break;
		case OPT_APPEND: o->append = optarg; break;
		case 'h': return 1;
		case ':': return err_set(EINVAL, "option %s needs a value", argv[optind - 1]);
		default: return err_set(EINVAL, "unknown option '%s' (try cvmm measure --platform tdx --help)",
					argv[optind - 1]);
		}
		if (ret)
			return ret;
	}
	if (optind < argc)
		return err_set(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!o->firmware)
		return err_set(EINVAL, "--firmware FILE is required");
	if ((o->initrd || o->append) && !o->kernel)
		return err_set(EINVAL, "--initrd and --append need --kernel");
	return 0;
}

static int add_hex(json_t *obj, const char *key, const uint8_t *b, size_t n)
{
	char hex[2 * TDX_MR_SIZE + 1];

	hex_encode(b, n, hex);
	return json_object_set_new(obj, key, json_string(hex));
}

static char *hexu64(uint64_t v)
{
	static __thread char s[24];

	snprintf(s, sizeof(s), "0x%llx", (unsigned long long)v);
	return s;
}

static int render_json(const struct measure_opts *o, const struct fw_image *fw, const struct tdvf_metadata *md,
		       const uint8_t mrtd[TDX_MR_SIZE], struct bytebuf *out)
{
	uint8_t fw_hash[48];
	unsigned int hlen = 0;
	json_t *root = json_object(), *secs = json_array();
	char *text = NULL;
	int ret = -ENOMEM;

	if (!root || !secs || !EVP_Digest(fw->data, fw->size, fw_hash, &hlen, EVP_sha384(), NULL))
		goto out;
	json_object_set_new(root, "platform", json_string("tdx"));
	json_object_set_new(root, "firmware", json_string(o->firmware));
	add_hex(root, "firmware_sha384", fw_hash, sizeof(fw_hash));
	json_object_set_new(root, "mem", json_integer((json_int_t)o->mem));
	json_object_set_new(root, "vcpus", json_integer((json_int_t)o->vcpus));
	if (o->kernel) {
		json_object_set_new(root, "kernel", json_string(o->kernel));
		json_object_set_new(root, "initrd", o->initrd ? json_string(o->initrd) : json_null());
		json_object_set_new(root, "append", o->append ? json_string(o->append) : json_null());
	}
	json_object_set_new(root, "mrtd_variant", json_string(tdx_mrtd_variant_name(o->variant)));
	add_hex(root, "mrtd", mrtd, TDX_MR_SIZE);
	add_hex(root, "mrconfigid", o->mrconfigid, TDX_MR_SIZE);
	add_hex(root, "mrowner", o->mrowner, TDX_MR_SIZE);
	add_hex(root, "mrownerconfig", o->mrownerconfig, TDX_MR_SIZE);
	for (unsigned i = 0; i < md->n; i++) {
		const struct tdvf_section *s = &md->s[i];
		json_t *js = json_object();

		if (!js || json_array_append_new(secs, js))
			goto out;
		json_object_set_new(js, "type", json_string(fw_tdvf_type_name(s->type)));
		json_object_set_new(js, "gpa", json_string(hexu64(s->gpa)));
		json_object_set_new(js, "size", json_string(hexu64(s->size)));
		json_object_set_new(js, "data_offset", json_string(hexu64(s->data_offset)));
		json_object_set_new(js, "raw_size", json_string(hexu64(s->raw_size)));
		json_object_set_new(js, "mr_extend", json_boolean(s->attributes & TDVF_ATTR_MR_EXTEND));
		json_object_set_new(js, "page_aug", json_boolean(s->attributes & TDVF_ATTR_PAGE_AUG));
	}
	json_object_set_new(root, "tdvf_sections", secs);
	secs = NULL;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		goto out;
	ret = bb_printf(out, "%s\n", text);
out:
	if (ret == -ENOMEM)
		ret = err_set(ENOMEM, "JSON output: out of memory");
	free(text);
	json_decref(secs);
	json_decref(root);
	return ret;
}

static int run(const struct measure_opts *o, struct bytebuf *out)
{
	struct fw_image fw;
	struct tdvf_metadata *md = malloc(sizeof(*md));
	struct launch_plan plan = {0};
	uint8_t mrtd[TDX_MR_SIZE];
	int ret;

	if (!md)
		return err_set(ENOMEM, "out of memory");
	/* Not hashed (see parse_args), but a typo should not go unnoticed. */
	const char *boot[] = { o->kernel, o->initrd };
	for (size_t i = 0; i < 2; i++)
		if (boot[i] && access(boot[i], R_OK)) {
			free(md);
			return err_set(errno, "%s: %s", boot[i], strerror(errno));
		}
	ret = fw_load(o->firmware, &fw);
	if (ret) {
		free(md);
		return ret;
	}
	ret = fw_tdvf_parse(&fw, md);
	if (!ret)
		ret = tdx_plan_build(&fw, md, o->mem, &plan);
	if (!ret)
		ret = tdx_mrtd(&plan, o->variant, o->trace ? stderr : NULL, mrtd);
	if (!ret && o->json) {
		ret = render_json(o, &fw, md, mrtd, out);
	} else if (!ret) {
		char hex[2 * TDX_MR_SIZE + 1];

		hex_encode(mrtd, TDX_MR_SIZE, hex);
		ret = bb_printf(out, "%s\n", hex);
	}
	plan_free(&plan);
	fw_free(&fw);
	free(md);
	return ret;
}

int tdx_cli_measure(int argc, char **argv)
{
	struct measure_opts o;
	struct bytebuf out = {0};
	int ret = parse_args(argc, argv, &o);

	if (ret == 1) {
		usage(stdout);
		return 0;
	}
	if (!ret)
		ret = run(&o, &out);
	if (!ret) {
		if (o.output)
			ret = file_write(o.output, out.data, out.len);
		else if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout))
			ret = err_set(EIO, "stdout: write failed");
	}
	bb_free(&out);
	if (ret) {
		fprintf(stderr, "cvmm %s: %s\n", argv[0], err_msg());
		return 2;
	}
	return 0;
}
