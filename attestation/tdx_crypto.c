/* tdx_crypto.c - the ECDSA P-256 signatures of TDX quotes. Quotes carry keys
 * and signatures as raw big-endian coordinates (x||y, r||s; DCAP Quote Format
 * "ECDSA 256-bit Quote Signature Data Structure"); OpenSSL wants an EVP_PKEY
 * and a DER ECDSA-Sig-Value, so convert and let EVP do the work. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "attestation/tdx_quote.h"
#include "common/common.h"

static EVP_PKEY *key_from_xy(const uint8_t key_xy[64])
{
	uint8_t pub[65];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *key = NULL;

	pub[0] = 0x04; /* SEC 1 uncompressed point */
	memcpy(pub + 1, key_xy, 64);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* A platform's attestation key lives long (it is certified by the QE report
 * once per QE key generation); building the EVP_PKEY is a sizeable part of a
 * verification, so keep the last one. Only the key object is reused, every
 * signature is still verified. */
static struct {
	pthread_mutex_t lock;
	uint8_t xy[64];
	EVP_PKEY *key;
} last_key = { .lock = PTHREAD_MUTEX_INITIALIZER };

static EVP_PKEY *tdx_p256_key_from_xy(const uint8_t key_xy[64])
{
	EVP_PKEY *key = NULL;

	pthread_mutex_lock(&last_key.lock);
	if (last_key.key && !memcmp(last_key.xy, key_xy, 64) && EVP_PKEY_up_ref(last_key.key))
		key = last_key.key;
	pthread_mutex_unlock(&last_key.lock);
	if (key)
		return key;
	key = key_from_xy(key_xy);
	if (key && EVP_PKEY_up_ref(key)) {
		pthread_mutex_lock(&last_key.lock);
		EVP_PKEY_free(last_key.key);
		last_key.key = key;
		memcpy(last_key.xy, key_xy, 64);
		pthread_mutex_unlock(&last_key.lock);
	}
	return key;
}

int tdx_ecdsa_verify_pkey(EVP_PKEY *key, const uint8_t sig_rs[64], const uint8_t *msg, size_t len)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig_rs, 32, NULL), *s = BN_bin2bn(sig_rs + 32, 32, NULL);
	uint8_t der[80], *pd = der;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int n, ret = -ENOMEM;

	if (!sig || !r || !s || !md || !ECDSA_SIG_set0(sig, r, s)) {
		BN_free(r);
		BN_free(s);
		goto out;
	}
	r = s = NULL; /* owned by sig now */
	if (i2d_ECDSA_SIG(sig, NULL) > (int)sizeof(der) || (n = i2d_ECDSA_SIG(sig, &pd)) <= 0)
		goto out;
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) <= 0) {
		ret = 0; /* e.g. not an EC key: cannot be a valid signature */
		goto out;
	}
	ret = EVP_DigestVerify(md, der, (size_t)n, msg, len) == 1;
out:
	EVP_MD_CTX_free(md);
	ECDSA_SIG_free(sig);
	if (ret < 0)
		err_set(ENOMEM, "ECDSA verify: out of memory");
	return ret;
}

int tdx_ecdsa_p256_verify_raw(const uint8_t key_xy[64], const uint8_t sig_rs[64], const uint8_t *msg, size_t len)
{
	EVP_PKEY *key = tdx_p256_key_from_xy(key_xy);
	int ret;

	if (!key)
		return 0; /* not a point on P-256: no signature can verify */
	ret = tdx_ecdsa_verify_pkey(key, sig_rs, msg, len);
	EVP_PKEY_free(key);
	return ret;
}
