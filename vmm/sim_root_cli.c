/* sim_root_cli.c - `cvmm sim-root [--platform sim-snp|sim-tdx] [--state-dir DIR]`:
 * print a sim platform's root certificate (PEM: the sim-snp ARK or the
 * sim-tdx root CA), creating its key store on first use. A relying party
 * pins it with `cvmm verify --root FILE` / `cvmm attest --root FILE` instead
 * of trusting any simulated root with --allow-sim (docs/attestation.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "sev/sev.h"
#include "tdx/tdx.h"
#include "vmm/vmm.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmm sim-root [--platform sim-snp|sim-tdx] [--state-dir DIR]\n"
		   "Print the root certificate (PEM) of a sim platform's key store, creating it on first use:\n"
		   "the sim-snp ARK, or the sim-tdx root CA.\n"
		   "  --platform P      sim-snp (default) or sim-tdx\n"
		   "  --state-dir DIR   key store (default $XDG_STATE_HOME/cvmm/sim-snp or .../sim-tdx)\n"
		   "Exit status: 0 success, 2 usage or key store error.\n");
}

static int root_pem(bool tdx, const char *dir, char **pem, size_t *len)
{
	int rc;

	if (tdx) {
		struct tdx_sim *s = NULL;

		if (!(rc = tdx_sim_open(dir, &s)))
			rc = tdx_sim_root_pem(s, pem, len);
		tdx_sim_close(s);
	} else {
		struct snp_sim *sp = NULL;

		if (!(rc = snp_sim_open(dir, &sp)))
			rc = snp_sim_ark_pem(sp, pem, len);
		snp_sim_close(sp);
	}
	return rc;
}

int vmm_cli_sim_root(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *platform = "sim-snp";
	char *pem = NULL;
	size_t len = 0;
	int c, rc = 0;

	optind = 1;
	opterr = 0;
	while (!rc && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'd') {
			dir = optarg;
		} else if (c == 'p') {
			platform = optarg;
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
	if (!rc && strcmp(platform, "sim-snp") && strcmp(platform, "sim-tdx"))
		rc = err_set(EINVAL, "--platform %s: expected sim-snp or sim-tdx", platform);
	if (!rc)
		rc = root_pem(!strcmp(platform, "sim-tdx"), dir, &pem, &len);
	if (!rc && fwrite(pem, 1, len, stdout) != len)
		rc = err_set(EIO, "stdout: write failed");
	free(pem);
	if (rc) {
		fprintf(stderr, "cvmm sim-root: %s\n", err_msg());
		return 2;
	}
	return 0;
}
