/* test_ear.c - signed attestation results (attestation/ear.c,
 * verify_ear_cli.c): `cvmm verify --output ear` on a real report
 * (milan-virtee) makes an ES256 JWT whose claims carry the verdict, the
 * AR4SI vector, the nonce and the claims; att_ear_verify / `cvmm verify-ear`
 * accept it and refuse a wrong key, an expired token, a wrong nonce, a
 * tampered payload, alg "none" and the HS256-with-the-public-key forgery;
 * a second JOSE implementation (Debian's python3-jwt) verifies the token
 * (skipped with a message when /usr/bin/python3 or its jwt module is absent). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "attestation/attestation.h"
#include "attestation/base64.h"
#include "common/common.h"
#include "tests/att_checks.h"

#define EV "tests/fixtures/evidence/snp/milan-virtee/"
#define NONCE "00112233445566778899aabbccddeeff"

static char dir[64], key_path[128], pub_path[128], other_pub[128], out_path[128], pol_path[128];

static void write_key(EVP_PKEY *k, const char *priv, const char *pub)
{
	FILE *f;

	if (priv) {
		assert_non_null(f = fopen(priv, "w"));
		assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
		fclose(f);
	}
	assert_non_null(f = fopen(pub, "w"));
	assert_int_equal(PEM_write_PUBKEY(f, k), 1);
	fclose(f);
}

static int setup(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256"), *o = EVP_EC_gen("P-256");

	(void)state;
	strcpy(dir, "/tmp/cvmm-ear-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(key_path, sizeof(key_path), "%s/ear.key", dir);
	snprintf(pub_path, sizeof(pub_path), "%s/ear.pub", dir);
	snprintf(other_pub, sizeof(other_pub), "%s/other.pub", dir);
	snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
	snprintf(pol_path, sizeof(pol_path), "%s/policy.json", dir);
	write_key(k, key_path, pub_path);
	write_key(o, NULL, other_pub);
	EVP_PKEY_free(k);
	EVP_PKEY_free(o);
	return 0;
}

static int teardown(void **state)
{
	char cmd[96];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Run a CLI entry point with stdout captured in *out (malloc'ed). */
