/* verify_cli.c - `cvmm verify`: judge an SNP report or a TDX quote like a
 * relying party and print the attestation result (docs/verify.md). The
 * command-line requirements are merged into the policy object, so the
 * verifiers see one set of requirements. Exit: 0 affirming or warning,
 * 1 evidence invalid or policy failed, 2 usage/input error. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/attestation.h"
#include "attestation/verify_common.h"
#include "common/common.h"
#include "measured-boot/measured_boot.h"

#define EVIDENCE_MAX (1 << 20)
#define NONCE_MAX 1024

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvmm verify --report FILE | --quote FILE [OPTIONS]\n"
		"Verify an SEV-SNP attestation report or a TDX quote (signatures, certificate chains,\n"
		"revocation, binding, policy) and print the result.\n"
		"  --report FILE              SEV-SNP attestation report (1184 bytes)\n"
		"  --quote FILE               TDX quote (v4 or v5)\n"
		"  --certs DIR                SNP: vcek.der|vlek.der [ask.pem|asvk.pem ark.pem cert_chain.pem crl.der]\n"
		"  --cert-table FILE          SNP: the extended report's certificate table (GHCB GUID table:\n"
		"                             VCEK/VLEK, ASK, ARK) instead of --certs\n"
		"  --root FILE                SNP: pinned root (PEM ARK) the chain must end at, e.g. a sim-snp\n"
		"                             store's ark.pem (trusted without --allow-sim); TDX: the PCK chain's\n"
		"                             root CA, e.g. `cvmm sim-root --platform sim-tdx`\n"
		"  --collateral DIR           TDX: tcbinfo.json qe_identity.json pckcrl.der rootcrl.der\n"
		"  --policy FILE              policy JSON ({\"snp\": {...}, \"tdx\": {...}}, see docs/verify.md)\n"
		"  --expect-measurement HEX   accepted launch measurement / MRTD (repeatable)\n"
		"  --nonce HEX                require report_data = SHA-512(nonce)\n"
		"  --at TIME                  evaluate certificates strictly at TIME (now, epoch seconds or YYYY-MM-DD[THH:MM:SSZ])\n"
		"  --allow-sim                trust cvmm's simulated platform roots\n"
		"  --strict                   refuse what would be a warning (DEBUG, out-of-date TCB, stale\n"
		"                             collateral, expired certificates) unless the policy accepts it\n"
		"  --event-log FILE           TDX: check a CCEL event log against the quote's RTMRs\n"
		"  --tpm-quote F --tpm-log F --ak-pub F   also check a host TPM quote (cvmm tpm quote)\n"
		"  --json                     print the result as JSON (same as --output json)\n"
		"  --output text|json|ear     the result as a summary, JSON, or a signed EAR token (JWT, ES256)\n"
		"  --ear-key KEY.pem          EC P-256 private key that signs the EAR (--output ear)\n"
		"  --ear-ttl SECONDS          EAR lifetime: exp = iat + SECONDS (default 300)\n"
		"Exit status: 0 verified (affirming or warning), 1 evidence invalid or policy failed,\n"
		"2 usage or input error.\n");
}

struct verify_args {
	const char *report, *quote, *policy_path, *event_log, *tpm_quote, *tpm_log, *ak_pub, *cert_table, *root;
	const char *ear_key;
	long ear_ttl;
	bool ear;
	struct att_options opt;
	json_t *measurements; /* array of hex strings */
	uint8_t nonce[NONCE_MAX];
	size_t nonce_len;
	bool have_nonce, json, strict;
};

/* Flags override/extend the policy file: --expect-measurement adds to
 * snp.measurements and tdx.mrtd, --nonce sets both report_data, --allow-sim
 * sets allow_sim (verify_common.c). */
static int build_policy(struct verify_args *a, json_t **out)
{
	uint8_t rd[64];
	int ret;

	if (a->have_nonce && (ret = att_nonce_report_data(a->nonce, a->nonce_len, rd)))
		return ret;
	if ((ret = att_policy_build(a->policy_path, a->measurements, a->have_nonce ? rd : NULL, &a->opt.allow_sim, out)))
		return ret;
	if (a->strict)
		json_object_set_new(*out, "strict", json_true());
	return 0;
}

