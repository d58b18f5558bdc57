/* attest_cli.c - `cvmm attest URL`: the relying party's whole round trip
 * against a cvmm attestation endpoint (docs/attestation.md). A fresh nonce
 * goes to the endpoint; the bundle that comes back is checked field by
 * field, its report must bind our nonce and the agent's key
 * (att_bind_report_data, merged into the policy as report_data so the
 * verifier records it), and it is judged by exactly the verifier `cvmm
 * verify` runs, with the same policy merging and printing (verify_common.c).
 * Only an affirming result (or a warning under "allow_warning") releases
 * --secret, wrapped to the agent's key. Exit: 0 verified (and the secret
 * released), 1 evidence invalid, policy failed or secret refused, 2 usage,
 * input or transport error. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "attestation/base64.h"
#include "attestation/endpoint.h"
#include "attestation/verify_common.h"
#include "common/common.h"
#include "measured-boot/measured_boot.h"

#define NONCE_LEN 32
#define ROOT_MAX (1 << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvmm attest https://HOST:PORT [OPTIONS]\n"
		"       cvmm attest --bundle FILE --nonce HEX [OPTIONS]\n"
		"Ask a cvmm attestation endpoint for evidence bound to a fresh nonce, verify it like\n"
		"cvmm verify, and optionally release a secret to the attested guest. With --bundle,\n"
		"judge a bundle obtained before for the nonce it was asked with (no network).\n"
		"  --policy FILE              policy JSON (docs/verify.md; strict unless \"strict\": false;\n"
		"                             \"allow_warning\": true releases on a warning)\n"
		"  --expect-measurement HEX   accepted launch measurement / MRTD (repeatable)\n"
		"  --allow-sim                trust cvmm's simulated platform roots\n"
		"  --root FILE                pin the platform root (PEM: SNP ARK, TDX root CA), e.g. a sim platform's\n"
		"  --cacert FILE              verify the endpoint's TLS certificate against this CA file\n"
		"  --tls-fingerprint HEX      pin the endpoint's certificate (SHA-256 of its DER, as it prints)\n"
		"  --secret FILE --secret-name NAME   release FILE to the guest as NAME when verified\n"
		"  --save-bundle FILE         keep the evidence bundle\n"
		"  --ear-out FILE --ear-key KEY.pem [--ear-ttl S]   also write the result as a signed EAR token\n"
		"                             (JWT, ES256, eat_nonce = the nonce; cvmm verify-ear checks it)\n"
		"  --bundle FILE --nonce HEX  verify a saved bundle (POST /v1/evidence answer) for this nonce\n"
		"  --timeout SEC              network timeout (default 60)\n"
		"  --json                     print the result as JSON\n"
		"Exit status: 0 verified (and the secret released), 1 evidence invalid, policy failed\n"
		"or secret refused, 2 usage, input or network error.\n");
}

struct attest_args {
	const char *url, *policy_path, *root, *secret_path, *secret_name, *save, *bundle, *ear_out, *ear_key;
	long ear_ttl;
	uint8_t nonce[ATT_NONCE_MAX];
	size_t nonce_len;
	struct att_https https;
	uint8_t pin[32];
	json_t *measurements;
	bool allow_sim, json;
};

static int parse_pin(const char *s, uint8_t pin[32])
{
	char hex[65];
	size_t n = 0;

	for (; *s; s++)
		if (*s != ':') {
			if (n == 64)
				return err_set(EINVAL, "--tls-fingerprint: longer than 32 bytes");
			hex[n++] = *s;
		}
	hex[n] = 0;
	return hex_decode_exact(hex, pin, 32, "--tls-fingerprint");
}

static int parse_args(int argc, char **argv, struct attest_args *a)
{
	enum { O_POLICY = 256, O_MEAS, O_SIM, O_ROOT, O_CACERT, O_PIN, O_SECRET, O_NAME, O_JSON, O_SAVE, O_TIMEOUT,
	       O_BUNDLE, O_NONCE, O_EAROUT, O_EARKEY, O_EARTTL };
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, O_POLICY },
		{ "expect-measurement", required_argument, NULL, O_MEAS },
		{ "allow-sim", no_argument, NULL, O_SIM },
		{ "root", required_argument, NULL, O_ROOT },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "tls-fingerprint", required_argument, NULL, O_PIN },
		{ "secret", required_argument, NULL, O_SECRET },
		{ "secret-name", required_argument, NULL, O_NAME },
		{ "json", no_argument, NULL, O_JSON },
		{ "save-bundle", required_argument, NULL, O_SAVE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "bundle", required_argument, NULL, O_BUNDLE },
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "ear-out", required_argument, NULL, O_EAROUT },
		{ "ear-key", required_argument, NULL, O_EARKEY },
		{ "ear-ttl", required_argument, NULL, O_EARTTL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t m[48];
	uint64_t v;
	int c;

	optind = 1;
	opterr = 0;
	a->https.timeout_s = 60;
	a->ear_ttl = 300;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_POLICY:
			a->policy_path = optarg;
			break;
		case O_MEAS:
			if (hex_decode_exact(optarg, m, sizeof(m), "--expect-measurement"))
				return -EINVAL;
			json_array_append_new(a->measurements, json_string(optarg));
			break;
		case O_SIM:
			a->allow_sim = true;
			break;
		case O_ROOT:
			a->root = optarg;
			break;
		case O_CACERT:
			a->https.cacert = optarg;
			break;
		case O_PIN:
			if (parse_pin(optarg, a->pin))
				return -EINVAL;
			a->https.pin = a->pin;
			break;
		case O_SECRET:
			a->secret_path = optarg;
			break;
		case O_NAME:
			a->secret_name = optarg;
			break;
		case O_JSON:
			a->json = true;
			break;
		case O_SAVE:
			a->save = optarg;
			break;
		case O_TIMEOUT:
			if (parse_u64(optarg, 3600, &v, "--timeout"))
				return -EINVAL;
			if (!v)
				return err_set(EINVAL, "--timeout: must be at least 1 second");
			a->https.timeout_s = (long)v;
			break;
		case O_BUNDLE:
			a->bundle = optarg;
			break;
		case O_NONCE:
			if (hex_decode(optarg, a->nonce, sizeof(a->nonce), &a->nonce_len, "--nonce"))
				return -EINVAL;
			if (a->nonce_len < ATT_NONCE_MIN)
				return err_set(EINVAL, "--nonce: %zu bytes, at least %u", a->nonce_len, ATT_NONCE_MIN);
			break;
		case O_EAROUT:
			a->ear_out = optarg;
			break;
		case O_EARKEY:
			a->ear_key = optarg;
			break;
		case O_EARTTL:
			if (parse_u64(optarg, 366ull * 86400, &v, "--ear-ttl"))
				return -EINVAL;
			if (!v)
				return err_set(EINVAL, "--ear-ttl: must be at least 1 second");
			a->ear_ttl = (long)v;
			break;
		case 'h':
			return 1;
		default:
			return err_set(EINVAL, "unknown option or missing argument '%s' (try cvmm attest --help)",
				       argv[optind - 1]);
		}
	}
	if (!a->ear_out != !a->ear_key)
		return err_set(EINVAL, "--ear-out FILE and --ear-key KEY.pem go together");
	if (a->bundle) {
		if (optind != argc)
			return err_set(EINVAL, "--bundle judges a saved bundle: no URL ('%s')", argv[optind]);
		if (!a->nonce_len)
			return err_set(EINVAL, "--bundle needs --nonce HEX: the nonce the bundle was asked for");
		if (a->secret_path || a->save)
			return err_set(EINVAL, "--bundle is offline: --secret and --save-bundle need the endpoint");
		return 0;
	}
	if (a->nonce_len)
		return err_set(EINVAL, "--nonce goes with --bundle (online, cvmm attest draws a fresh nonce)");
	if (optind + 1 != argc)
		return err_set(EINVAL, optind == argc ? "give the endpoint URL (https://HOST:PORT)"
						      : "unexpected argument '%s'", argv[optind + 1]);
	a->url = argv[optind];
	if (strncmp(a->url, "https://", 8) || !a->url[8])
		return err_set(EINVAL, "'%s': the endpoint URL must be https://HOST:PORT", a->url);
	if (a->https.cacert && a->https.pin)
		return err_set(EINVAL, "give --cacert or --tls-fingerprint, not both");
	if (!a->secret_path != !a->secret_name)
		return err_set(EINVAL, "--secret FILE and --secret-name NAME go together");
	if (a->secret_name && !att_secret_name_ok((const uint8_t *)a->secret_name, strlen(a->secret_name)))
		return err_set(EINVAL, "--secret-name '%s': not a plain file name of 1..%u characters [A-Za-z0-9._-]",
			       a->secret_name, ATT_SECRET_NAME_MAX);
	return 0;
}

/* POST body to URL/path; 0 with the answer for HTTP 200, -EREMOTEIO (with
 * the endpoint's {"error"} message) for another status. */
