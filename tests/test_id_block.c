/* `cvmm id-block`: the SNP ID block and ID authentication information.
 * sev-snp-measure's own vector (tests/test_id_block.py: its test keys and
 * launch digest give a fixed ID block and key digests; the signatures are
 * randomized), then every signature checked with OpenSSL against the keys,
 * the structure offsets of the SNP ABI spec, the options and bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/common.h"
#include "cli_run.h"

#define SSM "tests/fixtures/measure/sev-snp-measure/"
#define IDKEY SSM "id_key_test.pem"
#define AUTHORKEY SSM "author_key_test.pem"
#define LD_B64 "B28FLQi9p6cAqipgjFyqawDrrSl7bWioWkWx5mmlWLZ+G5HShKMB/mPE+gdQRn7t"

static char tmpdir[] = "/tmp/cvmm-id-block-XXXXXX";
static char *out_text, *err_text;

static int runv(const char *const *argv)
{
	const char *args[64] = { "id-block" };
	struct cli_result r;
	int n = 1;

	for (; *argv && n < 63; argv++)
		args[n++] = *argv;
	args[n] = NULL;
	cli_run(&r, args);
	free(out_text);
	free(err_text);
	out_text = r.out;
	err_text = r.err;
	return r.code;
}
#define RUN(...) runv((const char *const[]){ __VA_ARGS__, NULL })

static size_t b64dec(const char *s, size_t n, uint8_t *out)
{
	int got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);

	assert_true(got >= 0);
	while (n && s[n - 1] == '=')
		n--, got--;
	return (size_t)got;
}

static EVP_PKEY *load(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	assert_non_null(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

/* The AMD-format key at p is key's public point (read back independently). */
static void expect_pubkey(const uint8_t *p, EVP_PKEY *key)
{
	BIGNUM *x = NULL, *y = NULL, *qx = BN_lebin2bn(p + 4, 72, NULL), *qy = BN_lebin2bn(p + 76, 72, NULL);

	assert_int_equal(le32(p), 2);
	assert_true(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x));
	assert_true(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y));
	assert_int_equal(BN_cmp(x, qx), 0);
	assert_int_equal(BN_cmp(y, qy), 0);
	for (size_t i = 4 + 144; i < 1028; i++)
		assert_int_equal(p[i], 0);
	BN_free(x), BN_free(y), BN_free(qx), BN_free(qy);
}

/* sig (AMD format) is a valid ECDSA P-384/SHA-384 signature of data by key. */
static void expect_sig(const uint8_t *sig, EVP_PKEY *key, const uint8_t *data, size_t len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	unsigned char *der = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int n;

	assert_true(ECDSA_SIG_set0(s, BN_lebin2bn(sig, 72, NULL), BN_lebin2bn(sig + 72, 72, NULL)));
	n = i2d_ECDSA_SIG(s, &der);
	assert_true(n > 0);
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, key), 1);
	assert_int_equal(EVP_DigestVerify(ctx, der, (size_t)n, data, len), 1);
	for (size_t i = 144; i < 512; i++)
		assert_int_equal(sig[i], 0);
	OPENSSL_free(der);
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(ctx);
}

static void b64_of_sha384(const uint8_t *d, size_t n, char out[65])
{
	uint8_t h[48];

	assert_int_equal(EVP_Digest(d, n, h, NULL, EVP_sha384(), NULL), 1);
	EVP_EncodeBlock((unsigned char *)out, h, 48);
}

static void test_sev_snp_measure_vector(void **state)
{
	static uint8_t block[200], auth[6000];
	char *l1, *l2, *l3, *ida, want[65];
	EVP_PKEY *ik = load(IDKEY), *ak = load(AUTHORKEY);

	(void)state;
	assert_int_equal(RUN("--measurement", LD_B64, "--idkey", IDKEY, "--authorkey", AUTHORKEY), 0);
	/* the three lines of test_id_block.py, exactly */
	l1 = out_text;
	assert_true(!strncmp(l1, "id-block=" LD_B64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAwAAAAAA,id-auth=",
			     strlen("id-block=" LD_B64) + 64 + 9));
	l2 = strchr(l1, '\n');
	assert_non_null(l2);
	l2++;
	assert_true(!strncmp(l2, "id_key_hash: hwt+NcU/inLQ0yL3WrKvgmJ5Kq9leWIs5BMcPyHyied8sFYKXjuQs5MuZ07HCcsU\n", 78));
	l3 = strchr(l2, '\n') + 1;
	assert_string_equal(l3, "author_key: YxEcNLv8Ckk4+aAJvQdJgNgXIyPmFZnJ/TNtqGcySOHcqY0L6PdjdqEGuK/UwKBX\n");

	/* the structures themselves */
	assert_int_equal(b64dec(l1 + 9, 128, block), 96);
	ida = strstr(l1, ",id-auth=") + 9;
	assert_int_equal(b64dec(ida, (size_t)(l2 - 1 - ida), auth), 4096);
	assert_int_equal(le32(block + 0x50), 1);          /* VERSION */
	assert_int_equal(le64(block + 0x58), 0x30000);    /* POLICY */
	assert_int_equal(le32(auth + 0), 1);              /* ID_KEY_ALGO: ECDSA P-384 with SHA-384 */
	assert_int_equal(le32(auth + 4), 1);              /* AUTH_KEY_ALGO */
	expect_pubkey(auth + 0x240, ik);                  /* ID_KEY */
	expect_pubkey(auth + 0x880, ak);                  /* AUTHOR_KEY */
	expect_sig(auth + 0x40, ik, block, 96);           /* ID_BLOCK_SIG */
	expect_sig(auth + 0x680, ak, auth + 0x240, 1028); /* ID_KEY_SIG */
	for (size_t i = 8; i < 0x40; i++)
		assert_int_equal(auth[i], 0);
	for (size_t i = 0xc84; i < 4096; i++)
		assert_int_equal(auth[i], 0);
	/* the key digests are SHA-384 of the keys in AMD format (what the
	 * attestation report carries as ID_KEY_DIGEST / AUTHOR_KEY_DIGEST) */
	b64_of_sha384(auth + 0x240, 1028, want);
	assert_true(!strncmp(l2 + 13, want, 64));
	b64_of_sha384(auth + 0x880, 1028, want);
	assert_true(!strncmp(l3 + 12, want, 64));
	EVP_PKEY_free(ik);
	EVP_PKEY_free(ak);
}

