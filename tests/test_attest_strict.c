/* test_attest_strict.c - `cvmm attest` is strict by default (docs/verify.md
 * "Strict verification"): a sim-snp guest launched with DEBUG allowed is
 * only a warning for `cvmm verify`, but cvmm attest refuses the secret
 * (contraindicated, not a warning) unless the policy accepts it ("snp":
 * {"allow_debug": true}, or "allow_warning": true, which also turns strict
 * off); "strict": false alone restores the warning, still not released. The in-process flow of test_attest.c
 * (sim secure processor, fake agent, endpoint) is reused, its main renamed. */
#define main test_attest_main
#include "tests/test_attest.c"
#undef main

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
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_by_default),
		cmocka_unit_test(test_ear_out),
	};
	(void)test_attest_main;
	return cmocka_run_group_tests(tests, flow_setup, flow_teardown);
}