static int post(const struct attest_args *a, const char *path, const char *body, struct bytebuf *rsp, long *status)
{
	size_t n = strlen(a->url);
	char url[1024];
	json_t *err;
	int ret;

	while (n > 8 && a->url[n - 1] == '/')
		n--;
	if ((size_t)snprintf(url, sizeof(url), "%.*s%s", (int)n, a->url, path) >= sizeof(url))
		return err_set(ENAMETOOLONG, "the endpoint URL is too long");
	*status = 0;
	if ((ret = att_https_post(&a->https, url, body, rsp, status)))
		return ret;
	if (*status == 200)
		return 0;
	err = json_loadb((const char *)rsp->data, rsp->len, 0, NULL);
	ret = err_set(EREMOTEIO, "%s: HTTP %ld: %.300s", url, *status,
		      json_is_string(json_object_get(err, "error")) ? json_string_value(json_object_get(err, "error"))
								    : "(no error message)");
	json_decref(err);
	return ret;
}

/* Compact JSON text of o, which it consumes. */
static char *dump_new(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

static int fetch_bundle(const struct attest_args *a, const uint8_t *nonce, struct att_bundle *b)
{
	char hex[2 * NONCE_LEN + 1], *body;
	struct bytebuf rsp = { 0 };
	long status;
	int ret;

	hex_encode(nonce, NONCE_LEN, hex);
	if (!(body = dump_new(json_pack("{s:s}", "nonce", hex))))
		return err_set(ENOMEM, "out of memory");
	ret = post(a, "/v1/evidence", body, &rsp, &status);
	free(body);
	if (!ret)
		ret = att_bundle_parse((const char *)rsp.data, rsp.len, b);
	if (!ret && a->save)
		ret = file_write(a->save, rsp.data, rsp.len);
	bb_free(&rsp);
	return ret;
}

/* The manifest the host states must be the one the launch measured:
 * SHA-256(manifest) == HOST_DATA (SNP), SHA-384(manifest) == MRCONFIGID
 * (TDX: how cvmm's sim-tdx launches record it, docs/sim-tdx.md). */
static void check_manifest(const struct att_bundle *b, struct att_result *r)
{
	bool tdx = !strcmp(b->platform, "tdx");
	const char *field = tdx ? "MRCONFIGID" : "HOST_DATA", *hash = tdx ? "SHA-384" : "SHA-256";
	size_t n = tdx ? 48 : 32;
	uint8_t md[48], hd[48];
	const json_t *v = json_object_get(r->claims, tdx ? "mrconfigid" : "host_data");

	if (!b->manifest)
		return;
	if (strcmp(b->platform, "snp") && !tdx) {
		att_check(r, ATT_ADVISORY, "manifest", false,
			  "not checked: a device manifest is compared with SNP HOST_DATA or TDX MRCONFIGID only");
		return;
	}
	if (!EVP_Digest(b->manifest, b->manifest_len, md, NULL, tdx ? EVP_sha384() : EVP_sha256(), NULL) ||
	    att_policy_hex(v, tdx ? "mrconfigid" : "host_data", hd, n, false))
		att_check(r, ATT_AUTH, "manifest", false, "cannot compare the manifest with %s", field);
	else
		att_check(r, ATT_AUTH, "manifest", !CRYPTO_memcmp(md, hd, n), "%s of the bundle's device manifest %s %s",
			  hash, CRYPTO_memcmp(md, hd, n) ? "is not" : "equals", field);
}

/* TDX: the event log (CCEL) the agent sent must replay to the RTMRs of the
 * signed quote; a log that does not is a host (or guest) lying about what
 * was measured. */
static void check_event_log(const struct att_bundle *b, struct att_result *r)
{
	uint8_t rtmr[4][48];
	char detail[256], name[8];
	int ret;

	if (!b->event_log)
		return;
	if (strcmp(b->platform, "tdx")) {
		att_check(r, ATT_ADVISORY, "event_log", false, "ignored: an event log (CCEL) comes with TDX evidence only");
		return;
	}
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "rtmr%d", i);
		if (att_policy_hex(json_object_get(r->claims, name), name, rtmr[i], 48, false)) {
			att_check(r, ATT_AUTH, "tdx.event_log", false, "cannot read %s from the quote", name);
			return;
		}
	}
	ret = mb_ccel_check_rtmrs(b->event_log, b->event_log_len, (const uint8_t(*)[48])rtmr, detail, sizeof(detail));
	att_check(r, ATT_AUTH, "tdx.event_log", ret == 0, "%s%s", ret < 0 ? "the bundle's event log: " : "",
		  ret < 0 ? err_msg() : detail);
}

