/* sim_keys.c - the key store of the sim-tdx software TDX module and quoting
 * enclave (tdx.h "sim-tdx"): a simulated Intel PCK chain and an attestation
 * key in a state directory, shaped like Intel's (Intel SGX PCK Certificate
 * and CRL Profile):
 *   root.pem root.key      root CA, self-signed, ECDSA P-256 (ecdsa-with-SHA256)
 *   pck-ca.pem pck-ca.key  PCK platform CA, signed by the root
 *   pck.pem pck.key        PCK leaf, signed by the PCK CA, with the SGX
 *                          extensions (OID 1.2.840.113741.1.13.1: PPID, TCB
 *                          components + PCESVN + CPUSVN, PCE-ID, FMSPC, SGX type)
 *   ak.key                 the quoting enclave's attestation key (P-256)
 * Every name says it is simulated (O="cvmm simulated TDX module",
 * CN "... (cvmm sim-tdx)"), so a verifier never mistakes it for Intel's.
 * Made once in a temporary sibling directory renamed into place (a crash
 * leaves no half store; of two processes one wins, the other loads its
 * keys), files 0600 (common/file.c file_write_mode), directories 0700. A
 * damaged file is an error naming it, never a reason to make new keys.
 * The SGX extensions are built by OpenSSL's ASN1_generate_nconf from a
 * textual description, not by hand. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "tdx/sim_internal.h"

#define STORE_FILE_MAX (1 << 20)
#define SIM_ORG "cvmm simulated TDX module"
#define SGX_EXT_OID "1.2.840.113741.1.13.1"

const uint8_t tdx_sim_comp_svn[16] = { 3, 3, 2, 2, 2, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0 };
const uint8_t tdx_sim_tee_tcb_svn[16] = { 3, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

static const char *const store_files[] = { "root.pem", "root.key", "pck-ca.pem", "pck-ca.key",
					   "pck.pem",  "pck.key",  "ak.key" };

char *tdx_sim_default_dir(void)
{
	return keystore_default_dir("sim-tdx");
}

/* ---- making the chain ---- */

/* The SGX extension's DER, from an ASN1_generate_nconf description. */
static int sgx_ext_der(const uint8_t ppid[16], unsigned char **der)
{
	struct bytebuf t = { 0 };
	char hex[33];
	CONF *conf = NCONF_new(NULL);
	BIO *b = NULL;
	ASN1_TYPE *at = NULL;
	long eline = 0;
	int len = -1;

	hex_encode(ppid, 16, hex);
	bb_printf(&t, "[sgx]\nppid = SEQUENCE:ppid\ntcb = SEQUENCE:tcb\npceid = SEQUENCE:pceid\n"
		      "fmspc = SEQUENCE:fmspc\ntype = SEQUENCE:sgxtype\n"
		      "[ppid]\noid = OID:" SGX_EXT_OID ".1\nv = FORMAT:HEX,OCTETSTRING:%s\n"
		      "[tcb]\noid = OID:" SGX_EXT_OID ".2\nv = SEQUENCE:comps\n[comps]\n", hex);
	for (int i = 1; i <= 18; i++)
		bb_printf(&t, "c%d = SEQUENCE:c%d\n", i, i);
	for (int i = 1; i <= 16; i++)
		bb_printf(&t, "[c%d]\noid = OID:" SGX_EXT_OID ".2.%d\nv = INTEGER:%u\n", i, i, tdx_sim_comp_svn[i - 1]);
	hex_encode(tdx_sim_comp_svn, 16, hex);
	bb_printf(&t, "[c17]\noid = OID:" SGX_EXT_OID ".2.17\nv = INTEGER:%d\n"
		      "[c18]\noid = OID:" SGX_EXT_OID ".2.18\nv = FORMAT:HEX,OCTETSTRING:%s\n"
		      "[pceid]\noid = OID:" SGX_EXT_OID ".3\nv = FORMAT:HEX,OCTETSTRING:" TDX_SIM_PCEID "\n"
		      "[fmspc]\noid = OID:" SGX_EXT_OID ".4\nv = FORMAT:HEX,OCTETSTRING:" TDX_SIM_FMSPC "\n"
		      "[sgxtype]\noid = OID:" SGX_EXT_OID ".5\nv = ENUMERATED:0\n",
		  TDX_SIM_PCESVN, hex);
	if (t.data && conf && (b = BIO_new_mem_buf(t.data, (int)t.len)) && NCONF_load_bio(conf, b, &eline) > 0 &&
	    (at = ASN1_generate_nconf("SEQUENCE:sgx", conf)))
		len = i2d_ASN1_TYPE(at, der);
	ASN1_TYPE_free(at);
	BIO_free(b);
	NCONF_free(conf);
	bb_free(&t);
	return len;
}

