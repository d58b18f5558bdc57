/* endpoint_tls.c - the certificate the attestation endpoint serves: the
 * operator's PEM files, or a fresh ECDSA P-256 key with a self-signed
 * certificate (CN and subjectAltName = the listen host) whose SHA-256
 * fingerprint the operator hands to relying parties (cvmm attest
 * --tls-fingerprint). TLS only protects the transport (docs/attestation.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attestation/endpoint.h"
#include "common/common.h"

#define PEM_MAX (1u << 20)

static int fingerprint(X509 *cert, uint8_t out[32])
{
	unsigned int n = 0;

	if (X509_digest(cert, EVP_sha256(), out, &n) != 1 || n != 32)
		return err_set(EIO, "TLS certificate: cannot compute its SHA-256 fingerprint");
	return 0;
}

static char *bio_text(BIO *bio)
{
	char *p, *s;
	long n = BIO_get_mem_data(bio, &p);

	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	memcpy(s, p, (size_t)n);
	s[n] = 0;
	return s;
}

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	if (!(ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)))
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

int att_ep_tls_self_signed(const char *host, struct att_ep_tls *t)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	uint8_t serial[16], addr[16];
	BIGNUM *bn = NULL;
	char san[300];
	int ret = -EIO;

	memset(t, 0, sizeof(*t));
	if (!key || !cert || !cb || !kb || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (strlen(host) > 255)
		goto fail;
	snprintf(san, sizeof(san), "%s:%s",
		 inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1 ? "IP" : "DNS", host);
	if (!bn || !X509_set_version(cert, 2) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), 365L * 24 * 3600) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_UTF8,
					(const unsigned char *)host, -1, -1, 0) ||
	    !X509_set_issuer_name(cert, X509_get_subject_name(cert)) || !X509_set_pubkey(cert, key) ||
	    !add_ext(cert, NID_subject_alt_name, san) || !add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(cert, NID_ext_key_usage, "serverAuth") || !X509_sign(cert, key, EVP_sha256()))
		goto fail;
	if (!PEM_write_bio_X509(cb, cert) || !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL))
		goto fail;
	t->cert_pem = bio_text(cb);
	t->key_pem = bio_text(kb);
	if (!t->cert_pem || !t->key_pem)
		goto fail;
	if ((ret = fingerprint(cert, t->fingerprint)))
		goto out;
	t->self_signed = true;
	ret = 0;
	goto out;
fail:
	ret = err_set(EIO, "TLS: cannot make a self-signed certificate for '%.64s'", host);
out:
	if (ret)
		att_ep_tls_free(t);
	BN_free(bn);
	BIO_free(cb);
	BIO_free(kb);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ret;
}

int att_ep_tls_load(const char *cert_path, const char *key_path, struct att_ep_tls *t)
{
	uint8_t *c = NULL, *k = NULL;
	size_t clen, klen;
	BIO *bio = NULL;
	X509 *cert = NULL;
	int ret;

	memset(t, 0, sizeof(*t));
	if ((ret = file_read(cert_path, PEM_MAX, &c, &clen)) || (ret = file_read(key_path, PEM_MAX, &k, &klen)))
		goto out;
	if (!(bio = BIO_new_mem_buf(c, (int)clen)) || !(cert = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		ret = err_set(EINVAL, "%s: not a PEM certificate", cert_path);
		goto out;
	}
	if ((ret = fingerprint(cert, t->fingerprint)))
		goto out;
	t->cert_pem = (char *)c; /* file_read NUL-terminates */
	t->key_pem = (char *)k;
	c = k = NULL;
out:
	X509_free(cert);
	BIO_free(bio);
	free(c);
	if (k)
		OPENSSL_cleanse(k, klen);
	free(k);
	return ret;
}

void att_ep_tls_free(struct att_ep_tls *t)
{
	free(t->cert_pem);
	if (t->key_pem)
		OPENSSL_cleanse(t->key_pem, strlen(t->key_pem));
	free(t->key_pem);
	memset(t, 0, sizeof(*t));
}