static void test_options_and_json(void **state)
{
	static uint8_t block[200], auth[6000];
	const char *s;
	json_t *o;
	EVP_PKEY *ik = load(IDKEY);
	char hexld[97];

	(void)state;
	assert_int_equal(b64dec(LD_B64, 64, block), 48);
	hex_encode(block, 48, hexld);
	/* hex measurement, IDs, SVN and policy */
	assert_int_equal(RUN("--measurement", hexld, "--idkey", IDKEY, "--authorkey", AUTHORKEY, "--family-id",
			     "00112233445566778899aabbccddeeff", "--image-id", "0x0102030405060708090a0b0c0d0e0f10",
			     "--guest-svn", "7", "--policy", "0x70000", "--json"), 0);
	o = json_loads(out_text, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "measurement")), hexld);
	assert_string_equal(json_string_value(json_object_get(o, "policy")), "0x70000");
	assert_int_equal(json_integer_value(json_object_get(o, "guest_svn")), 7);
	assert_string_equal(json_string_value(json_object_get(o, "family_id")), "00112233445566778899aabbccddeeff");
	assert_string_equal(json_string_value(json_object_get(o, "id_key_digest")),
			    "870b7e35c53f8a72d0d322f75ab2af8262792aaf6579622ce4131c3f21f289e77cb0560a5e3b90b3932e674ec709cb14");
	s = json_string_value(json_object_get(o, "id_block"));
	assert_int_equal(b64dec(s, strlen(s), block), 96);
	s = json_string_value(json_object_get(o, "id_auth"));
	assert_int_equal(b64dec(s, strlen(s), auth), 4096);
	assert_int_equal(block[0x30], 0x00);
	assert_int_equal(block[0x3f], 0xff);
	assert_int_equal(block[0x40], 0x01);
	assert_int_equal(block[0x4f], 0x10);
	assert_int_equal(le32(block + 0x54), 7);
	assert_int_equal(le64(block + 0x58), 0x70000);
	expect_sig(auth + 0x40, ik, block, 96);
	json_decref(o);
	EVP_PKEY_free(ik);
}

static void expect_error(const char *msg)
{
	assert_string_equal(out_text, "");
	assert_true(!strncmp(err_text, "cvmm id-block: ", 15));
	if (!strstr(err_text, msg))
		fprintf(stderr, "want '%s' in: %s", msg, err_text);
	assert_non_null(strstr(err_text, msg));
	assert_string_equal(strchr(err_text, '\n'), "\n");
}

static void test_bad_input(void **state)
{
	char p256[4200];
	EVP_PKEY *k = EVP_EC_gen("P-256");
	FILE *f;

	(void)state;
	snprintf(p256, sizeof(p256), "%s/p256.pem", tmpdir);
	f = fopen(p256, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	EVP_PKEY_free(k);

	assert_int_equal(RUN("--measurement", LD_B64, "--idkey", p256, "--authorkey", AUTHORKEY), 2);
	expect_error("not an ECDSA P-384 key");
	assert_int_equal(RUN("--measurement", LD_B64, "--idkey", IDKEY), 2);
	expect_error("--authorkey");
	assert_int_equal(RUN("--measurement", "AAAA", "--idkey", IDKEY, "--authorkey", AUTHORKEY), 2);
	expect_error("not a 48-byte digest");
	assert_int_equal(RUN("--measurement", LD_B64, "--idkey", "/nonexistent.pem", "--authorkey", AUTHORKEY), 2);
	expect_error("/nonexistent.pem");
	assert_int_equal(RUN("--measurement", LD_B64, "--idkey", SSM "README.md", "--authorkey", AUTHORKEY), 2);
	expect_error("not a PEM private key");
	assert_int_equal(RUN("--measurement", LD_B64, "--idkey", IDKEY, "--authorkey", AUTHORKEY, "--family-id", "00"),
			 2);
	expect_error("--family-id");
	assert_int_equal(RUN("--measurement", LD_B64, "--idkey", IDKEY, "--authorkey", AUTHORKEY, "--policy", "0x10000"),
			 2);
	expect_error("bit 17");
	assert_int_equal(RUN("--measurement", LD_B64, "--idkey", IDKEY, "--authorkey", AUTHORKEY, "--guest-svn",
			     "4294967296"), 2);
	expect_error("--guest-svn");
	assert_int_equal(RUN("--help"), 0);
	assert_non_null(strstr(out_text, "--authorkey"));
	unlink(p256);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(out_text);
	free(err_text);
	rmdir(tmpdir);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sev_snp_measure_vector),
		cmocka_unit_test(test_options_and_json),
		cmocka_unit_test(test_bad_input),
	};
	(void)argc;
	if (cli_locate(argv[0]))
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
