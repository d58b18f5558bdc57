/* Unit tests: SNP verification with certificate chains made here with the
 * OpenSSL APIs (a "simulated" ARK -> ASK -> VCEK, ARK -> ASVK -> VLEK), to
 * reach what real fixtures cannot: non-AMD roots (trusted only with
 * allow_sim), revocation lists, negative serial numbers, the Turin TCB
 * layout with FMC and an 8-byte hwID, VLEK, product mismatches, v2 reports
 * without CPUID, and that the chain cache follows the certificate bytes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attestation/attestation.h"
#include "common/common.h"
#include "tests/att_checks.h"

struct tcb {
	int fmc, bl, tee, snp, ucode;
};

struct chain {
	EVP_PKEY *ark_key, *inter_key, *vek_key;
	X509 *ark, *inter, *vek;
	char dir[64];
};

static EVP_PKEY *gen_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-384");

	assert_non_null(k);
	return k;
}

static void add_ext_der(X509 *x, const char *oid, const uint8_t *der, int len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	assert_true(ASN1_OCTET_STRING_set(os, der, len));
	e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
}

static void add_ext_int(X509 *x, const char *oid, long v)
{
	ASN1_INTEGER *i = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	int len;

	ASN1_INTEGER_set(i, v);
	len = i2d_ASN1_INTEGER(i, &der);
	add_ext_der(x, oid, der, len);
	OPENSSL_free(der);
	ASN1_INTEGER_free(i);
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, long serial, bool ca)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = BN_new();
	X509_EXTENSION *e;

	X509_set_version(x, 2);
	BN_set_word(bn, (BN_ULONG)labs(serial));
	BN_set_negative(bn, serial < 0);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365 * 5);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"cvmm test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	X509_set_pubkey(x, key);
	if (ca) {
		e = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	return x;
}

static void sign_cert(X509 *x, EVP_PKEY *k)
{
	assert_true(X509_sign(x, k, EVP_sha384()) > 0);
}

static void write_pem(const char *dir, const char *name, X509 *x)
{
	char path[128];
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &p);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(file_write(path, p, (size_t)n), 0);
	BIO_free(b);
}

static void write_der(const char *dir, const char *name, X509 *x)
{
	char path[128];
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(file_write(path, der, (size_t)n), 0);
	OPENSSL_free(der);
}

/* A chain for product ("Milan", "Genoa", "Turin"), VCEK or VLEK, with
 * the SPL extensions of tcb and hwID = chip (hwid_len bytes, raw). */
static void make_chain(struct chain *c, const char *product, bool vlek, const struct tcb *t, const uint8_t *chip,
		       int hwid_len)
{
	char cn[64];

	memset(c, 0, sizeof(*c));
	c->ark_key = gen_key();
	c->inter_key = gen_key();
	c->vek_key = gen_key();
	snprintf(cn, sizeof(cn), "ARK-%s", product);
	c->ark = make_cert(cn, c->ark_key, NULL, 0x10000, true);
	sign_cert(c->ark, c->ark_key);
	snprintf(cn, sizeof(cn), vlek ? "SEV-VLEK-%s" : "SEV-%s", product);
	c->inter = make_cert(cn, c->inter_key, c->ark, 0x10001, true);
	sign_cert(c->inter, c->ark_key);
	/* AMD issues VCEKs with negative serial numbers: accept them */
	c->vek = make_cert(vlek ? "SEV-VLEK" : "SEV-VCEK", c->vek_key, c->inter, -0x7654321, false);
	add_ext_int(c->vek, "1.3.6.1.4.1.3704.1.3.1", t->bl);
	add_ext_int(c->vek, "1.3.6.1.4.1.3704.1.3.2", t->tee);
	add_ext_int(c->vek, "1.3.6.1.4.1.3704.1.3.3", t->snp);
	add_ext_int(c->vek, "1.3.6.1.4.1.3704.1.3.8", t->ucode);
	if (!strcmp(product, "Turin"))
		add_ext_int(c->vek, "1.3.6.1.4.1.3704.1.3.9", t->fmc);
	if (!vlek)
		add_ext_der(c->vek, "1.3.6.1.4.1.3704.1.4", chip, hwid_len);
	sign_cert(c->vek, c->inter_key);

	strcpy(c->dir, "/tmp/cvmm-snpchain-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	write_der(c->dir, vlek ? "vlek.der" : "vcek.der", c->vek);
	write_pem(c->dir, vlek ? "asvk.pem" : "ask.pem", c->inter);
	write_pem(c->dir, "ark.pem", c->ark);
}

static void free_chain(struct chain *c)
{
	static const char *const names[] = { "vcek.der", "vlek.der", "ask.pem", "asvk.pem", "ark.pem", "crl.pem" };
	char path[128];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", c->dir, names[i]);
		unlink(path);
	}
	rmdir(c->dir);
	X509_free(c->ark);
	X509_free(c->inter);
	X509_free(c->vek);
	EVP_PKEY_free(c->ark_key);
	EVP_PKEY_free(c->inter_key);
	EVP_PKEY_free(c->vek_key);
}

