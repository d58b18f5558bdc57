/* Unit tests: TDX quote trust chain with a test CA. A real quote
 * (v4-spr-gotdxguest) is re-signed end to end under a test root: new
 * attestation key, QE report re-bound and signed by a test PCK certificate
 * carrying the real PCK's SGX extensions, test PCK CA and root. That lets us
 * check revocation (CRLs made here), the collateral signatures (TCB signing
 * certificate made here) and TCB status computation, which the real Intel
 * root cannot sign for. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attestation/attestation.h"
#include "common/common.h"
#include "tests/att_checks.h"

#define EV "tests/fixtures/evidence/tdx/v4-spr-gotdxguest/"
/* v4 layout offsets (DCAP Quote Format): header 48 + TD10 body 584 */
#define SIGNED_LEN 632
#define CERT_DATA (SIGNED_LEN + 4 + 64 + 64 + 6)
#define QE_AUTH_LEN_OFF (CERT_DATA + 384 + 64)
#define AT_2023_06_18 1687100000

struct pki {
	EVP_PKEY *root_key, *ca_key, *pck_key, *tcb_key;
	X509 *root, *ca, *pck, *tcb;
	char *root_pem;
	size_t root_pem_len;
	char dir[64];
};

static struct pki P;
/* When set, resign_quote() puts these MISCSELECT bytes in the QE report. */
static const uint8_t *qe_miscselect;

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long serial, bool ca,
		       X509 *copy_sgx_from)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *e;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_NAME_free(n);
	ASN1_TIME_set(X509_getm_notBefore(x), 1500000000);  /* 2017 */
	ASN1_TIME_set(X509_getm_notAfter(x), 2000000000);   /* 2033 */
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (copy_sgx_from) {
		ASN1_OBJECT *o = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
		int pos = X509_get_ext_by_OBJ(copy_sgx_from, o, -1);

		assert_true(pos >= 0);
		X509_add_ext(x, X509_get_ext(copy_sgx_from, pos), -1);
		ASN1_OBJECT_free(o);
	}
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	return x;
}

static void sign_raw(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t out[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[80];
	const uint8_t *p = der;
	size_t n = sizeof(der);
	ECDSA_SIG *sig;

	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, der, &n, msg, len), 1);
	sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
	assert_non_null(sig);
	BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
}

static void pem_append(struct bytebuf *b, X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;

	PEM_write_bio_X509(bio, x);
	n = BIO_get_mem_data(bio, &p);
	assert_int_equal(bb_append(b, p, (size_t)n), 0);
	BIO_free(bio);
}

/* The fixture quote, re-signed under the test PKI. */
static uint8_t *resign_quote(size_t *out_len)
{
	uint8_t *q, pub[65], sig[64], qe[384], qe_sig[64], h[32], u[6];
	size_t len, publen;
	struct bytebuf chain = { 0 }, out = { 0 };
	EVP_PKEY *att = EVP_EC_gen("P-256");
	uint16_t auth_len;
	unsigned int hl;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_int_equal(file_read(EV "quote.bin", 1 << 20, &q, &len), 0);
	assert_int_equal(EVP_PKEY_get_octet_string_param(att, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &publen), 1);
	assert_int_equal(publen, 65);
	auth_len = le16(q + QE_AUTH_LEN_OFF);
	/* QE report data = SHA-256(attestation key || QE auth data) || zeros */
	memcpy(qe, q + CERT_DATA, 384);
	if (qe_miscselect)
		memcpy(qe + 16, qe_miscselect, 4); /* SGX REPORTBODY.MISCSELECT */
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, pub + 1, 64);
	EVP_DigestUpdate(md, q + QE_AUTH_LEN_OFF + 2, auth_len);
	EVP_DigestFinal_ex(md, h, &hl);
	EVP_MD_CTX_free(md);
	memcpy(qe + 320, h, 32);
	memset(qe + 352, 0, 32);
	sign_raw(P.pck_key, qe, 384, qe_sig);
	sign_raw(att, q, SIGNED_LEN, sig);
	pem_append(&chain, P.pck);
	pem_append(&chain, P.ca);
	pem_append(&chain, P.root);

	bb_append(&out, q, SIGNED_LEN);
	put_le32(u, (uint32_t)(64 + 64 + 6 + 384 + 64 + 2 + auth_len + 6 + chain.len));
	bb_append(&out, u, 4);
	bb_append(&out, sig, 64);
	bb_append(&out, pub + 1, 64);
	put_le16(u, 6);
	put_le32(u + 2, (uint32_t)(384 + 64 + 2 + auth_len + 6 + chain.len));
	bb_append(&out, u, 6);
	bb_append(&out, qe, 384);
	bb_append(&out, qe_sig, 64);
	bb_append(&out, q + QE_AUTH_LEN_OFF, 2 + (size_t)auth_len);
	put_le16(u, 5);
	put_le32(u + 2, (uint32_t)chain.len);
	bb_append(&out, u, 6);
	assert_int_equal(bb_append(&out, chain.data, chain.len), 0);
	bb_free(&chain);
	free(q);
	EVP_PKEY_free(att);
	*out_len = out.len;
	return out.data;
}

