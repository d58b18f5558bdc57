/* test_attest.c - `cvmm attest` (attestation/attest_*.c): the bundle parser
 * refuses every malformed field with a message naming it, and the whole
 * relying-party flow runs in-process: the sim secure processor signs
 * reports for a fake agent (fake_agent.h), the endpoint relays, and cvmm
 * attest judges them: affirming with --allow-sim (secret released), refused
 * without it, a binding or manifest mismatch fails and no secret is sent. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "attestation/endpoint.h"
#include "tests/fake_agent.h"

#define GOOD_KEY "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define GOOD_NONCE "000102030405060708090a0b0c0d0e0f"

/* A bundle with one member replaced (value NULL: left out). */
static char *bundle_with(const char *key, const char *value)
{
	static const char *const keys[] = { "version", "platform", "provider", "nonce", "report", "agent_pubkey",
					    "cert_table", "manifest", "launch" };
	static const char *const values[] = { "1", "\"snp\"", "\"sim\"", "\"" GOOD_NONCE "\"", "\"AAECAw==\"",
					      "\"" GOOD_KEY "\"", "\"AAEC\"", "\"ZGV2aWNlcw==\"", "{\"vcpus\": 1}" };
	struct bytebuf b = { 0 };

	bb_printf(&b, "{");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = strcmp(keys[i], key) ? values[i] : value;

		if (v)
			bb_printf(&b, "%s\"%s\": %s", b.len > 1 ? ", " : "", keys[i], v);
	}
	bb_printf(&b, "}");
	return (char *)b.data;
}

static void test_bundle_good(void **state)
{
	char *s = bundle_with("", NULL);
	struct att_bundle b;

	(void)state;
	assert_int_equal(att_bundle_parse(s, strlen(s), &b), 0);
	assert_string_equal(b.platform, "snp");
	assert_int_equal(b.report_len, 4);
	assert_memory_equal(b.report, "\x00\x01\x02\x03", 4);
	assert_int_equal(b.cert_table_len, 3);
	assert_int_equal(b.manifest_len, 7);
	assert_memory_equal(b.manifest, "devices", 7);
	assert_int_equal(b.nonce_len, 16);
	assert_int_equal(b.agent_pubkey[1], 0x11);
	assert_int_equal(json_integer_value(json_object_get(b.launch, "vcpus")), 1);
	att_bundle_free(&b);
	free(s);
}

static void test_bundle_rejects(void **state)
{
	static const struct {
		const char *key, *value, *error;
	} bad[] = {
		{ "version", "2", "\"version\" is not 1" },
		{ "version", NULL, "\"version\" is not 1" },
		{ "platform", "\"sev\"", "\"platform\" is \"sev\"" },
		{ "platform", "7", "\"platform\" is not a string" },
		{ "provider", NULL, "missing \"provider\"" },
		{ "provider", "\"a\\nb\"", "\"provider\" has a non-printable" },
		{ "nonce", "\"00\"", "\"nonce\" is 1 bytes" },
		{ "nonce", "\"xyz0\"", "\"nonce\": not a hex digit" },
		{ "nonce", "\"0011\\u00002233\"", "not JSON" }, /* jansson refuses NUL */
		{ "report", NULL, "missing \"report\"" },
		{ "report", "\"AAECA\"", "\"report\": not base64 (length" },
		{ "report", "\"AA=C\"", "\"report\": not base64 (character" },
		{ "report", "\"\"", "\"report\": empty" },
		{ "agent_pubkey", "\"0011\"", "\"agent_pubkey\": expected 32 bytes" },
		{ "agent_pubkey", NULL, "missing \"agent_pubkey\"" },
		{ "cert_table", "\"!!!!\"", "\"cert_table\": not base64" },
		{ "manifest", "[]", "\"manifest\" is not a string" },
		{ "launch", "\"x\"", "\"launch\" is not an object" },
	};
	struct att_bundle b;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *s = bundle_with(bad[i].key, bad[i].value);

		assert_int_equal(att_bundle_parse(s, strlen(s), &b), -EINVAL);
		if (!strstr(err_msg(), bad[i].error))
			fail_msg("%s: '%s' does not contain '%s'", bad[i].key, err_msg(), bad[i].error);
		assert_null(b.report);
		free(s);
	}
	assert_int_equal(att_bundle_parse("[]", 2, &b), -EINVAL);
	assert_int_equal(att_bundle_parse("{", 1, &b), -EINVAL);
	assert_non_null(strstr(err_msg(), "bundle: not JSON"));
}