/* Verify b for our nonce into r (initialised here); *allow_warning from the
 * policy. Returns <0 when the evidence cannot be judged at all. */
static int judge(struct attest_args *a, const uint8_t *nonce, size_t nonce_len, const struct att_bundle *b,
		 struct att_result *r, bool *allow_warning)
{
	struct att_options o = { 0 };
	uint8_t rd[64], *root = NULL;
	size_t root_len = 0;
	json_t *policy = NULL;
	int ret;

	if ((ret = att_bind_report_data(nonce, nonce_len, b->agent_pubkey, ATT_PUBKEY_LEN, rd)) ||
	    (ret = att_policy_build(a->policy_path, a->measurements, rd, &a->allow_sim, &policy)))
		return ret;
	*allow_warning = json_is_true(json_object_get(policy, "allow_warning"));
	/* Secret release is strict unless the policy says otherwise ("strict":
	 * false, or "allow_warning": true, which asks to release on warnings). */
	if (!json_object_get(policy, "strict") && !*allow_warning)
		json_object_set_new(policy, "strict", json_true());
	o.policy = policy;
	o.allow_sim = a->allow_sim;
	o.cert_table = b->cert_table;
	o.cert_table_len = b->cert_table_len;
	if (a->root && (ret = file_read(a->root, ROOT_MAX, &root, &root_len)))
		goto out;
	if ((ret = att_result_init(r, b->platform)))
		goto out;
	att_check(r, ATT_AUTH, "bundle_nonce", b->nonce_len == nonce_len && !memcmp(b->nonce, nonce, nonce_len), "%s",
		  b->nonce_len == nonce_len && !memcmp(b->nonce, nonce, nonce_len)
			  ? "the bundle answers our nonce"
			  : "the bundle answers another nonce (a replayed or mixed-up answer)");
	o.root_pem = (const char *)root;
	o.root_pem_len = root_len;
	if (!strcmp(b->platform, "snp")) {
		ret = att_snp_verify(b->report, b->report_len, &o, r);
	} else if (a->root) {
		ret = att_tdx_verify_with_root(b->report, b->report_len, &o, (const char *)root, root_len, r);
	} else {
		ret = att_tdx_verify(b->report, b->report_len, &o, r);
	}
	if (ret && strncmp(err_msg(), "policy", 6))
		err_wrap(-ret, "bundle \"report\"");
	if (!ret)
		check_manifest(b, r);
	if (!ret)
		check_event_log(b, r);
out:
	free(root);
	json_decref(policy);
	return ret;
}

