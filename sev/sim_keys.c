/* sim_keys.c - the key store of the sim-snp software secure processor
 * (sev.h "sim-snp"): a simulated AMD key chain kept in a state directory,
 * shaped like AMD's (KDS interface spec #57230, "VCEK Certificate" and
 * "Certificate Chain"):
 *   ark.pem ark.key    ARK, self-signed RSA-4096, RSASSA-PSS SHA-384 (MGF1-SHA384, salt 48)
 *   ask.pem ask.key    ASK, RSA-4096, signed by the ARK (PSS)
 *   vcek.pem vcek.key  VCEK, ECDSA P-384, signed by the ASK (PSS), with AMD's
 *                      VCEK extensions: structVersion, productName, the SPLs
 *                      (= the store's TCB) and hwID (= the random CHIP_ID)
 * Names say it is simulated: O="cvmm simulated secure processor", with AMD's
 * CNs (ARK-Milan, SEV-Milan, SEV-VCEK) so the verifier finds the product.
 * The store is made once, in a temporary sibling directory renamed into
 * place (atomic: a crash leaves no half store, and of two processes making
 * it at once one wins and the other loads its keys); files 0600, dir 0700.
 * A damaged file is an error naming it, never a reason to make new keys. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "common/common.h"
#include "sev/sim_internal.h"

#define STORE_FILE_MAX (1 << 20)
#define SIM_ORG "cvmm simulated secure processor"

static const char *const store_files[] = { "ark.pem", "ark.key", "ask.pem", "ask.key", "vcek.pem", "vcek.key" };

char *snp_sim_default_dir(void)
{
	return keystore_default_dir("sim-snp");
}

static int add_ext_der(X509 *x, const char *oid, const uint8_t *der, int len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	int ok = obj && os && ASN1_OCTET_STRING_set(os, der, len) &&
		 (e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) && X509_add_ext(x, e, -1);

	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok ? 0 : -1;
}

static int add_ext_int(X509 *x, const char *oid, long v)
{
	ASN1_INTEGER *i = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	int len = i && ASN1_INTEGER_set(i, v) ? i2d_ASN1_INTEGER(i, &der) : -1;
	int ret = len > 0 ? add_ext_der(x, oid, der, len) : -1;

	OPENSSL_free(der);
	ASN1_INTEGER_free(i);
	return ret;
}

/* AMD's VCEK extensions (KDS spec, "VCEK Certificate Extensions"). */
static int add_vcek_exts(X509 *x, const uint8_t hwid[64])
{
	ASN1_IA5STRING *name = ASN1_IA5STRING_new();
	ASN1_OCTET_STRING *hw = ASN1_OCTET_STRING_new();
	unsigned char *d1 = NULL, *d2 = NULL;
	int l1 = -1, l2 = -1, ret = -1;

	if (name && hw && ASN1_STRING_set(name, SIM_PRODUCT_NAME, -1) && ASN1_OCTET_STRING_set(hw, hwid, 64)) {
		l1 = i2d_ASN1_IA5STRING(name, &d1);
		l2 = i2d_ASN1_OCTET_STRING(hw, &d2);
	}
	if (l1 > 0 && l2 > 0 && !add_ext_int(x, "1.3.6.1.4.1.3704.1.1", 1) &&
	    !add_ext_der(x, "1.3.6.1.4.1.3704.1.2", d1, l1) &&
	    !add_ext_int(x, "1.3.6.1.4.1.3704.1.3.1", SIM_SPL_BOOTLOADER) &&
	    !add_ext_int(x, "1.3.6.1.4.1.3704.1.3.2", SIM_SPL_TEE) &&
	    !add_ext_int(x, "1.3.6.1.4.1.3704.1.3.3", SIM_SPL_SNP) &&
	    !add_ext_int(x, "1.3.6.1.4.1.3704.1.3.8", SIM_SPL_MICROCODE) &&
	    !add_ext_der(x, "1.3.6.1.4.1.3704.1.4", d2, l2))
		ret = 0;
	OPENSSL_free(d1);
	OPENSSL_free(d2);
	ASN1_IA5STRING_free(name);
	ASN1_OCTET_STRING_free(hw);
	return ret;
}

