/* show_cli.c - `cvmm show FILE [--json]`: print an SNP report or a TDX quote
 * field by field. The format is told from the bytes: an SNP report is 1184
 * bytes; a TDX quote starts with version 4 or 5 and TEE type 0x81 (Intel
 * TDX DCAP Quote Library spec, "Quote Header"). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/attestation.h"
#include "attestation/snp_report.h"
#include "attestation/tdx_quote.h"
#include "common/common.h"
#include "sev/igvm.h"

#define EVIDENCE_MAX (1 << 20)

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmm show FILE [--json]\n"
		   "Print an SEV-SNP attestation report or a TDX quote (v4/v5) field by field.\n"
		   "  --json   the fields as a JSON object (lowercase hex for byte fields)\n");
}

static bool is_tdx_quote(const uint8_t *p, size_t len)
{
	return len >= TDX_HEADER_LEN && (le16(p) == 4 || le16(p) == 5) && le32(p + 4) == TDX_TEE_TYPE;
}

int att_cli_show(int argc, char **argv)
{
	/* IGVM files are listed by sev/ (sev/igvm_cli.c) */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--igvm") || !strncmp(argv[i], "--igvm=", 7))
			return igvm_cli_show(argc, argv);
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	bool json = false;
	uint8_t *data = NULL;
	size_t len = 0, outlen = 0;
	char *out = NULL;
	FILE *mem;
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "cvmm show: unknown option '%s' (try cvmm show --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if ((ret = file_read(argv[optind], EVIDENCE_MAX, &data, &len))) {
		fprintf(stderr, "cvmm show: %s\n", err_msg());
		return 2;
	}
	/* Print into memory first: on error nothing reaches stdout. */
	if (!(mem = open_memstream(&out, &outlen))) {
		free(data);
		fprintf(stderr, "cvmm show: out of memory\n");
		return 2;
	}
	if (is_tdx_quote(data, len))
		ret = att_tdx_show(data, len, json, mem);
	else if (len == SNP_REPORT_SIZE)
		ret = att_snp_show(data, len, json, mem);
	else
		ret = err_set(EINVAL,
			      "%s: %zu bytes: neither an SEV-SNP attestation report (%d bytes) nor a TDX quote (v4/v5)",
			      argv[optind], len, SNP_REPORT_SIZE);
	fclose(mem);
	free(data);
	if (ret) {
		free(out);
		fprintf(stderr, "cvmm show: %s\n", err_msg());
		return 2;
	}
	fwrite(out, 1, outlen, stdout);
	free(out);
	return 0;
}