/* Wrap the secret to the agent's key for our nonce and send it. 0: stored,
 * 1: refused by the agent (message printed), <0 error. */
static int release(const struct attest_args *a, const uint8_t *nonce, const struct att_bundle *b,
		   const uint8_t *secret, size_t secret_len)
{
	struct att_wrapped w = { 0 };
	struct bytebuf rsp = { 0 };
	char nhex[2 * NONCE_LEN + 1], khex[2 * ATT_PUBKEY_LEN + 1], *ct = NULL, *body = NULL;
	long status = 0;
	int ret;

	if ((ret = att_secret_wrap(b->agent_pubkey, nonce, NONCE_LEN, a->secret_name, secret, secret_len, &w)) ||
	    (ret = att_b64_encode(w.ciphertext.data, w.ciphertext.len, &ct)))
		goto out;
	hex_encode(nonce, NONCE_LEN, nhex);
	hex_encode(w.eph_pubkey, ATT_PUBKEY_LEN, khex);
	body = dump_new(json_pack("{s:s, s:s, s:s, s:s}", "nonce", nhex, "name", a->secret_name, "ephemeral_pubkey",
				  khex, "ciphertext", ct));
	if (!body) {
		ret = err_set(ENOMEM, "out of memory");
		goto out;
	}
	ret = post(a, "/v1/secret", body, &rsp, &status);
	if (ret == -EREMOTEIO && status >= 400 && status < 500 && status != 404) {
		fprintf(stderr, "cvmm attest: secret %s refused: %s\n", a->secret_name, err_msg());
		ret = 1;
	}
out:
	bb_free(&w.ciphertext);
	bb_free(&rsp);
	free(ct);
	free(body);
	return ret;
}