static void put_tcb(uint8_t *p, const struct tcb *t, bool turin)
{
	memset(p, 0, 8);
	if (turin) {
		p[0] = (uint8_t)t->fmc, p[1] = (uint8_t)t->bl, p[2] = (uint8_t)t->tee, p[3] = (uint8_t)t->snp;
	} else {
		p[0] = (uint8_t)t->bl, p[1] = (uint8_t)t->tee, p[6] = (uint8_t)t->snp;
	}
	p[7] = (uint8_t)t->ucode;
}

/* An ATTESTATION_REPORT (ABI spec Table 23) signed with key. */
static void make_report(uint8_t rep[1184], int version, uint8_t fam, uint8_t mod, bool vlek, const struct tcb *t,
			const uint8_t chip[64], EVP_PKEY *key)
{
	bool turin = fam == 0x1A;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[160];
	const unsigned char *q = der;
	size_t derlen = sizeof(der);
	ECDSA_SIG *sig;

	memset(rep, 0, 1184);
	put_le32(rep, (uint32_t)version);
	put_le64(rep + 0x08, 0x30000);
	put_le32(rep + 0x34, 1);
	put_tcb(rep + 0x38, t, turin);
	put_le64(rep + 0x40, 0x1);
	put_le32(rep + 0x48, (vlek ? 1u : 0u) << 2);
	memset(rep + 0x90, 0xAB, 48);
	put_tcb(rep + 0x180, t, turin);
	if (version >= 3) {
		rep[0x188] = fam;
		rep[0x189] = mod;
	}
	memcpy(rep + 0x1A0, chip, 64);
	put_tcb(rep + 0x1E0, t, turin);
	put_tcb(rep + 0x1F0, t, turin);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &derlen, rep, 0x2A0), 1);
	sig = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
	assert_non_null(sig);
	BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), rep + 0x2A0, 72);
	BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), rep + 0x2A0 + 72, 72);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
}

static int verify(const uint8_t *rep, const char *dir, bool allow_sim, json_t *policy, struct att_result *r)
{
	struct att_options o = { .certs_dir = dir, .allow_sim = allow_sim, .policy = policy };

	assert_int_equal(att_result_init(r, "snp"), 0);
	return att_snp_verify(rep, 1184, &o, r);
}

static const struct tcb milan_tcb = { 0, 3, 0, 8, 115 };
static uint8_t chip[64];

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < 64; i++)
		chip[i] = (uint8_t)(0x40 + i);
	return 0;
}