static int run(int (*fn)(int, char **), char **out, ...)
{
	char *argv[32];
	int argc = 0, saved, fd, code;
	uint8_t *data;
	size_t len;
	va_list ap;

	va_start(ap, out);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	fflush(stdout);
	saved = dup(1);
	fd = open(out_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	dup2(fd, 1);
	close(fd);
	code = fn(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	assert_int_equal(file_read(out_path, 1 << 20, &data, &len), 0);
	*out = (char *)data;
	return code;
}

/* `cvmm verify --output ear` on the fixture; the token (trailing newline cut). */
static char *make_token(const char *extra_flag, int want_code)
{
	char *out;
	int code = run(att_cli_verify, &out, "verify", "--report", EV "report.bin", "--certs", EV, "--nonce", NONCE,
		       "--output", "ear", "--ear-key", key_path, "--ear-ttl", "600", extra_flag, (char *)NULL);

	assert_int_equal(code, want_code);
	assert_non_null(strchr(out, '\n'));
	*strchr(out, '\n') = 0;
	assert_int_equal(strncmp(out, "eyJ", 3), 0);
	return out;
}

static void test_sign_and_verify(void **state)
{
	char *token = make_token(NULL, 1), why[256]; /* the fixture's report_data is not SHA-512(NONCE) */
	uint8_t nonce[16];
	json_t *claims, *sub, *tv;
	size_t n;

	(void)state;
	assert_int_equal(hex_decode(NONCE, nonce, sizeof(nonce), &n, "nonce"), 0);
	assert_int_equal(att_ear_verify(token, pub_path, nonce, n, time(NULL), &claims, why, sizeof(why)), 0);
	assert_string_equal(json_string_value(json_object_get(claims, "eat_profile")), ATT_EAR_PROFILE);
	assert_string_equal(json_string_value(json_object_get(claims, "eat_nonce")), "ABEiM0RVZneImaq7zN3u_w");
	assert_int_equal(json_integer_value(json_object_get(claims, "exp")) -
				 json_integer_value(json_object_get(claims, "iat")),
			 600);
	assert_string_equal(json_string_value(json_object_get(json_object_get(claims, "ear.verifier-id"), "developer")),
			    "cvmm");
	sub = json_object_get(json_object_get(claims, "submods"), "snp");
	assert_non_null(sub);
	assert_string_equal(json_string_value(json_object_get(sub, "ear.status")), "contraindicated");
	assert_string_equal(json_string_value(json_array_get(json_object_get(sub, "cvmm.failed-checks"), 0)),
			    "report_data");
	/* the claims are the verifier's */
	assert_string_equal(json_string_value(json_object_get(json_object_get(sub, "ear.veraison.annotated-evidence"),
							       "product")),
			    "milan");
	tv = json_object_get(sub, "ear.trustworthiness-vector");
	assert_int_equal(json_integer_value(json_object_get(tv, "instance-identity")), 2);
	assert_int_equal(json_integer_value(json_object_get(tv, "hardware")), 2);
	assert_int_equal(json_integer_value(json_object_get(tv, "runtime-opaque")), 2);
	json_decref(claims);

	/* refusals: wrong key, expired, wrong nonce, nonce expected but absent */
	assert_int_equal(att_ear_verify(token, other_pub, nonce, n, time(NULL), &claims, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "signature does not verify"));
	assert_int_equal(att_ear_verify(token, pub_path, nonce, n, time(NULL) + 601, &claims, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "expired"));
	nonce[0] ^= 1;
	assert_int_equal(att_ear_verify(token, pub_path, nonce, n, time(NULL), &claims, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "eat_nonce"));
	assert_null(claims);
	/* a private key file where the public one belongs is an input error */
	assert_int_equal(att_ear_verify(token, key_path, NULL, 0, time(NULL), &claims, why, sizeof(why)), -EINVAL);
	free(token);
}

static char *b64url(const void *p, size_t n)
{
	char *s;

	assert_int_equal(att_b64_encode(p, n, &s), 0);
	for (char *c = s; *c; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c == '=' ? 0 : *c;
	return s;
}

/* Tokens an attacker can make without the private key. */
static void test_forgeries(void **state)
{
	char *token = make_token(NULL, 1), *dot = strchr(token, '.'), *dot2 = strchr(dot + 1, '.'), why[256];
	char forged[8192], *h, *sig;
	uint8_t *pub, mac[32];
	size_t pub_len;
	unsigned mac_len = 0;
	json_t *claims;

	(void)state;
	/* tampered payload: the claims set of another token, same signature */
	{
		char *p = b64url("{\"eat_profile\":\"" ATT_EAR_PROFILE "\",\"iat\":1,\"exp\":99999999999,\"submods\":"
				 "{\"snp\":{\"ear.status\":\"affirming\"}}}",
				 strlen("{\"eat_profile\":\"" ATT_EAR_PROFILE "\",\"iat\":1,\"exp\":99999999999,\"submods\":"
					"{\"snp\":{\"ear.status\":\"affirming\"}}}"));

		snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(dot - token), token, p, dot2);
		assert_int_equal(att_ear_verify(forged, pub_path, NULL, 0, time(NULL), &claims, why, sizeof(why)), 1);
		/* alg "none", no signature */
		h = b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}", 27);
		snprintf(forged, sizeof(forged), "%s.%s.", h, p);
		assert_int_equal(att_ear_verify(forged, pub_path, NULL, 0, time(NULL), &claims, why, sizeof(why)), 1);
		free(h);
		/* HS256 keyed with the verifier's public PEM (algorithm confusion):
		 * libjwt alone would accept this; cvmm insists on ES256 */
		assert_int_equal(file_read(pub_path, 1 << 16, &pub, &pub_len), 0);
		h = b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", 27);
		snprintf(forged, sizeof(forged), "%s.%s", h, p);
		assert_non_null(HMAC(EVP_sha256(), pub, (int)pub_len, (const uint8_t *)forged, strlen(forged), mac, &mac_len));
		sig = b64url(mac, mac_len);
		strcat(forged, ".");
		strcat(forged, sig);
		assert_int_equal(att_ear_verify(forged, pub_path, NULL, 0, time(NULL), &claims, why, sizeof(why)), 1);
		assert_non_null(strstr(why, "not ES256"));
		free(sig);
		free(h);
		free(pub);
		free(p);
	}
	assert_int_equal(att_ear_verify("not.a.jwt", pub_path, NULL, 0, time(NULL), &claims, why, sizeof(why)), 1);
	free(token);
}

static void test_cli(void **state)
{
	char *token, *out;
	int code;

	(void)state;
	/* affirming: a policy that asks nothing the fixture fails (no nonce) */
	assert_int_equal(run(att_cli_verify, &out, "verify", "--report", EV "report.bin", "--certs", EV, "--output",
			     "ear", "--ear-key", key_path, (char *)NULL),
			 0);
	*strchr(out, '\n') = 0;
	token = out;
	code = run(att_cli_verify_ear, &out, "verify-ear", token, "--ear-pubkey", pub_path, (char *)NULL);
	assert_int_equal(code, 0);
	assert_non_null(strstr(out, "affirming (snp)"));
	free(out);
	/* a nonce the token does not carry */
	assert_int_equal(run(att_cli_verify_ear, &out, "verify-ear", token, "--ear-pubkey", pub_path, "--nonce", NONCE,
			     (char *)NULL),
			 1);
	free(out);
	/* expiry judged at a later time */
	assert_int_equal(run(att_cli_verify_ear, &out, "verify-ear", token, "--ear-pubkey", pub_path, "--at",
			     "2100-01-01", (char *)NULL),
			 1);
	free(out);
	/* a token file and --json */
	assert_int_equal(file_write(pol_path, token, strlen(token)), 0);
	assert_int_equal(run(att_cli_verify_ear, &out, "verify-ear", pol_path, "--ear-pubkey", pub_path, "--json",
			     (char *)NULL),
			 0);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_non_null(json_object_get(j, "submods"));
	json_decref(j);
	free(out);
	free(token);

	/* contraindicated result: a valid token, but verify-ear refuses it */
	token = make_token(NULL, 1);
	assert_int_equal(run(att_cli_verify_ear, &out, "verify-ear", token, "--ear-pubkey", pub_path, "--nonce", NONCE,
			     (char *)NULL),
			 1);
	free(out);
	free(token);

	/* usage errors */
	assert_int_equal(run(att_cli_verify, &out, "verify", "--report", EV "report.bin", "--output", "ear", (char *)NULL),
			 2);
	assert_non_null(strstr(err_msg(), "--ear-key"));
	free(out);
	assert_int_equal(run(att_cli_verify, &out, "verify", "--report", EV "report.bin", "--output", "yaml", (char *)NULL),
			 2);
	free(out);
	assert_int_equal(run(att_cli_verify_ear, &out, "verify-ear", "x", (char *)NULL), 2);
	free(out);
}

/* The token verifies with another JOSE implementation: PyJWT (python3-jwt). */
static void test_python_jwt(void **state)
{
	char *token = make_token(NULL, 1), cmd[8192];
	int st;

	(void)state;
	if (access("/usr/bin/python3", X_OK) || system("/usr/bin/python3 -c 'import jwt' 2>/dev/null")) {
		fprintf(stderr, "test_python_jwt: skipped: /usr/bin/python3 with python3-jwt is not installed "
				"(scripts/deps installs it)\n");
		free(token);
		skip();
	}
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import jwt,sys; c=jwt.decode(sys.argv[1], open(sys.argv[2]).read(), "
		 "algorithms=[\"ES256\"], options={\"require\": [\"exp\", \"iat\"]}); "
		 "assert c[\"eat_nonce\"] == \"ABEiM0RVZneImaq7zN3u_w\", c; "
		 "assert c[\"submods\"][\"snp\"][\"ear.status\"] == \"contraindicated\"; "
		 "assert c[\"submods\"][\"snp\"][\"ear.trustworthiness-vector\"][\"instance-identity\"] == 2' %s %s",
		 token, pub_path);
	st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* and refuses it with the other key */
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import jwt,sys; jwt.decode(sys.argv[1], open(sys.argv[2]).read(), "
		 "algorithms=[\"ES256\"])' %s %s 2>/dev/null",
		 token, other_pub);
	st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 0);
	free(token);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_and_verify),
		cmocka_unit_test(test_forgeries),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_python_jwt),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