/* ---- the whole flow against the sim secure processor ---- */

struct flow {
	char dir[64], url[64], fp[65], secret_path[128], out_path[128], cert_path[128];
	struct snp_sim *sp;
	struct fake_agent fa;
	struct att_endpoint *ep;
	uint8_t manifest[16];
	char measurement[97];
};

static void write_text(const char *path, const char *text)
{
	FILE *s = fopen(path, "w");

	assert_non_null(s);
	fputs(text, s);
	assert_int_equal(fclose(s), 0);
}

static int flow_setup(void **state)
{
	struct flow *f = calloc(1, sizeof(*f));
	struct snp_sim_launch l = { .policy = 0x30000 };
	struct att_endpoint_cfg cfg = { .listen = "127.0.0.1:0", .manifest_len = sizeof(f->manifest) };
	struct att_ep_tls t;
	char path[128];
	uint8_t md[32];

	strcpy(f->dir, "/tmp/cvmm-attest-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/sim", f->dir);
	assert_int_equal(snp_sim_open(path, &f->sp), 0);
	memset(l.measurement, 0x5a, sizeof(l.measurement));
	hex_encode(l.measurement, sizeof(l.measurement), f->measurement);
	memset(f->manifest, 0xd7, sizeof(f->manifest));
	assert_int_equal(EVP_Digest(f->manifest, sizeof(f->manifest), md, NULL, EVP_sha256(), NULL), 1);
	memcpy(l.host_data, md, 32);
	assert_int_equal(snp_sim_launch(f->sp, &l), 0);
	f->fa.sim = f->sp;
	assert_int_equal(snp_sim_cert_table(f->sp, &f->fa.cert_table, &f->fa.cert_table_len), 0);
	assert_int_equal(fake_agent_start(&f->fa, f->dir), 0);

	/* the operator's certificate (--tls-cert/--tls-key) whose fingerprint
	 * the relying party is given out of band */
	assert_int_equal(att_ep_tls_self_signed("127.0.0.1", &t), 0);
	snprintf(f->cert_path, sizeof(f->cert_path), "%s/cert.pem", f->dir);
	snprintf(path, sizeof(path), "%s/key.pem", f->dir);
	write_text(f->cert_path, t.cert_pem);
	write_text(path, t.key_pem);
	hex_encode(t.fingerprint, 32, f->fp);
	att_ep_tls_free(&t);
	cfg.tls_cert = f->cert_path;
	cfg.tls_key = path;
	cfg.agent_addr = f->fa.addr;
	cfg.manifest = f->manifest;
	assert_int_equal(att_endpoint_start(&cfg, &f->ep), 0);
	snprintf(f->url, sizeof(f->url), "https://127.0.0.1:%u", att_endpoint_port(f->ep));
	snprintf(f->secret_path, sizeof(f->secret_path), "%s/secret.bin", f->dir);
	snprintf(f->out_path, sizeof(f->out_path), "%s/stdout", f->dir);
	write_text(f->secret_path, "the disk key");
	*state = f;
	return 0;
}