static int add_ext_conf(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* One certificate: subject O/OU/CN, signed by issuer_key with RSASSA-PSS
 * SHA-384 (MGF1 SHA-384, salt 48) as AMD signs its ARK, ASK and VCEKs. */
static X509 *make_cert(const char *cn, X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *pub, const uint8_t *hwid)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	BIGNUM *serial = BN_new();
	bool ok = x && name && md && serial && X509_set_version(x, 2) && BN_rand(serial, 63, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
		  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
		  X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
		  X509_time_adj_ex(X509_getm_notAfter(x), 25 * 365, 0, NULL) &&
		  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)SIM_ORG, -1, -1, 0) &&
		  X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8, (const unsigned char *)"cvmm sim-snp", -1, -1, 0) &&
		  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
		  X509_set_subject_name(x, name) &&
		  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) && X509_set_pubkey(x, pub);

	if (ok && !hwid)
		ok = !add_ext_conf(x, issuer, NID_basic_constraints, "critical,CA:TRUE") &&
		     !add_ext_conf(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
		     !add_ext_conf(x, issuer, NID_subject_key_identifier, "hash");
	if (ok && hwid)
		ok = !add_vcek_exts(x, hwid);
	ok = ok && EVP_DigestSignInit(md, &pctx, EVP_sha384(), NULL, issuer_key) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) > 0 && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) > 0 &&
	     X509_sign_ctx(x, md) > 0;
	BN_free(serial);
	EVP_MD_CTX_free(md);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Write one PEM file (0600, exclusive, fsync'ed) into the new store. */
static int create_store(const char *dir)
{
	EVP_PKEY *ark_key = NULL, *ask_key = NULL, *vcek_key = NULL;
	X509 *ark = NULL, *ask = NULL, *vcek = NULL;
	uint8_t hwid[64];
	int ret;

	if (RAND_bytes(hwid, sizeof(hwid)) != 1 || !(ark_key = EVP_RSA_gen(4096)) || !(ask_key = EVP_RSA_gen(4096)) ||
	    !(vcek_key = EVP_EC_gen("P-384")) || !(ark = make_cert("ARK-Milan", NULL, ark_key, ark_key, NULL)) ||
	    !(ask = make_cert("SEV-Milan", ark, ark_key, ask_key, NULL)) ||
	    !(vcek = make_cert("SEV-VCEK", ask, ask_key, vcek_key, hwid))) {
		ret = err_set(EIO, "%s: generating the simulated ARK/ASK/VCEK failed", dir);
	} else {
		const struct keystore_entry e[] = {
			{ "ark.pem", ark, NULL },  { "ark.key", NULL, ark_key },   { "ask.pem", ask, NULL },
			{ "ask.key", NULL, ask_key }, { "vcek.pem", vcek, NULL }, { "vcek.key", NULL, vcek_key },
		};
		ret = keystore_create(dir, e, ARRAY_SIZE(e));
	}
	X509_free(ark);
	X509_free(ask);
	X509_free(vcek);
	EVP_PKEY_free(ark_key);
	EVP_PKEY_free(ask_key);
	EVP_PKEY_free(vcek_key);
	return ret;
}

/* ---- loading ---- */

static int read_store_file(const char *dir, const char *name, X509 **cert, EVP_PKEY **key)
{
	return keystore_read(dir, name, "sim-snp", cert, key);
}

static int load_store(struct snp_sim *sp)
{
	const char *d = sp->dir;
	EVP_PKEY *ark_key = NULL, *ask_key = NULL;
	const ASN1_OCTET_STRING *ext;
	ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.3704.1.4", 1);
	ASN1_OCTET_STRING *hw = NULL;
	const unsigned char *q;
	int ret, i;

	if ((ret = read_store_file(d, "ark.pem", &sp->ark, NULL)) || (ret = read_store_file(d, "ark.key", NULL, &ark_key)) ||
	    (ret = read_store_file(d, "ask.pem", &sp->ask, NULL)) || (ret = read_store_file(d, "ask.key", NULL, &ask_key)) ||
	    (ret = read_store_file(d, "vcek.pem", &sp->vcek, NULL)) ||
	    (ret = read_store_file(d, "vcek.key", NULL, &sp->vcek_key)))
		goto out;
	if (X509_check_private_key(sp->ark, ark_key) != 1 || X509_check_private_key(sp->ask, ask_key) != 1 ||
	    X509_check_private_key(sp->vcek, sp->vcek_key) != 1) {
		ret = err_set(EINVAL, "%s: a key does not match its certificate (damaged sim-snp key store)", d);
		goto out;
	}
	if (X509_verify(sp->ark, ark_key) != 1 || X509_verify(sp->ask, ark_key) != 1 ||
	    X509_verify(sp->vcek, ask_key) != 1) {
		ret = err_set(EINVAL, "%s: the ARK -> ASK -> VCEK signatures do not verify (damaged sim-snp key store)", d);
		goto out;
	}
	/* CHIP_ID and TCB come from the VCEK, so they always agree with it. */
	i = obj ? X509_get_ext_by_OBJ(sp->vcek, obj, -1) : -1;
	ext = i < 0 ? NULL : X509_EXTENSION_get_data(X509_get_ext(sp->vcek, i));
	q = ext ? ASN1_STRING_get0_data(ext) : NULL;
	hw = q ? d2i_ASN1_OCTET_STRING(NULL, &q, ASN1_STRING_length(ext)) : NULL;
	if (!hw || ASN1_STRING_length(hw) != 64) {
		ret = err_set(EINVAL, "%s/vcek.pem: no 64-byte hwID extension", d);
		goto out;
	}
	memcpy(sp->chip_id, ASN1_STRING_get0_data(hw), 64);
	{
		static const char *const oids[] = { "1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.2",
						    "1.3.6.1.4.1.3704.1.3.3", "1.3.6.1.4.1.3704.1.3.8" };
		static const int byte[] = { 0, 1, 6, 7 }; /* Milan TCB_VERSION */
		uint8_t t[8] = { 0 };

		for (size_t k = 0; k < ARRAY_SIZE(oids); k++) {
			ASN1_OBJECT *o = OBJ_txt2obj(oids[k], 1);
			int j = o ? X509_get_ext_by_OBJ(sp->vcek, o, -1) : -1;
			const ASN1_OCTET_STRING *e = j < 0 ? NULL : X509_EXTENSION_get_data(X509_get_ext(sp->vcek, j));
			const unsigned char *p = e ? ASN1_STRING_get0_data(e) : NULL;
			ASN1_INTEGER *in = p ? d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(e)) : NULL;
			int64_t v = -1;

			ASN1_OBJECT_free(o);
			if (!in || !ASN1_INTEGER_get_int64(&v, in) || v < 0 || v > 255) {
				ASN1_INTEGER_free(in);
				ret = err_set(EINVAL, "%s/vcek.pem: SPL extension %s missing or invalid", d, oids[k]);
				goto out;
			}
			ASN1_INTEGER_free(in);
			t[byte[k]] = (uint8_t)v;
		}
		sp->tcb = le64(t);
	}
	sp->ark_der_len = (size_t)i2d_X509(sp->ark, &sp->ark_der);
	sp->ask_der_len = (size_t)i2d_X509(sp->ask, &sp->ask_der);
	sp->vcek_der_len = (size_t)i2d_X509(sp->vcek, &sp->vcek_der);
	if (!sp->ark_der || !sp->ask_der || !sp->vcek_der)
		ret = err_set(ENOMEM, "%s: out of memory", d);
out:
	ASN1_OCTET_STRING_free(hw);
	ASN1_OBJECT_free(obj);
	EVP_PKEY_free(ark_key);
	EVP_PKEY_free(ask_key);
	return ret;
}

