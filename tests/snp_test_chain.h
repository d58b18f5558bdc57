/* snp_test_chain.h - test helpers: a non-AMD ARK -> ASK -> VCEK chain made
 * with the OpenSSL APIs (trusted with allow_sim), written to a temporary
 * --certs directory, and SNP reports (ABI spec Table 23) filled field by
 * field and signed with the VCEK's key, so a test can set any report field,
 * re-sign, and judge it. Include after <cmocka.h>. */
#ifndef CVMM_TESTS_SNP_TEST_CHAIN_H
#define CVMM_TESTS_SNP_TEST_CHAIN_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attestation/attestation.h"
#include "common/common.h"

struct t_tcb {
	int bl, tee, snp, ucode;
};

struct t_chain {
	EVP_PKEY *ark_key, *ask_key, *vek_key;
	X509 *ark, *ask, *vek;
	char dir[64];
};

static inline void t_ext_int(X509 *x, const char *oid, long v, bool raw)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	ASN1_INTEGER *i = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	uint8_t chip[64];
	int len;

	if (raw) { /* hwID: 64 raw bytes 0x40.. */
		for (int k = 0; k < 64; k++)
			chip[k] = (uint8_t)(0x40 + k);
		ASN1_OCTET_STRING_set(os, chip, 64);
	} else {
		ASN1_INTEGER_set(i, v);
		len = i2d_ASN1_INTEGER(i, &der);
		ASN1_OCTET_STRING_set(os, der, len);
	}
	X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	assert_non_null(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	OPENSSL_free(der);
	ASN1_INTEGER_free(i);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
}

/* not_after: seconds from now (negative: expired). */
static inline X509 *t_cert(const char *cn, EVP_PKEY *key, X509 *issuer, long serial, bool ca, long not_after)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400L * 400);
	X509_gmtime_adj(X509_getm_notAfter(x), not_after);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"cvmm test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	X509_set_pubkey(x, key);
	if (ca) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	return x;
}

static inline void t_write(const char *dir, const char *name, const void *p, size_t n)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(file_write(path, p, n), 0);
}

static inline void t_write_pem(const char *dir, const char *name, X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &p);
	t_write(dir, name, p, (size_t)n);
	BIO_free(b);
}

/* A Milan-named chain whose VCEK carries tcb and hwID 0x40..0x7f, valid
 * for vek_not_after seconds from now. */
static inline void t_chain_make(struct t_chain *c, const struct t_tcb *t, long vek_not_after)
{
	unsigned char *der = NULL;
	int n;

	memset(c, 0, sizeof(*c));
	c->ark_key = EVP_EC_gen("P-384");
	c->ask_key = EVP_EC_gen("P-384");
	c->vek_key = EVP_EC_gen("P-384");
	c->ark = t_cert("ARK-Milan", c->ark_key, NULL, 0x10000, true, 86400L * 365 * 5);
	assert_true(X509_sign(c->ark, c->ark_key, EVP_sha384()) > 0);
	c->ask = t_cert("SEV-Milan", c->ask_key, c->ark, 0x10001, true, 86400L * 365 * 5);
	assert_true(X509_sign(c->ask, c->ark_key, EVP_sha384()) > 0);
	c->vek = t_cert("SEV-VCEK", c->vek_key, c->ask, 0x10002, false, vek_not_after);
	t_ext_int(c->vek, "1.3.6.1.4.1.3704.1.3.1", t->bl, false);
	t_ext_int(c->vek, "1.3.6.1.4.1.3704.1.3.2", t->tee, false);
	t_ext_int(c->vek, "1.3.6.1.4.1.3704.1.3.3", t->snp, false);
	t_ext_int(c->vek, "1.3.6.1.4.1.3704.1.3.8", t->ucode, false);
	t_ext_int(c->vek, "1.3.6.1.4.1.3704.1.4", 0, true);
	assert_true(X509_sign(c->vek, c->ask_key, EVP_sha384()) > 0);
	strcpy(c->dir, "/tmp/cvmm-snptest-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	n = i2d_X509(c->vek, &der);
	t_write(c->dir, "vcek.der", der, (size_t)n);
	OPENSSL_free(der);
	t_write_pem(c->dir, "ask.pem", c->ask);
	t_write_pem(c->dir, "ark.pem", c->ark);
}

/* A CRL by the ARK, nextUpdate next_update seconds from now, into crl.pem. */
static inline void t_chain_crl(struct t_chain *c, long next_update)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(c->ark));
	X509_gmtime_adj(t, -86400L * 2);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, next_update);
	X509_CRL_set1_nextUpdate(crl, t);
	assert_true(X509_CRL_sign(crl, c->ark_key, EVP_sha384()) > 0);
	PEM_write_bio_X509_CRL(b, crl);
	n = BIO_get_mem_data(b, &p);
	t_write(c->dir, "crl.pem", p, (size_t)n);
	BIO_free(b);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
}