static int flow_teardown(void **state)
{
	struct flow *f = *state;
	char cmd[128];

	att_endpoint_stop(f->ep);
	fake_agent_stop(&f->fa);
	free(f->fa.cert_table);
	snp_sim_close(f->sp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Run cvmm attest argv with stdout in f->out_path; returns its exit status. */
static int attest_argv(struct flow *f, int argc, char **argv)
{
	int saved, fd, code;

	fflush(stdout);
	saved = dup(1);
	fd = open(f->out_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	dup2(fd, 1);
	close(fd);
	code = att_cli_attest(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	return code;
}

static int attest(struct flow *f, ...)
{
	char *argv[32] = { "attest", f->url };
	int argc = 2;
	va_list ap;

	va_start(ap, f);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return attest_argv(f, argc, argv);
}

static char *output(struct flow *f)
{
	uint8_t *data;
	size_t len;

	assert_int_equal(file_read(f->out_path, 1 << 20, &data, &len), 0);
	return (char *)data;
}

/* The check named name in cvmm attest --json's output: 1 ok, 0 failed, -1 absent. */
static int json_check(struct flow *f, const char *name, json_t **result)
{
	char *out = output(f);
	json_t *o = json_loads(out, 0, NULL), *c;
	size_t i;
	int ok = -1;

	free(out);
	assert_non_null(o);
	json_array_foreach(json_object_get(o, "checks"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "name")), name))
			ok = json_is_true(json_object_get(c, "ok"));
	if (result)
		*result = o;
	else
		json_decref(o);
	return ok;
}

static void test_flow_sim_affirming_releases(void **state)
{
	struct flow *f = *state;
	unsigned secrets = f->fa.secrets;
	char *out;
	json_t *o;

	assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--allow-sim", "--expect-measurement", f->measurement,
				"--secret", f->secret_path, "--secret-name", "disk.key", NULL), 0);
	out = output(f);
	assert_non_null(strstr(out, "affirming (snp)"));
	assert_non_null(strstr(out, "simulated platform"));
	assert_non_null(strstr(out, "secret disk.key released"));
	free(out);
	assert_int_equal(f->fa.secrets, secrets + 1);
	assert_string_equal(f->fa.secret_name, "disk.key");
	assert_int_equal(f->fa.secret.len, 12);
	assert_memory_equal(f->fa.secret.data, "the disk key", 12);

	/* --json: the checks the verifier and cvmm attest recorded */
	assert_int_equal(attest(f, "--cacert", f->cert_path, "--allow-sim", "--json", NULL), 0);
	assert_int_equal(json_check(f, "report_data", &o), 1);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "affirming");
	assert_true(json_is_true(json_object_get(o, "simulated")));
	json_decref(o);
	assert_int_equal(json_check(f, "bundle_nonce", NULL), 1);
	assert_int_equal(json_check(f, "manifest", NULL), 1);
	assert_int_equal(json_check(f, "report_signature", NULL), 1);
}

static void test_flow_without_allow_sim(void **state)
{
	struct flow *f = *state;
	unsigned secrets = f->fa.secrets, reqs = f->fa.evidence_reqs;

	assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--secret", f->secret_path, "--secret-name", "disk.key",
				"--json", NULL), 1);
	assert_int_equal(json_check(f, "ark", NULL), 0);
	assert_int_equal(f->fa.evidence_reqs, reqs + 1);
	assert_int_equal(f->fa.secrets, secrets); /* never sent */
}

static void test_flow_wrong_measurement(void **state)
{
	struct flow *f = *state;
	unsigned secrets = f->fa.secrets;
	char other[97];

	memset(other, '0', 96);
	other[96] = 0;
	assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--allow-sim", "--expect-measurement", other, "--secret",
				f->secret_path, "--secret-name", "disk.key", "--json", NULL), 1);
	assert_int_equal(json_check(f, "measurement", NULL), 0);
	assert_int_equal(f->fa.secrets, secrets);
}

/* The agent binds another key than the one it hands out (a relay that
 * swaps keys): the verifier's report_data check fails, no secret goes. */
static void test_flow_binding_mismatch(void **state)
{
	struct flow *f = *state;
	unsigned secrets = f->fa.secrets;

	f->fa.lie = true;
	assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--allow-sim", "--secret", f->secret_path,
				"--secret-name", "disk.key", "--json", NULL), 1);
	f->fa.lie = false;
	assert_int_equal(json_check(f, "report_data", NULL), 0);
	assert_int_equal(json_check(f, "report_signature", NULL), 1); /* genuine, but not for us */
	assert_int_equal(f->fa.secrets, secrets);
}

