/* fetch_certs.c - `cvmm fetch-certs`: get the certificates and collateral a
 * verifier needs (AMD KDS for SEV-SNP, Intel PCS for TDX) over HTTPS, with a
 * cache. Everything is fetched and checked in memory first; the output
 * directory is written only when the whole set is there (docs/fetch-certs.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attestation/attestation.h"
#include "attestation/fetch_internal.h"
#include "common/common.h"

#define KDS_URL "https://kdsintf.amd.com"
#define PCS_URL "https://api.trustedservices.intel.com"
#define INTEL_CERTS_URL "https://certificates.trustedservices.intel.com"
#define EVIDENCE_MAX (1u << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvmm fetch-certs (--report FILE [--product P] | --quote FILE) --out DIR [options]\n"
		"\n"
		"Fetch what `cvmm verify` needs for this evidence over HTTPS:\n"
		"  SEV-SNP report: vcek.der, ask.pem, ark.pem, crl.der from the AMD KDS\n"
		"                  (a VLEK-signed report: asvk.pem, ark.pem, crl.der)\n"
		"  TDX quote:      pck_chain.pem (from the quote), tcbinfo.json, tcb_signing_chain.pem,\n"
		"                  qe_identity.json, qe_identity_chain.pem, pckcrl.der, rootcrl.der\n"
		"\n"
		"  --report FILE      SEV-SNP attestation report (1184 bytes)\n"
		"  --product P        Milan, Genoa or Turin (needed for report version 2)\n"
		"  --quote FILE       TDX quote (v4 or v5)\n"
		"  --out DIR          output directory (created if missing)\n"
		"  --cache DIR        cache directory (default $XDG_CACHE_HOME/cvmm or ~/.cache/cvmm)\n"
		"  --no-cache         neither read nor write a cache\n"
		"  --offline          use only the cache; no network\n"
		"  --kds-url URL      AMD KDS base (default " KDS_URL ")\n"
		"  --pcs-url URL      Intel PCS base (default " PCS_URL ")\n"
		"  --certs-url URL    Intel certificates site, root CA CRL (default " INTEL_CERTS_URL ")\n"
		"  --ca-bundle FILE   trust these CAs for TLS instead of the system's\n"
		"  --timeout S        seconds per request (default 30)\n"
		"Exit status: 0 written, 2 usage, input, network or HTTP error.\n");
}

static int mkdir_p(const char *path, mode_t mode, const char *what)
{
	char buf[4096];
	size_t n = strlen(path);
	struct stat st;

	if (n == 0 || n >= sizeof(buf))
		return err_set(EINVAL, "%s %s: bad path", what, path);
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		buf[i] = 0;
		if (mkdir(buf, mode) && errno != EEXIST)
			return err_set(errno, "%s %s: cannot create %s: %s", what, path, buf, strerror(errno));
		buf[i] = i < n ? '/' : 0;
	}
	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return err_set(ENOTDIR, "%s %s: not a directory", what, path);
	return 0;
}

/* Base URLs without a trailing '/', so paths join with one. */
static const char *trim_url(char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == '/')
		s[--n] = 0;
	return s;
}

static int default_cache(char *out, size_t n)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		snprintf(out, n, "%s/cvmm", xdg);
	else if (home && home[0])
		snprintf(out, n, "%s/.cache/cvmm", home);
	else
		return -1;
	return 0;
}

