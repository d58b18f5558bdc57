/* sim_cli.c - `cvmm sim-root`: print the simulated ARK of the sim-snp key
 * store (PEM), creating the store on first use. A relying party pins it
 * with `cvmm verify --root FILE` / `cvmm attest --root FILE` instead of
 * trusting any simulated root with --allow-sim (docs/attestation.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/common.h"
#include "sev.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmm sim-root [--state-dir DIR]\n"
		   "Print the sim-snp ARK certificate (PEM), creating the key store on first use.\n"
		   "  --state-dir DIR   key store (default $XDG_STATE_HOME/cvmm/sim-snp)\n"
		   "Exit status: 0 success, 2 usage or key store error.\n");
}

int sev_cli_sim_root(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	struct snp_sim *sp = NULL;
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
		rc = snp_sim_open(dir, &sp);
	if (!rc)
		rc = snp_sim_ark_pem(sp, &pem, &len);
	if (!rc && fwrite(pem, 1, len, stdout) != len)
		rc = err_set(EIO, "stdout: write failed");
	free(pem);
	snp_sim_close(sp);
	if (rc) {
		fprintf(stderr, "cvmm sim-root: %s\n", err_msg());
		return 2;
	}
	return 0;
}