static int add_sgx_ext(X509 *x, const uint8_t ppid[16])
{
	unsigned char *der = NULL;
	int len = sgx_ext_der(ppid, &der);
	ASN1_OBJECT *obj = OBJ_txt2obj(SGX_EXT_OID, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	int ok = len > 0 && obj && os && ASN1_OCTET_STRING_set(os, der, len) &&
		 (e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) && X509_add_ext(x, e, -1);

	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	OPENSSL_free(der);
	return ok ? 0 : -1;
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

enum cert_role { ROLE_ROOT, ROLE_CA, ROLE_PCK };

/* One certificate, ecdsa-with-SHA256 as Intel signs its PCK chain. */
static X509 *make_cert(enum cert_role role, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *pub,
		       const uint8_t *ppid)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *serial = BN_new();
	bool ok = x && name && serial && X509_set_version(x, 2) && BN_rand(serial, 63, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
		  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
		  X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
		  X509_time_adj_ex(X509_getm_notAfter(x), 25 * 365, 0, NULL) &&
		  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)SIM_ORG, -1, -1, 0) &&
		  X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8, (const unsigned char *)"cvmm sim-tdx", -1, -1, 0) &&
		  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
		  X509_set_subject_name(x, name) &&
		  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) && X509_set_pubkey(x, pub);

	if (ok && role != ROLE_PCK)
		ok = !add_ext_conf(x, issuer, NID_basic_constraints,
				   role == ROLE_ROOT ? "critical,CA:TRUE" : "critical,CA:TRUE,pathlen:0") &&
		     !add_ext_conf(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
		     !add_ext_conf(x, issuer, NID_subject_key_identifier, "hash");
	if (ok && role == ROLE_PCK)
		ok = !add_ext_conf(x, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
		     !add_ext_conf(x, issuer, NID_key_usage, "critical,digitalSignature,nonRepudiation") &&
		     !add_sgx_ext(x, ppid);
	if (ok && issuer)
		ok = !add_ext_conf(x, issuer, NID_authority_key_identifier, "keyid:always");
	ok = ok && X509_sign(x, issuer_key, EVP_sha256()) > 0;
	BN_free(serial);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int create_store(const char *dir)
{
	EVP_PKEY *root_key = NULL, *ca_key = NULL, *pck_key = NULL, *ak = NULL;
	X509 *root = NULL, *ca = NULL, *pck = NULL;
	uint8_t ppid[16];
	int ret;

	if (RAND_bytes(ppid, sizeof(ppid)) != 1 || !(root_key = EVP_EC_gen("P-256")) ||
	    !(ca_key = EVP_EC_gen("P-256")) || !(pck_key = EVP_EC_gen("P-256")) || !(ak = EVP_EC_gen("P-256")) ||
	    !(root = make_cert(ROLE_ROOT, "Simulated SGX Root CA (cvmm sim-tdx)", NULL, root_key, root_key, NULL)) ||
	    !(ca = make_cert(ROLE_CA, "Simulated SGX PCK Platform CA (cvmm sim-tdx)", root, root_key, ca_key, NULL)) ||
	    !(pck = make_cert(ROLE_PCK, "Simulated SGX PCK Certificate (cvmm sim-tdx)", ca, ca_key, pck_key, ppid))) {
		ret = err_set(EIO, "%s: generating the simulated PCK chain failed", dir);
	} else {
		const struct keystore_entry e[] = {
			{ "root.pem", root, NULL },  { "root.key", NULL, root_key }, { "pck-ca.pem", ca, NULL },
			{ "pck-ca.key", NULL, ca_key }, { "pck.pem", pck, NULL },   { "pck.key", NULL, pck_key },
			{ "ak.key", NULL, ak },
		};
		ret = keystore_create(dir, e, ARRAY_SIZE(e));
	}
	X509_free(root);
	X509_free(ca);
	X509_free(pck);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(pck_key);
	EVP_PKEY_free(ak);
	return ret;
}

/* ---- loading ---- */

static int read_store_file(const char *dir, const char *name, X509 **cert, EVP_PKEY **key)
{
	return keystore_read(dir, name, "sim-tdx", cert, key);
}

static int pem_append(BIO *b, X509 *x)
{
	return PEM_write_bio_X509(b, x) ? 0 : -1;
}

static int load_store(struct tdx_sim *s)
{
	const char *d = s->dir;
	EVP_PKEY *root_key = NULL, *ca_key = NULL;
	uint8_t pub[65];
	size_t publen = 0;
	BIO *b = NULL;
	char *p;
	long n;
	int ret;

	if ((ret = read_store_file(d, "root.pem", &s->root, NULL)) || (ret = read_store_file(d, "root.key", NULL, &root_key)) ||
	    (ret = read_store_file(d, "pck-ca.pem", &s->pck_ca, NULL)) ||
	    (ret = read_store_file(d, "pck-ca.key", NULL, &ca_key)) || (ret = read_store_file(d, "pck.pem", &s->pck, NULL)) ||
	    (ret = read_store_file(d, "pck.key", NULL, &s->pck_key)) || (ret = read_store_file(d, "ak.key", NULL, &s->ak)))
		goto out;
	if (X509_check_private_key(s->root, root_key) != 1 || X509_check_private_key(s->pck_ca, ca_key) != 1 ||
	    X509_check_private_key(s->pck, s->pck_key) != 1) {
		ret = err_set(EINVAL, "%s: a key does not match its certificate (damaged sim-tdx key store)", d);
		goto out;
	}
	if (X509_verify(s->root, root_key) != 1 || X509_verify(s->pck_ca, root_key) != 1 ||
	    X509_verify(s->pck, ca_key) != 1) {
		ret = err_set(EINVAL, "%s: the root -> PCK CA -> PCK signatures do not verify (damaged sim-tdx key store)", d);
		goto out;
	}
	/* the attestation key must be a P-256 key: its point goes into quotes */
	if (EVP_PKEY_get_octet_string_param(s->ak, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &publen) != 1 ||
	    publen != 65 || pub[0] != 0x04 || EVP_PKEY_get_bits(s->ak) != 256) {
		ret = err_set(EINVAL, "%s/ak.key: not an ECDSA P-256 key", d);
		goto out;
	}
	memcpy(s->ak_xy, pub + 1, 64);
	b = BIO_new(BIO_s_mem());
	if (!b || pem_append(b, s->pck) || pem_append(b, s->pck_ca) || pem_append(b, s->root) ||
	    (n = BIO_get_mem_data(b, &p)) <= 0 || !(s->chain_pem = malloc((size_t)n))) {
		ret = err_set(ENOMEM, "sim-tdx: out of memory");
		goto out;
	}
	memcpy(s->chain_pem, p, (size_t)n);
	s->chain_pem_len = (size_t)n;
out:
	ERR_clear_error();
	BIO_free(b);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(ca_key);
	return ret;
}

int tdx_sim_open(const char *dir, struct tdx_sim **out)
{
	struct tdx_sim *s;
	int ret = 0;

	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return err_set(ENOMEM, "sim-tdx: out of memory");
	s->dir = dir ? strdup(dir) : tdx_sim_default_dir();
	if (!s->dir) {
		free(s);
		return dir ? err_set(ENOMEM, "sim-tdx: out of memory") : -ENOENT;
	}
	pthread_mutex_init(&s->lock, NULL);
	if (keystore_absent(s->dir, store_files, ARRAY_SIZE(store_files)))
		ret = create_store(s->dir);
	if (!ret)
		ret = load_store(s);
	if (ret) {
		tdx_sim_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

void tdx_sim_close(struct tdx_sim *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->pck_key);
	EVP_PKEY_free(s->ak);
	X509_free(s->root);
	X509_free(s->pck_ca);
	X509_free(s->pck);
	free(s->chain_pem);
	bb_free(&s->ccel);
	pthread_mutex_destroy(&s->lock);
	free(s->dir);
	free(s);
}

int tdx_sim_root_pem(struct tdx_sim *s, char **pem, size_t *len)
{
	return keystore_cert_pem(s->root, pem, len);
}