static int setup(void **state)
{
	uint8_t *q;
	size_t len;
	const char *b, *e;
	X509 *real_pck;
	BIO *bio;

	(void)state;
	/* the real PCK certificate (first PEM of the chain) lends its SGX extensions */
	assert_int_equal(file_read(EV "quote.bin", 1 << 20, &q, &len), 0);
	b = memmem(q, len, "-----BEGIN", 10);
	e = memmem(q, len, "-----END CERTIFICATE-----", 25);
	bio = BIO_new_mem_buf(b, (int)(e + 25 - b));
	real_pck = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(real_pck);
	BIO_free(bio);
	free(q);

	P.root_key = EVP_EC_gen("P-256");
	P.ca_key = EVP_EC_gen("P-256");
	P.pck_key = EVP_EC_gen("P-256");
	P.tcb_key = EVP_EC_gen("P-256");
	P.root = make_cert("Test SGX Root CA", P.root_key, NULL, P.root_key, 1, true, NULL);
	P.ca = make_cert("Test SGX PCK Platform CA", P.ca_key, P.root, P.root_key, 2, true, NULL);
	P.pck = make_cert("Test SGX PCK Certificate", P.pck_key, P.ca, P.ca_key, 77, false, real_pck);
	P.tcb = make_cert("Test SGX TCB Signing", P.tcb_key, P.root, P.root_key, 3, false, NULL);
	X509_free(real_pck);
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(bio, P.root);
	P.root_pem_len = (size_t)BIO_get_mem_data(bio, &b);
	P.root_pem = malloc(P.root_pem_len);
	memcpy(P.root_pem, b, P.root_pem_len);
	BIO_free(bio);
	snprintf(P.dir, sizeof(P.dir), "/tmp/cvmm-tdx-test.XXXXXX");
	assert_non_null(mkdtemp(P.dir));
	return 0;
}

static void rm_dir_files(void)
{
	static const char *const files[] = { "pckcrl.der", "rootcrl.der", "tcbinfo.json", "qe_identity.json",
					     "tcb_signing_chain.pem" };
	char path[128];

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", P.dir, files[i]);
		unlink(path);
	}
}

static int teardown(void **state)
{
	(void)state;
	rm_dir_files();
	rmdir(P.dir);
	X509_free(P.root);
	X509_free(P.ca);
	X509_free(P.pck);
	X509_free(P.tcb);
	EVP_PKEY_free(P.root_key);
	EVP_PKEY_free(P.ca_key);
	EVP_PKEY_free(P.pck_key);
	EVP_PKEY_free(P.tcb_key);
	free(P.root_pem);
	return 0;
}

static int verify(const uint8_t *q, size_t len, const struct att_options *o, struct att_result *r)
{
	int ret;

	assert_int_equal(att_result_init(r, "tdx"), 0);
	ret = att_tdx_verify_with_root(q, len, o, P.root_pem, P.root_pem_len, r);
	if (ret == 0 && getenv("TDX_TEST_DUMP")) {
		char *s = json_dumps(r->checks, JSON_INDENT(1));

		fprintf(stderr, "%s\n", s);
		free(s);
	}
	return ret;
}