static int run(struct attest_args *a, int *code)
{
	uint8_t nonce[ATT_NONCE_MAX], *secret = NULL;
	size_t secret_len = 0;
	struct att_bundle b = { 0 };
	struct att_result r = { 0 };
	bool allow_warning = false;
	enum att_status st;
	json_t *extra;
	char nhex[2 * ATT_NONCE_MAX + 1];
	size_t nonce_len = NONCE_LEN;
	int ret;

	if (a->secret_path && (ret = file_read(a->secret_path, ATT_SECRET_MAX, &secret, &secret_len)))
		return ret;
	if (a->bundle) {
		uint8_t *text = NULL;
		size_t len = 0;

		memcpy(nonce, a->nonce, a->nonce_len);
		nonce_len = a->nonce_len;
		ret = file_read(a->bundle, ATT_BUNDLE_MAX, &text, &len);
		if (!ret && (ret = att_bundle_parse((const char *)text, len, &b)))
			err_wrap(-ret, "%s", a->bundle);
		free(text);
	} else if (RAND_bytes(nonce, NONCE_LEN) != 1) {
		ret = err_set(EIO, "cannot draw a random nonce");
	} else {
		ret = fetch_bundle(a, nonce, &b);
	}
	if (ret || (ret = judge(a, nonce, nonce_len, &b, &r, &allow_warning)))
		goto out;
	st = att_result_status(&r);
	hex_encode(nonce, nonce_len, nhex);
	extra = json_pack("{s:s, s:s}", "nonce", nhex, "provider", b.provider);
	ret = att_result_print(&r, st, a->json, extra);
	json_decref(extra);
	if (ret)
		goto out;
	if (!a->json) /* simulated evidence is marked by att_result_print */
		printf("nonce: %s\nprovider: %s (as the host states)\n", nhex, b.provider);
	*code = st == ATT_CONTRAINDICATED ? 1 : 0;
	if (a->ear_out) {
		struct att_ear_opts eo = { .key_path = a->ear_key, .ttl = a->ear_ttl, .now = time(NULL), .nonce = nonce,
					   .nonce_len = nonce_len };
		char *token = NULL;

		if ((ret = att_ear_sign(&r, st, &eo, &token)))
			goto out;
		ret = file_write(a->ear_out, token, strlen(token));
		free(token);
		if (ret)
			goto out;
	}
	if (!a->secret_path)
		goto out;
	if (st == ATT_AFFIRMING || (st == ATT_WARNING && allow_warning)) {
		if ((ret = release(a, nonce, &b, secret, secret_len)) < 0)
			goto out;
		if (ret == 1) {
			*code = 1;
		} else {
			fprintf(a->json ? stderr : stdout, "secret %s released\n", a->secret_name);
		}
		ret = 0;
	} else {
		fprintf(stderr, "cvmm attest: secret %s not sent: the result is %s%s\n", a->secret_name,
			att_status_name(st), st == ATT_WARNING ? " (a policy with \"allow_warning\": true accepts that)" : "");
		*code = 1;
	}
out:
	if (secret)
		OPENSSL_cleanse(secret, secret_len);
	free(secret);
	att_result_free(&r);
	att_bundle_free(&b);
	return ret;
}

int att_cli_attest(int argc, char **argv)
{
	struct attest_args a = { 0 };
	int ret, code = 2;

	if (!(a.measurements = json_array())) {
		fprintf(stderr, "cvmm attest: out of memory\n");
		return 2;
	}
	ret = parse_args(argc, argv, &a);
	if (ret == 1) {
		usage(stdout);
		code = 0;
	} else if (ret || (ret = run(&a, &code))) {
		fprintf(stderr, "cvmm attest: %s\n", err_msg());
		code = 2;
	}
	json_decref(a.measurements);
	return code;
}