static void test_flow_tls_and_usage_errors(void **state)
{
	struct flow *f = *state;
	char wrong[65];

	memcpy(wrong, f->fp, sizeof(wrong));
	wrong[0] = wrong[0] == '0' ? '1' : '0';
	assert_int_equal(attest(f, "--tls-fingerprint", wrong, "--allow-sim", NULL), 2);
	assert_int_equal(attest(f, "--allow-sim", NULL), 2); /* not signed by a system CA */
	assert_int_equal(attest(f, "--allow-sim", "--secret", f->secret_path, NULL), 2);
	assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--cacert", f->cert_path, NULL), 2);
	assert_int_equal(attest(f, "--tls-fingerprint", "12", NULL), 2);
	assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--secret", f->secret_path, "--secret-name",
				"../x", NULL), 2);
	assert_int_equal(attest(f, "--timeout", "0", NULL), 2);
	char *argv[] = { "attest", "http://127.0.0.1:1", NULL };
	assert_int_equal(att_cli_attest(2, argv), 2);
}

/* --save-bundle keeps what the endpoint answered, and it parses. */
static void test_flow_save_bundle(void **state)
{
	struct flow *f = *state;
	char path[160];
	uint8_t *data;
	size_t len;
	struct att_bundle b;

	snprintf(path, sizeof(path), "%s/bundle.json", f->dir);
	assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--allow-sim", "--save-bundle", path, NULL), 0);
	assert_int_equal(file_read(path, 1 << 20, &data, &len), 0);
	assert_int_equal(att_bundle_parse((const char *)data, len, &b), 0);
	assert_string_equal(b.provider, "sim");
	assert_int_equal(b.report_len, 0x4A0);
	assert_non_null(b.cert_table);

	/* offline: the saved bundle verifies for the nonce it was asked with,
	 * and is rejected when presented for another one (a replay) */
	char nonce[2 * ATT_NONCE_MAX + 1], *argv[8] = { "attest", "--bundle", path, "--nonce", nonce, "--allow-sim",
							 "--json", NULL };
	hex_encode(b.nonce, b.nonce_len, nonce);
	assert_int_equal(attest_argv(f, 7, argv), 0);
	assert_int_equal(json_check(f, "bundle_nonce", NULL), 1);
	assert_int_equal(json_check(f, "report_data", NULL), 1);
	nonce[0] = nonce[0] == '0' ? '1' : '0';
	assert_int_equal(attest_argv(f, 7, argv), 1);
	assert_int_equal(json_check(f, "bundle_nonce", NULL), 0);
	assert_int_equal(json_check(f, "report_data", NULL), 0);
	/* offline mode takes no URL, no secret, and needs the nonce */
	char *bad[] = { "attest", "--bundle", path, NULL };
	assert_int_equal(attest_argv(f, 3, bad), 2);
	char *bad2[] = { "attest", "--bundle", path, "--nonce", nonce, "--secret", path, "--secret-name", "x", NULL };
	assert_int_equal(attest_argv(f, 9, bad2), 2);
	att_bundle_free(&b);
	free(data);
}

/* ---- strict by default (docs/verify.md "Strict verification"): a sim-snp
 * guest launched with DEBUG allowed is only a warning for cvmm verify, but
 * cvmm attest refuses the secret unless the policy accepts it; --ear-out ---- */

/* Relaunch the sim with guest policy `policy`, same measurement and HOST_DATA. */
static void relaunch(struct flow *f, uint64_t policy)
{
	struct snp_sim_launch l = { .policy = policy };

	memset(l.measurement, 0x5a, sizeof(l.measurement));
	assert_int_equal(EVP_Digest(f->manifest, sizeof(f->manifest), l.host_data, NULL, EVP_sha256(), NULL), 1);
	assert_int_equal(snp_sim_launch(f->sp, &l), 0);
}