static void write_crl(const char *file, X509 *issuer, EVP_PKEY *key, X509 *revoked)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	uint8_t *der = NULL;
	char path[128];
	int n;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	ASN1_TIME_set(t, AT_2023_06_18 - 86400);
	X509_CRL_set1_lastUpdate(crl, t);
	ASN1_TIME_set(t, AT_2023_06_18 + 30 * 86400);
	X509_CRL_set1_nextUpdate(crl, t);
	if (revoked) {
		X509_REVOKED *rv = X509_REVOKED_new();

		X509_REVOKED_set_serialNumber(rv, X509_get_serialNumber(revoked));
		ASN1_TIME_set(t, AT_2023_06_18 - 3600);
		X509_REVOKED_set_revocationDate(rv, t);
		X509_CRL_add0_revoked(crl, rv);
	}
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	n = i2d_X509_CRL(crl, &der);
	snprintf(path, sizeof(path), "%s/%s", P.dir, file);
	assert_int_equal(file_write(path, der, (size_t)n), 0);
	OPENSSL_free(der);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
}

static void test_resigned_quote_verifies(void **state)
{
	struct att_options o = { .at = AT_2023_06_18 };
	struct att_result r;
	size_t len;
	uint8_t *q = resign_quote(&len);

	(void)state;
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.quote_signature"));
	assert_true(result_check_ok(&r, "tdx.qe_report_data"));
	assert_true(result_check_ok(&r, "tdx.qe_report_signature"));
	assert_true(result_check_ok(&r, "tdx.pck_chain"));
	assert_true(result_check_ok(&r, "tdx.pck_extensions"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);
	/* ... twice (the cached chain path) ... */
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);

	/* ... but never under the built-in Intel root: the test root is foreign */
	assert_int_equal(att_result_init(&r, "tdx"), 0);
	assert_int_equal(att_tdx_verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.pck_chain"));
	assert_non_null(strstr(result_detail(&r, "tdx.pck_chain"), "does not end at the trusted root"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);

	/* --allow-sim trusts a self-signed foreign root, and says the evidence
	 * is simulated (as for SNP) */
	o.allow_sim = true;
	assert_int_equal(att_result_init(&r, "tdx"), 0);
	assert_int_equal(att_tdx_verify(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.pck_chain"));
	assert_true(result_check_ok(&r, "tdx.root"));
	assert_non_null(strstr(result_detail(&r, "tdx.root"), "Test SGX Root CA"));
	assert_non_null(strstr(result_detail(&r, "tdx.root"), "simulated platform"));
	assert_true(r.simulated);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);
	o.allow_sim = false;
	/* ... and never lets a real quote skip the Intel root check */
	{
		uint8_t *real;
		size_t rlen;
		struct att_options so = { .allow_sim = true };

		assert_int_equal(file_read(EV "quote.bin", 1 << 20, &real, &rlen), 0);
		assert_int_equal(att_result_init(&r, "tdx"), 0);
		assert_int_equal(att_tdx_verify(real, rlen, &so, &r), 0);
		assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
		att_result_free(&r);
		free(real);
	}

	/* the QE report must be signed by the PCK leaf's key, not another */
	q[CERT_DATA + 384 + 5] ^= 1;
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.qe_report_signature"));
	att_result_free(&r);
	free(q);
}

static void test_revoked_pck(void **state)
{
	struct att_options o = { .at = AT_2023_06_18, .collateral_dir = P.dir };
	struct att_result r;
	size_t len;
	uint8_t *q = resign_quote(&len);

	(void)state;
	rm_dir_files();
	write_crl("pckcrl.der", P.ca, P.ca_key, NULL);
	write_crl("rootcrl.der", P.root, P.root_key, NULL);
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.pck_chain"));
	assert_true(result_check_ok(&r, "tdx.crl.fresh"));
	att_result_free(&r);

	write_crl("pckcrl.der", P.ca, P.ca_key, P.pck); /* the PCK is revoked */
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.pck_chain"));
	assert_non_null(strstr(result_detail(&r, "tdx.pck_chain"), "revoked"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);

	write_crl("pckcrl.der", P.ca, P.ca_key, NULL);
	write_crl("rootcrl.der", P.root, P.root_key, P.ca); /* the PCK CA is revoked */
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.pck_chain"));
	assert_non_null(strstr(result_detail(&r, "tdx.pck_chain"), "revoked"));
	att_result_free(&r);

	write_crl("rootcrl.der", P.root, P.root_key, NULL);
	write_crl("pckcrl.der", P.root, P.root_key, NULL); /* wrong issuer for the leaf */
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.pck_chain"));
	att_result_free(&r);

	/* a stale CRL still revokes, and its staleness is a warning */
	write_crl("pckcrl.der", P.ca, P.ca_key, NULL);
	o.at = AT_2023_06_18 + 60 * 86400;
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.pck_chain"));
	assert_false(result_check_ok(&r, "tdx.crl.fresh"));
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	att_result_free(&r);
	rm_dir_files();
	free(q);
}

/* {"<member>":<text>,"signature":"<hex>"} signed by the test TCB signing key */
static void write_signed(const char *file, const char *member, const char *text)
{
	uint8_t sig[64];
	char hex[129], path[128];
	struct bytebuf b = { 0 };

	sign_raw(P.tcb_key, (const uint8_t *)text, strlen(text), sig);
	hex_encode(sig, 64, hex);
	bb_printf(&b, "{\"%s\":%s,\"signature\":\"%s\"}", member, text, hex);
	snprintf(path, sizeof(path), "%s/%s", P.dir, file);
	assert_int_equal(file_write(path, b.data, b.len), 0);
	bb_free(&b);
}

/* The signed member's text of a fixture collateral file. */
static char *member_text(const char *file, const char *member)
{
	char path[256], prefix[64];
	uint8_t *d;
	size_t len;
	char *end, *t;

	snprintf(path, sizeof(path), EV "collateral/%s", file);
	assert_int_equal(file_read(path, 1 << 20, &d, &len), 0);
	snprintf(prefix, sizeof(prefix), "{\"%s\":", member);
	assert_memory_equal(d, prefix, strlen(prefix));
	end = strstr((char *)d, ",\"signature\":");
	assert_non_null(end);
	*end = 0;
	t = strdup((char *)d + strlen(prefix));
	free(d);
	return t;
}

/* Replace every occurrence (same length, so the text stays in place). */
static void replace(char *s, const char *from, const char *to)
{
	char *p = strstr(s, from);

	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	for (; p; p = strstr(p + strlen(to), from))
		memcpy(p, to, strlen(to));
}

/* s with the first `from` replaced by `to` (any length); malloc'ed. */
static char *subst(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *out;

	assert_non_null(p);
	out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	sprintf(out, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return out;
}

static void test_signed_collateral(void **state)
{
	struct att_options o = { .at = AT_2023_06_18, .collateral_dir = P.dir };
	struct att_result r;
	size_t len;
	uint8_t *q = resign_quote(&len);
	char *ti = member_text("tcbinfo.json", "tcbInfo"), *qi = member_text("qe_identity.json", "enclaveIdentity");
	struct bytebuf chain = { 0 };
	char path[128];

	(void)state;
	rm_dir_files();
	write_crl("pckcrl.der", P.ca, P.ca_key, NULL);
	write_crl("rootcrl.der", P.root, P.root_key, NULL);
	pem_append(&chain, P.tcb);
	pem_append(&chain, P.root);
	snprintf(path, sizeof(path), "%s/tcb_signing_chain.pem", P.dir);
	assert_int_equal(file_write(path, chain.data, chain.len), 0);
	bb_free(&chain);
	/* The fixture platform (PCK SGX TCB 3,3,2,2,2,1,0,2,0.. PCESVN 11;
	 * TEE_TCB_SVN 3,0,4) is below both levels of this TCB info: lower the
	 * levels' SVNs to the platform's so that the first level matches. */
	replace(ti, "{\"svn\":5,\"category\":\"BIOS\",\"type\":\"Early", "{\"svn\":3,\"category\":\"BIOS\",\"type\":\"Early");
	replace(ti, "{\"svn\":5,\"category\":\"OS/VMM\",\"type\":\"SGX Late", "{\"svn\":3,\"category\":\"OS/VMM\",\"type\":\"SGX Late");
	replace(ti, "{\"svn\":3,\"category\":\"BIOS\"},{\"svn\":1", "{\"svn\":2,\"category\":\"BIOS\"},{\"svn\":1");
	replace(ti, "{\"svn\":3,\"category\":\"OS/VMM\",\"type\":\"SEAMLDR", "{\"svn\":2,\"category\":\"OS/VMM\",\"type\":\"SEAMLDR");
	replace(ti, "{\"svn\":5,\"category\":\"OS/VMM\",\"type\":\"TDX Late", "{\"svn\":4,\"category\":\"OS/VMM\",\"type\":\"TDX Late");
	write_signed("tcbinfo.json", "tcbInfo", ti);
	write_signed("qe_identity.json", "enclaveIdentity", qi);
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.tcb_info.signing_chain"));
	assert_true(result_check_ok(&r, "tdx.tcb_info.signature"));
	assert_true(result_check_ok(&r, "tdx.qe_identity.signature"));
	assert_true(result_check_ok(&r, "tdx.tcb_level"));
	assert_true(result_check_ok(&r, "tdx.tcb_info.tdx_module"));
	assert_true(result_check_ok(&r, "tdx.tcb_status"));
	assert_string_equal(json_string_value(json_object_get(r.claims, "tcb_status")), "UpToDate");
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);

	/* PCESVN 11 > the platform's: the second (OutOfDate) level matches */
	replace(ti, "\"pcesvn\":11", "\"pcesvn\":99");
	write_signed("tcbinfo.json", "tcbInfo", ti);
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_string_equal(json_string_value(json_object_get(r.claims, "tcb_status")), "OutOfDate");
	assert_false(result_check_ok(&r, "tdx.tcb_status"));
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	att_result_free(&r);
	/* ... which a policy may accept */
	o.policy = json_pack("{s:{s:[s,s]}}", "tdx", "accepted_tcb_status", "UpToDate", "OutOfDate");
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.tcb_status"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);
	json_decref(o.policy);
	o.policy = NULL;

	/* an out-of-date QE converges an up-to-date platform to OutOfDate */
	{
		char *ti_ok = strdup(ti), *qi_old;

		replace(ti_ok, "\"pcesvn\":99", "\"pcesvn\":11");
		qi_old = subst(qi, "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":4}",
			       "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":9},\"tcbDate\":\"2024-01-01T00:00:00Z\","
			       "\"tcbStatus\":\"UpToDate\"},{\"tcb\":{\"isvsvn\":4}");
		{
			char *t = subst(qi_old, "\"tcbStatus\":\"UpToDate\"}]", "\"tcbStatus\":\"OutOfDate\"}]");

			free(qi_old);
			qi_old = t;
		}
		write_signed("tcbinfo.json", "tcbInfo", ti_ok);
		write_signed("qe_identity.json", "enclaveIdentity", qi_old);
		assert_int_equal(verify(q, len, &o, &r), 0);
		assert_true(result_check_ok(&r, "tdx.qe_identity.signature"));
		assert_string_equal(json_string_value(json_object_get(r.claims, "qe_tcb_status")), "OutOfDate");
		assert_string_equal(json_string_value(json_object_get(r.claims, "tcb_status")), "OutOfDate");
		assert_false(result_check_ok(&r, "tdx.tcb_status"));
		att_result_free(&r);
		/* an SGX QE identity (id "QE") is not the TD quoting enclave's */
		replace(qi_old, "\"id\":\"TD_QE\"", "\"id\":\"QE_TD\"");
		write_signed("qe_identity.json", "enclaveIdentity", qi_old);
		assert_int_equal(verify(q, len, &o, &r), 0);
		assert_false(result_check_ok(&r, "tdx.qe_identity"));
		att_result_free(&r);
		write_signed("qe_identity.json", "enclaveIdentity", qi);
		free(ti_ok);
		free(qi_old);
	}

	/* a changed byte after signing fails the signature (authenticity) */
	write_signed("tcbinfo.json", "tcbInfo", ti);
	snprintf(path, sizeof(path), "%s/tcbinfo.json", P.dir);
	{
		uint8_t *d;
		size_t dl;

		assert_int_equal(file_read(path, 1 << 20, &d, &dl), 0);
		replace((char *)d, "\"pcesvn\":99", "\"pcesvn\":11");
		assert_int_equal(file_write(path, d, dl), 0);
		free(d);
	}
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.tcb_info.signature"));
	assert_true(r.auth_failed);
	att_result_free(&r);

	/* a QE identity for another enclave signer fails */
	replace(qi, "\"mrsigner\":\"DC9E", "\"mrsigner\":\"DC9F");
	write_signed("qe_identity.json", "enclaveIdentity", qi);
	write_signed("tcbinfo.json", "tcbInfo", ti);
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.qe_identity"));
	assert_true(result_check_ok(&r, "tdx.qe_identity.signature"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);

	/* malformed collateral JSON is an input error naming the file */
	snprintf(path, sizeof(path), "%s/tcbinfo.json", P.dir);
	assert_int_equal(file_write(path, "{\"tcbInfo\":", 11), 0);
	assert_int_equal(verify(q, len, &o, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "tcbinfo.json"));
	att_result_free(&r);
	rm_dir_files();
	free(ti);
	free(qi);
	free(q);
}

/* MISCSELECT in the QE identity is hex in the report's byte order (QVL's
 * EnclaveReportVerifier and go-tdx-guest both read it little-endian, as the
 * report's u32): a report with MISCSELECT = 1 (bytes 01 00 00 00) matches
 * "01000000", not "00000001". */
static void test_qe_miscselect_byte_order(void **state)
{
	static const uint8_t misc1[4] = { 1, 0, 0, 0 };
	struct att_options o = { .at = AT_2023_06_18, .collateral_dir = P.dir };
	struct att_result r;
	size_t len;
	uint8_t *q;
	char *qi = member_text("qe_identity.json", "enclaveIdentity"), path[128];
	struct bytebuf b = { 0 };

	(void)state;
	rm_dir_files();
	qe_miscselect = misc1;
	q = resign_quote(&len);
	qe_miscselect = NULL;
	snprintf(path, sizeof(path), "%s/qe_identity.json", P.dir);
	replace(qi, "\"miscselect\":\"00000000\"", "\"miscselect\":\"01000000\"");
	bb_printf(&b, "{\"enclaveIdentity\":%s,\"signature\":\"00\"}", qi);
	assert_int_equal(file_write(path, b.data, b.len), 0);
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.qe_report_signature"));
	assert_true(result_check_ok(&r, "tdx.qe_identity"));
	att_result_free(&r);

	replace(qi, "\"miscselect\":\"01000000\"", "\"miscselect\":\"00000001\"");
	b.len = 0;
	bb_printf(&b, "{\"enclaveIdentity\":%s,\"signature\":\"00\"}", qi);
	assert_int_equal(file_write(path, b.data, b.len), 0);
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.qe_identity"));
	assert_true(r.auth_failed);
	att_result_free(&r);

	/* the mask applies to the report: bit 0 masked off matches "00000000" */
	replace(qi, "\"miscselect\":\"00000001\"", "\"miscselect\":\"00000000\"");
	replace(qi, "\"miscselectMask\":\"FFFFFFFF\"", "\"miscselectMask\":\"FEFFFFFF\"");
	b.len = 0;
	bb_printf(&b, "{\"enclaveIdentity\":%s,\"signature\":\"00\"}", qi);
	assert_int_equal(file_write(path, b.data, b.len), 0);
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.qe_identity"));
	att_result_free(&r);
	bb_free(&b);
	rm_dir_files();
	free(qi);
	free(q);
}

/* ---- the fail-closed TDX policy (docs/verify.md "Strict verification"):
 * require_crl, collateral_grace_period, tdx.allow_expired_certs, "strict",
 * and the TCB signing certificate judged against the root CRL, on the real
 * fixtures where they exercise a rule, on the re-signed quote and the test
 * PKI above where only a test root can sign ---- */

#define FIX "tests/fixtures/evidence/tdx/"

static uint8_t *fixture(const char *name, size_t *len)
{
	char path[160];
	uint8_t *q;

	snprintf(path, sizeof(path), FIX "%s/quote.bin", name);
	assert_int_equal(file_read(path, 1 << 20, &q, len), 0);
	return q;
}

static int verify_intel(const uint8_t *q, size_t len, const struct att_options *o, struct att_result *r)
{
	assert_int_equal(att_result_init(r, "tdx"), 0);
	return att_tdx_verify(q, len, o, r);
}

/* require_crl: v5-gotdxguest's collateral has no CRLs, v4-spr-gotdxguest's has both. */
static void test_require_crl(void **state)
{
	struct att_options o = { .collateral_dir = FIX "v5-gotdxguest/collateral", .at = 1770000000 };
	struct att_result r;
	size_t len;
	uint8_t *q = fixture("v5-gotdxguest", &len);

	(void)state;
	/* without the key: a missing CRL is advisory (a warning), not a refusal */
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.crl"));
	assert_false(r.policy_failed);
	att_result_free(&r);
	/* with it: fatal */
	o.policy = json_pack("{s:b}", "require_crl", 1);
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.crl"));
	assert_non_null(strstr(result_detail(&r, "tdx.crl"), "require_crl"));
	assert_true(r.policy_failed);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	/* ... and without any collateral directory */
	o.collateral_dir = NULL;
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.crl"));
	assert_true(r.policy_failed);
	att_result_free(&r);
	free(q);

	/* both CRLs present: require_crl is met, nothing fails for it */
	q = fixture("v4-spr-gotdxguest", &len);
	o.collateral_dir = FIX "v4-spr-gotdxguest/collateral";
	o.at = 1687100000;
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.pck_chain"));
	assert_non_null(strstr(result_detail(&r, "tdx.pck_chain"), "root CRL"));
	assert_false(r.policy_failed);
	att_result_free(&r);
	json_decref(o.policy);
	free(q);
}

/* collateral_grace_period: at 2023-11-14 the fixture's TCB info, QE
 * identity and CRLs are months past nextUpdate. */
static void test_grace_period(void **state)
{
	struct att_options o = { .collateral_dir = FIX "v4-spr-gotdxguest/collateral", .at = 1700000000 };
	struct att_result r;
	size_t len;
	uint8_t *q = fixture("v4-spr-gotdxguest", &len);

	(void)state;
	o.policy = json_pack("{s:i}", "collateral_grace_period", 0);
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.tcb_info.fresh"));
	assert_false(result_check_ok(&r, "tdx.qe_identity.fresh"));
	assert_false(result_check_ok(&r, "tdx.crl.fresh"));
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_info.fresh"), "collateral_grace_period 0 s"));
	assert_true(r.policy_failed);
	att_result_free(&r);
	json_decref(o.policy);

	/* a year of grace accepts them (as policy checks that pass) */
	o.policy = json_pack("{s:i}", "collateral_grace_period", 86400 * 365);
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.tcb_info.fresh"));
	assert_true(result_check_ok(&r, "tdx.qe_identity.fresh"));
	assert_true(result_check_ok(&r, "tdx.crl.fresh"));
	assert_false(r.policy_failed);
	att_result_free(&r);
	json_decref(o.policy);

	/* inside the validity: grace 0 passes */
	o.at = 1687100000;
	o.policy = json_pack("{s:i}", "collateral_grace_period", 0);
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.tcb_info.fresh"));
	assert_true(result_check_ok(&r, "tdx.crl.fresh"));
	att_result_free(&r);
	json_decref(o.policy);
	free(q);
}

/* strict: the fixture's NotSupported TCB status is a warning, a refusal
 * under strict, accepted again by accepted_tcb_status. */
static void test_strict(void **state)
{
	struct att_options o = { .collateral_dir = FIX "v4-spr-gotdxguest/collateral", .at = 1687100000 };
	struct att_result r;
	size_t len;
	uint8_t *q = fixture("v4-spr-gotdxguest", &len);

	(void)state;
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_WARNING);
	att_result_free(&r);
	o.policy = json_pack("{s:b}", "strict", 1);
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_status"), "[strict: refused]"));
	att_result_free(&r);
	json_decref(o.policy);
	/* the fixture lacks the signing chains (tdx.*.signature not checked):
	 * a strict relying party must accept that explicitly -> still refused */
	o.policy = json_pack("{s:b, s:{s:[s]}}", "strict", 1, "tdx", "accepted_tcb_status", "NotSupported");
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.tcb_status"));
	assert_false(result_check_ok(&r, "tdx.tcb_info.signature"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);
	json_decref(o.policy);
	free(q);
}

/* The TCB signing certificate is checked against the root CRL; and
 * tdx.allow_expired_certs. */
static void test_tcb_signer_revoked(void **state)
{
	struct att_options o = { .at = AT_2023_06_18, .collateral_dir = P.dir };
	struct att_result r;
	size_t len;
	uint8_t *q = resign_quote(&len);
	char *ti = member_text("tcbinfo.json", "tcbInfo");
	struct bytebuf chain = { 0 };
	char path[128];

	(void)state;
	rm_dir_files();
	write_crl("pckcrl.der", P.ca, P.ca_key, NULL);
	write_crl("rootcrl.der", P.root, P.root_key, NULL);
	pem_append(&chain, P.tcb);
	pem_append(&chain, P.root);
	snprintf(path, sizeof(path), "%s/tcb_signing_chain.pem", P.dir);
	assert_int_equal(file_write(path, chain.data, chain.len), 0);
	bb_free(&chain);
	write_signed("tcbinfo.json", "tcbInfo", ti);
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.tcb_info.signing_chain"));
	assert_non_null(strstr(result_detail(&r, "tdx.tcb_info.signing_chain"), "rootcrl.der"));
	assert_true(result_check_ok(&r, "tdx.tcb_info.signature"));
	att_result_free(&r);

	/* the root CRL revokes the TCB signing certificate */
	write_crl("rootcrl.der", P.root, P.root_key, P.tcb);
	assert_int_equal(verify(q, len, &o, &r), 0);
	assert_false(result_check_ok(&r, "tdx.tcb_info.signing_chain"));
	assert_true(r.auth_failed);
	att_result_free(&r);
	rm_dir_files();
	free(ti);
	free(q);

	/* tdx.allow_expired_certs: the real PCK chain judged now (not --at) is
	 * valid today; the key only changes what an expiry would mean, so check
	 * it is accepted and typed */
	q = fixture("v4-spr-gotdxguest", &len);
	o = (struct att_options){ .policy = json_pack("{s:{s:b}}", "tdx", "allow_expired_certs", 0) };
	assert_int_equal(verify_intel(q, len, &o, &r), 0);
	assert_true(result_check_ok(&r, "tdx.cert_validity"));
	att_result_free(&r);
	json_decref(o.policy);
	o.policy = json_pack("{s:{s:s}}", "tdx", "allow_expired_certs", "yes");
	assert_int_equal(att_result_init(&r, "tdx"), 0);
	assert_int_equal(att_tdx_verify(q, len, &o, &r), -EINVAL);
	assert_non_null(strstr(err_msg(), "tdx.allow_expired_certs"));
	att_result_free(&r);
	json_decref(o.policy);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resigned_quote_verifies),
		cmocka_unit_test(test_revoked_pck),
		cmocka_unit_test(test_signed_collateral),
		cmocka_unit_test(test_qe_miscselect_byte_order),
		cmocka_unit_test(test_require_crl),
		cmocka_unit_test(test_grace_period),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_tcb_signer_revoked),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