static int write_all(const char *dir, const struct att_fetch_out *o)
{
	char path[4096];
	int ret;

	for (size_t i = 0; i < o->n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, o->files[i].name);
		if ((ret = file_write(path, o->files[i].data, o->files[i].len)))
			return ret;
	}
	return 0;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "report", required_argument, NULL, 'r' },   { "product", required_argument, NULL, 'p' },
		{ "quote", required_argument, NULL, 'q' },    { "out", required_argument, NULL, 'o' },
		{ "cache", required_argument, NULL, 'c' },    { "no-cache", no_argument, NULL, 'N' },
		{ "offline", no_argument, NULL, 'f' },        { "kds-url", required_argument, NULL, 'k' },
		{ "pcs-url", required_argument, NULL, 'P' },  { "certs-url", required_argument, NULL, 'C' },
		{ "ca-bundle", required_argument, NULL, 'b' }, { "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
	};
	const char *report = NULL, *quote = NULL, *out_dir = NULL, *cache = NULL, *product = NULL;
	char kds[512] = KDS_URL, pcs[512] = PCS_URL, certs[512] = INTEL_CERTS_URL, cache_buf[4096];
	struct att_fetch_ctx ctx = { .timeout = 30 };
	struct att_fetch_out out = { 0 };
	bool no_cache = false;
	uint64_t timeout;
	uint8_t *evidence = NULL;
	size_t len;
	int c, ret;

	optind = 0; /* GNU: full re-initialisation, the CLI may run more than once per process */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': report = optarg; break;
		case 'p': product = optarg; break;
		case 'q': quote = optarg; break;
		case 'o': out_dir = optarg; break;
		case 'c': cache = optarg; break;
		case 'N': no_cache = true; break;
		case 'f': ctx.offline = true; break;
		case 'k': snprintf(kds, sizeof(kds), "%s", optarg); break;
		case 'P': snprintf(pcs, sizeof(pcs), "%s", optarg); break;
		case 'C': snprintf(certs, sizeof(certs), "%s", optarg); break;
		case 'b': ctx.ca_bundle = optarg; break;
		case 't':
			if ((ret = parse_u64(optarg, 3600, &timeout, "--timeout")))
				return ret;
			if (!timeout)
				return err_set(EINVAL, "--timeout: must be at least 1 second");
			ctx.timeout = (long)timeout;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return err_set(EINVAL, "unknown or incomplete option '%s' (try --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(EINVAL, "unexpected argument '%s' (try --help)", argv[optind]);
	if (!!report == !!quote)
		return err_set(EINVAL, "give exactly one of --report FILE or --quote FILE (try --help)");
	if (!out_dir)
		return err_set(EINVAL, "--out DIR is required");
	if (product && !report)
		return err_set(EINVAL, "--product applies to --report only");
	if (no_cache && (cache || ctx.offline))
		return err_set(EINVAL, "--no-cache contradicts %s", cache ? "--cache" : "--offline");
	for (const char *const *u = (const char *const[]){ kds, pcs, certs, NULL }; *u; u++)
		if (strncmp(*u, "https://", 8))
			return err_set(EINVAL, "%s: only https:// URLs are fetched", *u);

	if (!no_cache) {
		if (!cache && !default_cache(cache_buf, sizeof(cache_buf)))
			cache = cache_buf;
		if (cache && (ret = mkdir_p(cache, 0700, "--cache")))
			return ret;
		ctx.cache_dir = cache;
	}
	if (ctx.offline && !ctx.cache_dir)
		return err_set(EINVAL, "--offline needs a cache (no --cache, no $HOME)");

	if ((ret = file_read(report ? report : quote, EVIDENCE_MAX, &evidence, &len)))
		return ret;
	if (report) {
		struct att_fetch_snp_args a = { .kds_url = trim_url(kds), .product = product };

		ret = att_fetch_snp(&ctx, evidence, len, report, &a, &out);
	} else {
		struct att_fetch_tdx_args a = { .pcs_url = trim_url(pcs), .certs_url = trim_url(certs) };

		ret = att_fetch_tdx(&ctx, evidence, len, quote, &a, &out);
	}
	if (!ret)
		ret = mkdir_p(out_dir, 0755, "--out");
	if (!ret)
		ret = write_all(out_dir, &out);
	if (!ret) {
		for (size_t i = 0; i < out.n; i++)
			printf("%s/%s\t%zu bytes\n", out_dir, out.files[i].name, out.files[i].len);
		printf("%u fetched, %u from the cache%s%s\n", ctx.requests, ctx.cache_hits,
		       ctx.cache_dir ? " " : "", ctx.cache_dir ? ctx.cache_dir : "");
	}
	att_fetch_out_free(&out);
	att_fetch_ctx_free(&ctx);
	free(evidence);
	return ret;
}

int att_cli_fetch_certs(int argc, char **argv)
{
	int ret;

	err_clear();
	ret = run(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "cvmm fetch-certs: %s\n", err_msg());
		return 2;
	}
	return 0;
}