static void test_strict_by_default(void **state)
{
	struct flow *f = *state;
	unsigned secrets = f->fa.secrets;
	char policy[160];
	json_t *o;

	/* the sim's own evidence is affirming under strict: released */
	assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--allow-sim", "--expect-measurement", f->measurement,
				"--secret", f->secret_path, "--secret-name", "disk.key", NULL), 0);
	assert_int_equal(f->fa.secrets, secrets + 1);

	/* DEBUG allowed: refused, the check says why */
	relaunch(f, 0x30000 | (1ull << 19));
	assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--allow-sim", "--secret", f->secret_path,
				"--secret-name", "disk.key", "--json", NULL), 1);
	assert_int_equal(json_check(f, "debug", &o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "contraindicated");
	json_decref(o);
	assert_int_equal(f->fa.secrets, secrets + 1);

	/* "strict": false: a warning again, which is still not released... */
	snprintf(policy, sizeof(policy), "%s/nonstrict.json", f->dir);
	write_text(policy, "{\"strict\": false}");
	assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--allow-sim", "--policy", policy, "--secret",
				f->secret_path, "--secret-name", "disk.key", "--json", NULL), 1);
	assert_int_equal(json_check(f, "debug", &o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "warning");
	json_decref(o);
	assert_int_equal(f->fa.secrets, secrets + 1);

	/* ... and each way a policy accepts it releases */
	static const char *const accept[] = { "{\"snp\": {\"allow_debug\": true}}", "{\"allow_warning\": true}" };
	for (size_t i = 0; i < ARRAY_SIZE(accept); i++) {
		snprintf(policy, sizeof(policy), "%s/policy%zu.json", f->dir, i);
		write_text(policy, accept[i]);
		assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--allow-sim", "--policy", policy, "--secret",
					f->secret_path, "--secret-name", "disk.key", NULL), 0);
		assert_int_equal(f->fa.secrets, secrets + 2 + i);
	}
	relaunch(f, 0x30000);
}

/* --ear-out: the verdict as a signed EAR bound to cvmm attest's own nonce. */
static void test_ear_out(void **state)
{
	struct flow *f = *state;
	char key[128], pub[128], tok[128], cmd[512], why[256], *out;
	uint8_t *token;
	size_t len;
	json_t *claims, *o;

	snprintf(key, sizeof(key), "%s/ear.key", f->dir);
	snprintf(pub, sizeof(pub), "%s/ear.pub", f->dir);
	snprintf(tok, sizeof(tok), "%s/ear.jwt", f->dir);
	snprintf(cmd, sizeof(cmd), "openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkey -out %s && "
		 "openssl pkey -in %s -pubout -out %s", key, key, pub);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--allow-sim", "--json", "--ear-out", tok, "--ear-key",
				key, NULL), 0);
	out = output(f);
	o = json_loads(out, 0, NULL);
	free(out);
	assert_non_null(o);
	assert_int_equal(file_read(tok, 1 << 20, &token, &len), 0);
	uint8_t nonce[64];
	size_t n;
	assert_int_equal(hex_decode(json_string_value(json_object_get(o, "nonce")), nonce, sizeof(nonce), &n, "nonce"), 0);
	assert_int_equal(att_ear_verify((char *)token, pub, nonce, n, time(NULL), &claims, why, sizeof(why)), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(claims, "submods"), "snp"),
							      "ear.status")),
			    "affirming");
	assert_true(json_is_true(json_object_get(json_object_get(json_object_get(claims, "submods"), "snp"),
						 "cvmm.simulated")));
	json_decref(claims);
	json_decref(o);
	free(token);
	/* one without the other is a usage error */
	assert_int_equal(attest(f, "--tls-fingerprint", f->fp, "--ear-out", tok, NULL), 2);
}

int main(void)
{
	const struct CMUnitTest parse[] = {
		cmocka_unit_test(test_bundle_good),
		cmocka_unit_test(test_bundle_rejects),
	};
	const struct CMUnitTest flow[] = {
		cmocka_unit_test(test_flow_sim_affirming_releases),
		cmocka_unit_test(test_flow_without_allow_sim),
		cmocka_unit_test(test_flow_wrong_measurement),
		cmocka_unit_test(test_flow_binding_mismatch),
		cmocka_unit_test(test_flow_tls_and_usage_errors),
		cmocka_unit_test(test_flow_save_bundle),
		cmocka_unit_test(test_strict_by_default),
		cmocka_unit_test(test_ear_out),
	};
	int ret;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = cmocka_run_group_tests_name("bundle", parse, NULL, NULL);
	ret |= cmocka_run_group_tests_name("flow", flow, flow_setup, flow_teardown);
	curl_global_cleanup();
	return ret;
}