static int parse_args(int argc, char **argv, struct verify_args *a)
{
	enum { O_REPORT = 256, O_QUOTE, O_CERTS, O_COLL, O_POLICY, O_MEAS, O_NONCE, O_AT, O_JSON, O_SIM, O_LOG,
	       O_TPMQ, O_TPML, O_AK, O_TABLE, O_ROOT, O_STRICT, O_OUTPUT, O_EARKEY, O_EARTTL };
	static const struct option opts[] = {
		{ "report", required_argument, NULL, O_REPORT },
		{ "quote", required_argument, NULL, O_QUOTE },
		{ "certs", required_argument, NULL, O_CERTS },
		{ "collateral", required_argument, NULL, O_COLL },
		{ "cert-table", required_argument, NULL, O_TABLE },
		{ "root", required_argument, NULL, O_ROOT },
		{ "policy", required_argument, NULL, O_POLICY },
		{ "expect-measurement", required_argument, NULL, O_MEAS },
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "at", required_argument, NULL, O_AT },
		{ "json", no_argument, NULL, O_JSON },
		{ "allow-sim", no_argument, NULL, O_SIM },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "output", required_argument, NULL, O_OUTPUT },
		{ "ear-key", required_argument, NULL, O_EARKEY },
		{ "ear-ttl", required_argument, NULL, O_EARTTL },
		{ "event-log", required_argument, NULL, O_LOG },
		{ "tpm-quote", required_argument, NULL, O_TPMQ },
		{ "tpm-log", required_argument, NULL, O_TPML },
		{ "ak-pub", required_argument, NULL, O_AK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t m[48];
	uint64_t ttl;
	int c;

	optind = 1;
	a->ear_ttl = 300;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_REPORT:
			a->report = optarg;
			break;
		case O_QUOTE:
			a->quote = optarg;
			break;
		case O_CERTS:
			a->opt.certs_dir = optarg;
			break;
		case O_TABLE:
			a->cert_table = optarg;
			break;
		case O_ROOT:
			a->root = optarg;
			break;
		case O_COLL:
			a->opt.collateral_dir = optarg;
			break;
		case O_POLICY:
			a->policy_path = optarg;
			break;
		case O_MEAS:
			if (hex_decode_exact(optarg, m, sizeof(m), "--expect-measurement"))
				return -EINVAL;
			json_array_append_new(a->measurements, json_string(optarg));
			break;
		case O_NONCE:
			if (hex_decode(optarg, a->nonce, sizeof(a->nonce), &a->nonce_len, "--nonce"))
				return -EINVAL;
			a->have_nonce = true;
			break;
		case O_AT:
			if (att_parse_time(optarg, &a->opt.at))
				return -EINVAL;
			if (!a->opt.at)
				a->opt.at = 1; /* 0 means "now" in att_options */
			break;
		case O_JSON:
			a->json = true;
			break;
		case O_SIM:
			a->opt.allow_sim = true;
			break;
		case O_STRICT:
			a->strict = true;
			break;
		case O_OUTPUT:
			if (!strcmp(optarg, "ear") || !strcmp(optarg, "json") || !strcmp(optarg, "text")) {
				a->ear = !strcmp(optarg, "ear");
				a->json = !strcmp(optarg, "json");
			} else {
				return err_set(EINVAL, "--output: '%s' is not text, json or ear", optarg);
			}
			break;
		case O_EARKEY:
			a->ear_key = optarg;
			break;
		case O_EARTTL:
			if (parse_u64(optarg, 366ull * 86400, &ttl, "--ear-ttl"))
				return -EINVAL;
			if (!ttl)
				return err_set(EINVAL, "--ear-ttl: must be at least 1 second");
			a->ear_ttl = (long)ttl;
			break;
		case O_LOG:
			a->event_log = optarg;
			break;
		case O_TPMQ:
			a->tpm_quote = optarg;
			break;
		case O_TPML:
			a->tpm_log = optarg;
			break;
		case O_AK:
			a->ak_pub = optarg;
			break;
		case 'h':
			return 1;
		default:
			return err_set(EINVAL, "unknown option or missing argument '%s' (try cvmm verify --help)",
				       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return err_set(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!a->report == !a->quote)
		return err_set(EINVAL, "give exactly one of --report FILE or --quote FILE");
	if (a->cert_table && a->opt.certs_dir)
		return err_set(EINVAL, "give --certs DIR or --cert-table FILE, not both");
	if (a->cert_table && !a->report)
		return err_set(EINVAL, "--cert-table is for SNP reports: use it with --report");
	if (a->ear != !!a->ear_key)
		return err_set(EINVAL, a->ear ? "--output ear needs --ear-key KEY.pem" : "--ear-key goes with --output ear");
	if (a->event_log && !a->quote)
		return err_set(EINVAL, "--event-log checks a TDX CCEL log against a quote's RTMRs: use it with --quote");
	if ((a->tpm_quote || a->tpm_log || a->ak_pub) && !(a->tpm_quote && a->tpm_log && a->ak_pub))
		return err_set(EINVAL, "--tpm-quote, --tpm-log and --ak-pub go together");
	return 0;
}

/* RTMRs of a TDX quote from the verifier's claims (rtmr0..rtmr3, hex). */
static void check_event_log(const char *path, struct att_result *r)
{
	uint8_t rtmr[4][48], *log = NULL;
	size_t len;
	char detail[256] = "";
	int ret;

	for (int i = 0; i < 4; i++) {
		char key[8];

		snprintf(key, sizeof(key), "rtmr%d", i);
		if (att_policy_hex(json_object_get(r->claims, key), key, rtmr[i], 48, false)) {
			att_check(r, ATT_AUTH, "event_log", false, "the quote's claims have no %s", key);
			return;
		}
	}
	if ((ret = file_read(path, 64 << 20, &log, &len))) {
		att_check(r, ATT_AUTH, "event_log", false, "%s", err_msg());
		return;
	}
	ret = mb_ccel_check_rtmrs(log, len, (const uint8_t(*)[48])rtmr, detail, sizeof(detail));
	free(log);
	if (ret < 0)
		att_check(r, ATT_AUTH, "event_log", false, "%s", err_msg());
	else
		att_check(r, ATT_AUTH, "event_log", ret == 0, "%s",
			  detail[0] ? detail : ret == 0 ? "the event log replays to the quote's RTMRs"
							: "the event log does not replay to the quote's RTMRs");
}

static void check_tpm_quote(const struct verify_args *a, struct att_result *r)
{
	char detail[256] = "";
	int ret = mb_tpm_quote_check(a->tpm_quote, a->tpm_log, a->ak_pub, a->have_nonce ? a->nonce : NULL,
				     a->have_nonce ? a->nonce_len : 0, detail, sizeof(detail));

	if (ret < 0)
		att_check(r, ATT_AUTH, "tpm_quote", false, "%s", err_msg());
	else
		att_check(r, ATT_AUTH, "tpm_quote", ret == 0, "%s",
			  detail[0] ? detail : ret == 0 ? "host TPM quote and event log verify" : "host TPM quote "
												"does not verify");
}

int att_cli_verify(int argc, char **argv)
{
	struct verify_args a = { 0 };
	struct att_result r = { 0 };
	json_t *policy = NULL;
	uint8_t *data = NULL, *table = NULL, *root = NULL;
	size_t len, table_len, root_len;
	enum att_status st;
	int ret, code = 2;

	if (!(a.measurements = json_array())) {
		fprintf(stderr, "cvmm verify: out of memory\n");
		return 2;
	}
	ret = parse_args(argc, argv, &a);
	if (ret == 1) {
		usage(stdout);
		json_decref(a.measurements);
		return 0;
	}
	if (ret || (ret = build_policy(&a, &policy)))
		goto fail;
	a.opt.policy = policy;
	if (a.cert_table) {
		if ((ret = file_read(a.cert_table, EVIDENCE_MAX, &table, &table_len)))
			goto fail;
		a.opt.cert_table = table;
		a.opt.cert_table_len = table_len;
	}
	if (a.root) {
		if ((ret = file_read(a.root, EVIDENCE_MAX, &root, &root_len)))
			goto fail;
		a.opt.root_pem = (const char *)root;
		a.opt.root_pem_len = root_len;
	}
	if ((ret = file_read(a.report ? a.report : a.quote, EVIDENCE_MAX, &data, &len)))
		goto fail;
	if ((ret = att_result_init(&r, a.report ? "snp" : "tdx")))
		goto fail;
	if (a.report)
		ret = att_snp_verify(data, len, &a.opt, &r);
	else if (a.root) /* TDX: the PCK chain must end at this root (e.g. a sim-tdx store's) */
		ret = att_tdx_verify_with_root(data, len, &a.opt, (const char *)root, root_len, &r);
	else
		ret = att_tdx_verify(data, len, &a.opt, &r);
	if (ret) {
		if (!strncmp(err_msg(), "certificate table", 17) || !strncmp(err_msg(), "--root", 6))
			err_wrap(-ret, "%s", a.cert_table && err_msg()[0] == 'c' ? a.cert_table : a.root);
		else if (strncmp(err_msg(), "policy", 6))
			err_wrap(-ret, "%s", a.report ? a.report : a.quote);
		goto fail;
	}
	if (a.event_log)
		check_event_log(a.event_log, &r);
	if (a.tpm_quote)
		check_tpm_quote(&a, &r);

	st = att_result_status(&r);
	if (a.ear) {
		struct att_ear_opts eo = { .key_path = a.ear_key, .ttl = a.ear_ttl, .now = time(NULL),
					   .nonce = a.have_nonce ? a.nonce : NULL, .nonce_len = a.have_nonce ? a.nonce_len : 0 };
		char *token = NULL;

		if ((ret = att_ear_sign(&r, st, &eo, &token)))
			goto fail;
		printf("%s\n", token);
		free(token);
	} else if (att_result_print(&r, st, a.json, NULL)) {
		goto fail;
	}
	code = st == ATT_CONTRAINDICATED ? 1 : 0;
	goto out;
fail:
	fprintf(stderr, "cvmm verify: %s\n", err_msg());
out:
	att_result_free(&r);
	json_decref(policy);
	json_decref(a.measurements);
	free(data);
	free(table);
	free(root);
	return code;
}