static void test_sim_root_needs_allow_sim(void **state)
{
	struct chain c;
	uint8_t rep[1184];
	struct att_result r;
	json_t *policy = json_pack("{s:b}", "allow_sim", 1);

	(void)state;
	make_chain(&c, "Milan", false, &milan_tcb, chip, 64);
	make_report(rep, 3, 0x19, 0x01, false, &milan_tcb, chip, c.vek_key);

	assert_int_equal(verify(rep, c.dir, false, NULL, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	assert_false(result_check_ok(&r, "ark"));
	assert_true(result_check_ok(&r, "report_signature")); /* the report itself is fine */
	att_result_free(&r);

	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	assert_true(result_check_ok(&r, "ark"));
	assert_true(r.simulated); /* accepted, but marked: a simulated platform */
	assert_true(json_is_true(json_object_get(r.claims, "simulated")));
	assert_non_null(strstr(result_detail(&r, "ark"), "simulated platform"));
	assert_true(result_check_ok(&r, "vcek")); /* negative serial accepted */
	assert_true(result_check_ok(&r, "vek_chip_id"));
	assert_true(result_check_ok(&r, "vek_tcb"));
	assert_true(result_check_ok(&r, "report_signature"));
	att_result_free(&r);

	/* "allow_sim": true in the policy file does the same */
	assert_int_equal(verify(rep, c.dir, false, policy, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	att_result_free(&r);

	/* an ARK claiming to be AMD's (same name) is still not the built-in one */
	assert_int_equal(verify(rep, c.dir, false, NULL, &r), 0);
	assert_false(result_check_ok(&r, "ark"));
	att_result_free(&r);
	json_decref(policy);
	free_chain(&c);
}

static void write_crl(const char *dir, X509 *issuer, EVP_PKEY *key, long revoked_serial, long next_update)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	char path[128];
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	X509_gmtime_adj(t, -3600);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, next_update);
	X509_CRL_set1_nextUpdate(crl, t);
	if (revoked_serial) {
		X509_REVOKED *rev = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();

		ASN1_INTEGER_set(s, revoked_serial);
		X509_REVOKED_set_serialNumber(rev, s);
		X509_REVOKED_set_revocationDate(rev, t);
		X509_CRL_add0_revoked(crl, rev);
		ASN1_INTEGER_free(s);
	}
	X509_CRL_sort(crl);
	assert_true(X509_CRL_sign(crl, key, EVP_sha384()) > 0);
	PEM_write_bio_X509_CRL(b, crl);
	n = BIO_get_mem_data(b, &p);
	snprintf(path, sizeof(path), "%s/crl.pem", dir);
	assert_int_equal(file_write(path, p, (size_t)n), 0);
	BIO_free(b);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
}

static void test_crl(void **state)
{
	struct chain c;
	uint8_t rep[1184];
	struct att_result r;
	EVP_PKEY *other = gen_key();

	(void)state;
	make_chain(&c, "Milan", false, &milan_tcb, chip, 64);
	make_report(rep, 3, 0x19, 0x01, false, &milan_tcb, chip, c.vek_key);

	/* CRL from the ARK, revoking something else: fine */
	write_crl(c.dir, c.ark, c.ark_key, 0x999, 86400);
	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_true(result_check_ok(&r, "crl"));
	assert_true(result_check_ok(&r, "crl_current"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING); /* a simulated root is no warning */
	att_result_free(&r);

	/* the ASK (serial 0x10001) revoked by the ARK */
	write_crl(c.dir, c.ark, c.ark_key, 0x10001, 86400);
	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_false(result_check_ok(&r, "crl"));
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	att_result_free(&r);

	/* the VCEK (negative serial) revoked by the ASK */
	write_crl(c.dir, c.inter, c.inter_key, -0x7654321, 86400);
	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_false(result_check_ok(&r, "crl"));
	att_result_free(&r);

	/* a CRL in the ARK's name signed by another key */
	write_crl(c.dir, c.ark, other, 0, 86400);
	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_false(result_check_ok(&r, "crl"));
	assert_true(r.auth_failed);
	att_result_free(&r);

	/* a stale CRL is advisory */
	write_crl(c.dir, c.ark, c.ark_key, 0, -60);
	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_true(result_check_ok(&r, "crl"));
	assert_false(result_check_ok(&r, "crl_current"));
	assert_false(r.auth_failed);
	att_result_free(&r);

	EVP_PKEY_free(other);
	free_chain(&c);
}

/* Turin: TCB_VERSION is FMC, BOOT_LOADER, TEE, SNP, ..., MICROCODE, the
 * VCEK has an FMC SPL and an 8-byte hwID. */
static void test_turin_layout(void **state)
{
	const struct tcb t = { 1, 2, 3, 4, 0x55 };
	struct chain c;
	uint8_t rep[1184];
	struct att_result r;
	json_t *f;

	(void)state;
	make_chain(&c, "Turin", false, &t, chip, 8);
	make_report(rep, 3, 0x1A, 0x11, false, &t, chip, c.vek_key);
	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	assert_true(result_check_ok(&r, "vek_tcb"));
	assert_true(result_check_ok(&r, "vek_chip_id"));
	assert_string_equal(json_string_value(json_object_get(r.claims, "product")), "turin");
	f = json_object_get(r.claims, "reported_tcb_fields");
	assert_int_equal(json_integer_value(json_object_get(f, "fmc")), 1);
	assert_int_equal(json_integer_value(json_object_get(f, "bootloader")), 2);
	assert_int_equal(json_integer_value(json_object_get(f, "tee")), 3);
	assert_int_equal(json_integer_value(json_object_get(f, "snp")), 4);
	assert_int_equal(json_integer_value(json_object_get(f, "microcode")), 0x55);
	att_result_free(&r);

	/* min_tcb.fmc applies on Turin */
	json_t *p = json_pack("{s:{s:{s:i}}}", "snp", "min_tcb", "fmc", 2);
	assert_int_equal(verify(rep, c.dir, true, p, &r), 0);
	assert_false(result_check_ok(&r, "min_tcb"));
	att_result_free(&r);
	json_decref(p);

	/* another chip's report: first 8 bytes of CHIP_ID differ */
	uint8_t other[64];
	memcpy(other, chip, 64);
	other[3] ^= 1;
	make_report(rep, 3, 0x1A, 0x11, false, &t, other, c.vek_key);
	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_false(result_check_ok(&r, "vek_chip_id"));
	att_result_free(&r);
	free_chain(&c);
}

static void test_vlek_genoa(void **state)
{
	struct chain c;
	uint8_t rep[1184];
	struct att_result r;

	(void)state;
	make_chain(&c, "Genoa", true, &milan_tcb, chip, 0);
	make_report(rep, 5, 0x19, 0x11, true, &milan_tcb, chip, c.vek_key);
	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	assert_true(result_check_ok(&r, "asvk"));
	assert_true(result_check_ok(&r, "vlek"));
	assert_true(result_check_ok(&r, "report_signature"));
	assert_string_equal(json_string_value(json_object_get(r.claims, "signing_key")), "vlek");
	assert_string_equal(json_string_value(json_object_get(r.claims, "product")), "genoa");
	att_result_free(&r);

	/* the same report claiming a VCEK signed it: no vcek.der there */
	make_report(rep, 5, 0x19, 0x11, false, &milan_tcb, chip, c.vek_key);
	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_false(result_check_ok(&r, "vek_present"));
	att_result_free(&r);
	free_chain(&c);
}

static void test_product_mismatch_and_v2(void **state)
{
	struct chain c;
	uint8_t rep[1184];
	struct att_result r;

	(void)state;
	make_chain(&c, "Milan", false, &milan_tcb, chip, 64);
	/* CPUID says Genoa, the certificates are Milan's */
	make_report(rep, 3, 0x19, 0x11, false, &milan_tcb, chip, c.vek_key);
	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_false(result_check_ok(&r, "product"));
	att_result_free(&r);
	/* v2: no CPUID, product from the certificate */
	make_report(rep, 2, 0, 0, false, &milan_tcb, chip, c.vek_key);
	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_true(result_check_ok(&r, "product"));
	assert_true(result_check_ok(&r, "report_signature"));
	assert_string_equal(json_string_value(json_object_get(r.claims, "product")), "milan");
	att_result_free(&r);
	free_chain(&c);

	/* a simulated platform's chain names no AMD product: accepted as a
	 * complete non-AMD chain with allow_sim, the product claim "unknown" */
	make_chain(&c, "Sim", false, &milan_tcb, chip, 64);
	make_report(rep, 2, 0, 0, false, &milan_tcb, chip, c.vek_key);
	assert_int_equal(verify(rep, c.dir, true, NULL, &r), 0);
	assert_true(result_check_ok(&r, "product"));
	assert_int_equal(att_result_status(&r), ATT_AFFIRMING);
	assert_string_equal(json_string_value(json_object_get(r.claims, "product")), "unknown");
	att_result_free(&r);
	assert_int_equal(verify(rep, c.dir, false, NULL, &r), 0);
	assert_int_equal(att_result_status(&r), ATT_CONTRAINDICATED);
	assert_false(result_check_ok(&r, "ark"));
	att_result_free(&r);
	free_chain(&c);
}

/* The chain cache is keyed by the certificate bytes: replacing vcek.der
 * with another chain's VCEK is seen at once. */
static void test_cache_follows_bytes(void **state)
{
	struct chain a, b;
	uint8_t rep[1184];
	struct att_result r;

	(void)state;
	make_chain(&a, "Milan", false, &milan_tcb, chip, 64);
	make_chain(&b, "Milan", false, &milan_tcb, chip, 64);
	make_report(rep, 3, 0x19, 0x01, false, &milan_tcb, chip, a.vek_key);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(verify(rep, a.dir, true, NULL, &r), 0);
		assert_true(result_check_ok(&r, "report_signature"));
		assert_true(result_check_ok(&r, "vcek"));
		att_result_free(&r);
	}
	write_der(a.dir, "vcek.der", b.vek);
	assert_int_equal(verify(rep, a.dir, true, NULL, &r), 0);
	assert_false(result_check_ok(&r, "vcek")); /* b's VCEK is not signed by a's ASK */
	assert_false(result_check_ok(&r, "report_signature"));
	att_result_free(&r);
	free_chain(&a);
	free_chain(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim_root_needs_allow_sim), cmocka_unit_test(test_crl),
		cmocka_unit_test(test_turin_layout),		  cmocka_unit_test(test_vlek_genoa),
		cmocka_unit_test(test_product_mismatch_and_v2),	  cmocka_unit_test(test_cache_follows_bytes),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
