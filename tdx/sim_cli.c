/* sim_cli.c - `cvmm sim-root [--platform sim-snp|sim-tdx] [--state-dir DIR]`:
 * print a sim platform's root certificate (PEM), creating its key store on
 * first use. sim-tdx is served here (the simulated SGX root CA of the PCK
 * chain); sim-snp (the default) by sev/sim_cli.c. A relying party pins the
 * root with `cvmm verify --root FILE` / `cvmm attest --root FILE` instead of
 * trusting any simulated root with --allow-sim. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "sev/sev.h"
#include "tdx/tdx.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmm sim-root [--platform sim-snp|sim-tdx] [--state-dir DIR]\n"
		   "Print the root certificate (PEM) of a sim platform's key store, creating it on first use:\n"
		   "sim-snp (default) its ARK, sim-tdx its simulated SGX root CA.\n"
		   "  --platform P      sim-snp or sim-tdx\n"
		   "  --state-dir DIR   key store (default $XDG_STATE_HOME/cvmm/sim-snp or .../sim-tdx)\n"
		   "Exit status: 0 success, 2 usage or key store error.\n");
}

/* The platform named by --platform (NULL: none given); the other
 * arguments are left for the sim-snp command in rest. */
static int split(int argc, char **argv, const char **platform, char **rest, int *nrest)
{
	*platform = NULL;
	*nrest = 0;
	for (int i = 0; i < argc; i++) {
		if (i && !strcmp(argv[i], "--platform")) {
			if (i + 1 >= argc)
				return err_set(EINVAL, "--platform needs a value (sim-snp or sim-tdx)");
			*platform = argv[++i];
		} else if (i && !strncmp(argv[i], "--platform=", 11)) {
			*platform = argv[i] + 11;
		} else {
			rest[(*nrest)++] = argv[i];
		}
	}
	rest[*nrest] = NULL;
	if (*platform && strcmp(*platform, "sim-snp") && strcmp(*platform, "sim-tdx"))
		return err_set(EINVAL, "--platform %s: expected sim-snp or sim-tdx", *platform);
	return 0;
}

static int tdx_root(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	struct tdx_sim *s = NULL;
	char *pem = NULL;
	size_t len = 0;
	int c, rc = 0;

	optind = 1;
	opterr = 0;
	while (!rc && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'd') {
			dir = optarg;
		} else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			rc = err_set(EINVAL, "unknown option or missing argument '%s' (try cvmm sim-root --help)",
				     argv[optind - 1]);
		}
	}
	if (!rc && optind < argc)
		rc = err_set(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!rc)
		rc = tdx_sim_open(dir, &s);
	if (!rc)
		rc = tdx_sim_root_pem(s, &pem, &len);
	if (!rc && fwrite(pem, 1, len, stdout) != len)
		rc = err_set(EIO, "stdout: write failed");
	free(pem);
	tdx_sim_close(s);
	if (rc) {
		fprintf(stderr, "cvmm sim-root: %s\n", err_msg());
		return 2;
	}
	return 0;
}

int tdx_cli_sim_root(int argc, char **argv)
{
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	const char *platform;
	int n, rc;

	if (!rest) {
		fprintf(stderr, "cvmm sim-root: out of memory\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			free(rest);
			return 0;
		}
	if ((rc = split(argc, argv, &platform, rest, &n))) {
		fprintf(stderr, "cvmm sim-root: %s\n", err_msg());
		free(rest);
		return 2;
	}
	rc = platform && !strcmp(platform, "sim-tdx") ? tdx_root(n, rest) : sev_cli_sim_root(n, rest);
	free(rest);
	return rc;
}
