/* tpm_cli.c - `cvmm tpm extend|quote`: the host TPM for tests and operators.
 * Files are written only after the TPM operation succeeded, atomically. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "measured_boot.h"

static const char usage_text[] =
	"usage: cvmm tpm extend --digest HEX --desc TEXT --log FILE [--pcr N] [--tcti CONF]\n"
	"       cvmm tpm quote --nonce HEX --out-quote FILE --out-ak-pub FILE [--out-sig FILE]\n"
	"                      [--pcrs N,N,...] [--tcti CONF]\n"
	"\n"
	"extend  extend PCR N (default 15, SHA-256 bank) with a launch event binding the\n"
	"        launch-plan digest and the description; append the event to FILE\n"
	"        (a TCG crypto-agile log, created with a Spec ID header when missing)\n"
	"quote   quote the SHA-256 bank of the PCRs (default 15) with an ECC P-256 AK\n"
	"        (primary key of the endorsement hierarchy). --out-quote receives\n"
	"        TPM2B_ATTEST || TPMT_SIGNATURE (tss2-mu marshalling), --out-sig the\n"
	"        TPMT_SIGNATURE alone, --out-ak-pub the AK as a PEM public key.\n"
	"  --tcti CONF  e.g. swtpm:host=127.0.0.1,port=2321 (default: $TPM2TOOLS_TCTI,\n"
	"               $TCTI, else the tpm2-tss default device)\n"
	"Verify with: cvmm verify --tpm-quote F --tpm-log F --ak-pub F --nonce HEX\n";

static int fail(const char *msg)
{
	fprintf(stderr, "cvmm tpm: %s\n", msg);
	return 2;
}

static int parse_pcrs(const char *s, uint32_t *mask)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return err_set(ENOMEM, "out of memory");
	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (!(ret = parse_u64(tok, MB_PCRS - 1, &v, "--pcrs")))
			*mask |= 1u << v;
	}
	free(copy);
	if (!ret && !*mask)
		ret = err_set(EINVAL, "--pcrs: no PCR given");
	return ret;
}

static int do_extend(const char *tcti, const char *digest, const char *desc, const char *log, const char *pcr_s)
{
	uint8_t d[MB_MAX_DIGEST];
	size_t n;
	uint64_t pcr = MB_DEFAULT_PCR;
	int ret;

	if ((ret = hex_decode(digest, d, sizeof(d), &n, "--digest")))
		return ret;
	if (!n)
		return err_set(EINVAL, "--digest: empty");
	if (pcr_s && (ret = parse_u64(pcr_s, MB_PCRS - 1, &pcr, "--pcr")))
		return ret;
	if ((ret = mb_tpm_record_launch(tcti, (unsigned)pcr, d, n, desc, log)))
		return ret;
	printf("pcr%u sha256 extended; event appended to %s\n", (unsigned)pcr, log);
	return 0;
}

static int do_quote(const char *tcti, const char *nonce_s, const char *pcrs, const char *out_quote,
		    const char *out_sig, const char *out_ak)
{
	uint8_t nonce[64];
	size_t n;
	uint32_t mask = 1u << MB_DEFAULT_PCR;
	struct mb_quote q;
	int ret;

	if ((ret = hex_decode(nonce_s, nonce, sizeof(nonce), &n, "--nonce")))
		return ret;
	if (pcrs && (ret = parse_pcrs(pcrs, &mask)))
		return ret;
	if ((ret = mb_tpm_quote(tcti, mask, nonce, n, &q)))
		return ret;
	if (!(ret = file_write(out_quote, q.quote, q.quote_len)) && !(ret = file_write(out_ak, q.ak_pem, q.ak_pem_len)) &&
	    out_sig)
		ret = file_write(out_sig, q.sig, q.sig_len);
	mb_quote_free(&q);
	return ret;
}

int mb_cli_tpm(int argc, char **argv)
{
	const char *cmd = NULL, *tcti = NULL, *digest = NULL, *desc = NULL, *log = NULL, *pcr = NULL;
	const char *nonce = NULL, *pcrs = NULL, *out_quote = NULL, *out_sig = NULL, *out_ak = NULL;
	struct {
		const char *name;
		const char **val;
	} opts[] = {
		{ "--tcti", &tcti },	       { "--digest", &digest },	  { "--desc", &desc },
		{ "--log", &log },	       { "--pcr", &pcr },	  { "--nonce", &nonce },
		{ "--pcrs", &pcrs },	       { "--out-quote", &out_quote }, { "--out-sig", &out_sig },
		{ "--out-ak-pub", &out_ak },
	};
	char msg[256];
	int ret;

	for (int i = 1; i < argc; i++) {
		size_t k;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (argv[i][0] != '-') {
			if (cmd) {
				snprintf(msg, sizeof(msg), "unexpected argument '%s'", argv[i]);
				return fail(msg);
			}
			cmd = argv[i];
			continue;
		}
		for (k = 0; k < ARRAY_SIZE(opts) && strcmp(argv[i], opts[k].name); k++)
			;
		if (k == ARRAY_SIZE(opts) || i + 1 >= argc) {
			snprintf(msg, sizeof(msg), "%s option '%s' (try cvmm tpm --help)",
				 k == ARRAY_SIZE(opts) ? "unknown" : "missing value for", argv[i]);
			return fail(msg);
		}
		*opts[k].val = argv[++i];
	}
	err_clear();
	/* tpm2-tss logs its own errors to stderr; the CLI prints one line */
	setenv("TSS2_LOG", "all+NONE", 0);
	if (cmd && !strcmp(cmd, "extend")) {
		if (!digest || !desc || !log)
			return fail("extend needs --digest, --desc and --log");
		ret = do_extend(tcti, digest, desc, log, pcr);
	} else if (cmd && !strcmp(cmd, "quote")) {
		if (!nonce || !out_quote || !out_ak)
			return fail("quote needs --nonce, --out-quote and --out-ak-pub");
		ret = do_quote(tcti, nonce, pcrs, out_quote, out_sig, out_ak);
	} else {
		return fail(cmd ? "unknown subcommand (extend or quote)" : "missing subcommand (extend or quote)");
	}
	if (ret)
		return fail(err_msg());
	fflush(stdout);
	return 0;
}