int snp_sim_open(const char *dir, struct snp_sim **out)
{
	struct snp_sim *sp;
	int ret = 0;

	*out = NULL;
	if (!(sp = calloc(1, sizeof(*sp))))
		return err_set(ENOMEM, "sim-snp: out of memory");
	sp->dir = dir ? strdup(dir) : snp_sim_default_dir();
	if (!sp->dir) {
		free(sp);
		return dir ? err_set(ENOMEM, "sim-snp: out of memory") : -ENOENT;
	}
	pthread_mutex_init(&sp->lock, NULL);
	if (keystore_absent(sp->dir, store_files, ARRAY_SIZE(store_files)))
		ret = create_store(sp->dir);
	if (!ret)
		ret = load_store(sp);
	if (ret) {
		snp_sim_close(sp);
		return ret;
	}
	*out = sp;
	return 0;
}

void snp_sim_close(struct snp_sim *sp)
{
	if (!sp)
		return;
	EVP_PKEY_free(sp->vcek_key);
	X509_free(sp->ark);
	X509_free(sp->ask);
	X509_free(sp->vcek);
	OPENSSL_free(sp->ark_der);
	OPENSSL_free(sp->ask_der);
	OPENSSL_free(sp->vcek_der);
	pthread_mutex_destroy(&sp->lock);
	free(sp->dir);
	free(sp);
}

int snp_sim_ark_pem(struct snp_sim *sp, char **pem, size_t *len)
{
	return keystore_cert_pem(sp->ark, pem, len);
}