static inline void t_chain_free(struct t_chain *c)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", c->dir);
	assert_int_equal(system(cmd), 0);
	X509_free(c->ark);
	X509_free(c->ask);
	X509_free(c->vek);
	EVP_PKEY_free(c->ark_key);
	EVP_PKEY_free(c->ask_key);
	EVP_PKEY_free(c->vek_key);
}

static inline void t_put_tcb(uint8_t *p, const struct t_tcb *t)
{
	memset(p, 0, 8);
	p[0] = (uint8_t)t->bl, p[1] = (uint8_t)t->tee, p[6] = (uint8_t)t->snp, p[7] = (uint8_t)t->ucode;
}

/* A version-3 Milan report (policy 0x30000, VMPL 0, SIGNATURE_ALGO 1,
 * every TCB = t, CHIP_ID 0x40.., firmware 1.55.21 current = committed);
 * change fields, then t_report_sign(). */
static inline void t_report_init(uint8_t rep[1184], const struct t_tcb *t)
{
	memset(rep, 0, 1184);
	put_le32(rep, 3);
	put_le64(rep + 0x08, 0x30000);
	put_le32(rep + 0x34, 1);
	t_put_tcb(rep + 0x38, t);	/* CURRENT_TCB */
	memset(rep + 0x90, 0xAB, 48);	/* MEASUREMENT */
	t_put_tcb(rep + 0x180, t);	/* REPORTED_TCB */
	rep[0x188] = 0x19;		/* CPUID_FAM_ID: Milan */
	rep[0x189] = 0x01;
	rep[0x18A] = 0x01;
	for (int i = 0; i < 64; i++)
		rep[0x1A0 + i] = (uint8_t)(0x40 + i);
	t_put_tcb(rep + 0x1E0, t);	/* COMMITTED_TCB */
	rep[0x1E8] = 21, rep[0x1E9] = 55, rep[0x1EA] = 1; /* CURRENT build/minor/major */
	rep[0x1EC] = 21, rep[0x1ED] = 55, rep[0x1EE] = 1; /* COMMITTED */
	t_put_tcb(rep + 0x1F0, t);	/* LAUNCH_TCB */
}

static inline void t_report_sign(uint8_t rep[1184], EVP_PKEY *key)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[160];
	const unsigned char *q = der;
	size_t derlen = sizeof(der);
	ECDSA_SIG *sig;

	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &derlen, rep, 0x2A0), 1);
	sig = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
	assert_non_null(sig);
	memset(rep + 0x2A0, 0, 144);
	BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), rep + 0x2A0, 72);
	BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), rep + 0x2A0 + 72, 72);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
}

/* Verify rep with the chain's directory, allow_sim and policy (text, may be
 * NULL; "allow_sim" is added); r is initialised here. */
static inline int t_verify(const uint8_t *rep, const struct t_chain *c, const char *policy_text,
			   struct att_result *r)
{
	json_t *p = policy_text ? json_loads(policy_text, 0, NULL) : json_object();
	struct att_options o = { .certs_dir = c->dir, .allow_sim = true, .policy = p };
	int ret;

	assert_non_null(p);
	assert_int_equal(att_result_init(r, "snp"), 0);
	ret = att_snp_verify(rep, 1184, &o, r);
	json_decref(p);
	return ret;
}

#endif
