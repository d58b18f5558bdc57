/* wrap.c - secret release to the attested agent (proto.h): X25519 between
 * the sender's fresh key and the agent's key, HKDF-SHA256 (salt = nonce,
 * info = "cvmm-secret-v1" || agent pub || eph pub || name) for a 32-byte
 * AES-256 key and a 12-byte GCM IV, AES-256-GCM with AAD = nonce || name.
 * The info string is the 14 ASCII bytes without a NUL. */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "attestation/proto/proto.h"

#define GCM_TAG 16
#define KDF_INFO "cvmm-secret-v1"

bool att_secret_name_ok(const uint8_t *name, size_t len)
{
	if (!name || !len || len > ATT_SECRET_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

int att_x25519_keygen(uint8_t priv[32], uint8_t pub[ATT_PUBKEY_LEN])
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	size_t pl = 32, ql = ATT_PUBKEY_LEN;
	int ok;

	if (!k)
		return err_set(EIO, "X25519 key generation failed");
	ok = EVP_PKEY_get_raw_private_key(k, priv, &pl) && pl == 32 && EVP_PKEY_get_raw_public_key(k, pub, &ql) &&
	     ql == ATT_PUBKEY_LEN;
	EVP_PKEY_free(k);
	return ok ? 0 : err_set(EIO, "X25519 key generation failed");
}

/* shared = X25519(priv, peer); then key (32) || iv (12) from HKDF. -EBADMSG
 * when the peer key gives no usable shared secret (a low-order point). */
static int derive(EVP_PKEY *priv, const uint8_t peer_pub[ATT_PUBKEY_LEN], const uint8_t agent_pub[ATT_PUBKEY_LEN],
		  const uint8_t eph_pub[ATT_PUBKEY_LEN], const uint8_t *nonce, size_t nonce_len, const char *name,
		  uint8_t okm[44])
{
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, ATT_PUBKEY_LEN);
	EVP_PKEY_CTX *dctx = NULL;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	uint8_t shared[32], info[sizeof(KDF_INFO) - 1 + 2 * ATT_PUBKEY_LEN + ATT_SECRET_NAME_MAX];
	size_t sl = sizeof(shared), nl = strlen(name), il = 0;
	OSSL_PARAM params[5];
	int ret = 0;

	if (!peer) {
		ret = err_set(EBADMSG, "secret: bad X25519 public key");
		goto out;
	}
	dctx = EVP_PKEY_CTX_new(priv, NULL);
	if (!dctx || EVP_PKEY_derive_init(dctx) <= 0 || EVP_PKEY_derive_set_peer(dctx, peer) <= 0 ||
	    EVP_PKEY_derive(dctx, shared, &sl) <= 0 || sl != sizeof(shared)) {
		ret = err_set(EBADMSG, "secret: X25519 with the sender's key failed (low-order point?)");
		goto out;
	}
	memcpy(info, KDF_INFO, sizeof(KDF_INFO) - 1);
	il = sizeof(KDF_INFO) - 1;
	memcpy(info + il, agent_pub, ATT_PUBKEY_LEN);
	il += ATT_PUBKEY_LEN;
	memcpy(info + il, eph_pub, ATT_PUBKEY_LEN);
	il += ATT_PUBKEY_LEN;
	memcpy(info + il, name, nl);
	il += nl;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, shared, sl);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)nonce, nonce_len);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, il);
	params[4] = OSSL_PARAM_construct_end();
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	if (!kctx || EVP_KDF_derive(kctx, okm, 44, params) <= 0)
		ret = err_set(EIO, "secret: HKDF-SHA256 failed");
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_free(peer);
	return ret;
}

static int check_args(const uint8_t *nonce, size_t nonce_len, const char *name)
{
	if (!nonce || nonce_len < ATT_NONCE_MIN || nonce_len > ATT_NONCE_MAX)
		return err_set(EINVAL, "secret: nonce is %zu bytes, expected %u..%u", nonce_len, ATT_NONCE_MIN,
			       ATT_NONCE_MAX);
	if (!name || !att_secret_name_ok((const uint8_t *)name, strlen(name)))
		return err_set(EINVAL, "secret: name '%s' is not a plain file name (1..%u of [A-Za-z0-9._-], no "
				       "leading '.')",
			       name ? name : "", ATT_SECRET_NAME_MAX);
	return 0;
}

/* AES-256-GCM one shot; enc: in -> out || tag; !enc: in (|| tag) -> out. */
static int gcm(bool enc, const uint8_t okm[44], const uint8_t *nonce, size_t nonce_len, const char *name,
	       const uint8_t *in, size_t in_len, uint8_t *out, uint8_t tag[GCM_TAG])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) &&
	     EVP_CipherInit_ex(c, NULL, NULL, okm, okm + 32, enc) &&
	     EVP_CipherUpdate(c, NULL, &n, nonce, (int)nonce_len) &&
	     EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)name, (int)strlen(name));
	if (ok && in_len)
		ok = EVP_CipherUpdate(c, out, &n, in, (int)in_len) && (size_t)n == in_len;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag);
	ok = ok && EVP_CipherFinal_ex(c, out + in_len, &n) > 0;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag);
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

int att_secret_wrap(const uint8_t agent_pub[ATT_PUBKEY_LEN], const uint8_t *nonce, size_t nonce_len,
		    const char *name, const uint8_t *secret, size_t secret_len, struct att_wrapped *out)
{
	uint8_t eph_priv[32], okm[44];
	EVP_PKEY *eph = NULL;
	size_t start;
	int ret;

	if ((ret = check_args(nonce, nonce_len, name)))
		return ret;
	if (secret_len > ATT_SECRET_MAX)
		return err_set(EMSGSIZE, "secret: %zu bytes, at most %u", secret_len, ATT_SECRET_MAX);
	if ((ret = att_x25519_keygen(eph_priv, out->eph_pubkey)))
		return ret;
	eph = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, eph_priv, sizeof(eph_priv));
	OPENSSL_cleanse(eph_priv, sizeof(eph_priv));
	if (!eph)
		return err_set(EIO, "secret: X25519 key import failed");
	ret = derive(eph, agent_pub, agent_pub, out->eph_pubkey, nonce, nonce_len, name, okm);
	EVP_PKEY_free(eph);
	if (ret)
		return ret == -EBADMSG ? err_set(EINVAL, "secret: the agent's public key is not usable") : ret;
	/* Room for ciphertext and tag, then encrypt in place. */
	start = out->ciphertext.len;
	if (bb_append(&out->ciphertext, NULL, 0) || bb_append(&out->ciphertext, secret, secret_len) ||
	    bb_append(&out->ciphertext, okm, GCM_TAG)) { /* placeholder bytes, overwritten by the tag */
		OPENSSL_cleanse(okm, sizeof(okm));
		return err_set(ENOMEM, "secret: out of memory");
	}
	ret = gcm(true, okm, nonce, nonce_len, name, out->ciphertext.data + start, secret_len,
		  out->ciphertext.data + start, out->ciphertext.data + start + secret_len);
	OPENSSL_cleanse(okm, sizeof(okm));
	if (ret) {
		out->ciphertext.len = start;
		return err_set(EIO, "secret: AES-256-GCM failed");
	}
	return 0;
}

int att_secret_unwrap(const uint8_t agent_priv[32], const uint8_t *nonce, size_t nonce_len, const char *name,
		      const uint8_t eph_pub[ATT_PUBKEY_LEN], const uint8_t *ct, size_t ct_len, struct bytebuf *secret)
{
	uint8_t agent_pub[ATT_PUBKEY_LEN], okm[44], tag[GCM_TAG];
	size_t pl = sizeof(agent_pub), n, start = secret->len;
	EVP_PKEY *me;
	int ret;

	if ((ret = check_args(nonce, nonce_len, name)))
		return ret;
	if (ct_len < GCM_TAG || ct_len > ATT_SECRET_MAX + GCM_TAG)
		return err_set(EBADMSG, "secret: ciphertext of %zu bytes (expected %u..%u with the tag)", ct_len,
			       GCM_TAG, ATT_SECRET_MAX + GCM_TAG);
	n = ct_len - GCM_TAG;
	me = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, agent_priv, 32);
	if (!me || !EVP_PKEY_get_raw_public_key(me, agent_pub, &pl)) {
		EVP_PKEY_free(me);
		return err_set(EIO, "secret: X25519 key import failed");
	}
	ret = derive(me, eph_pub, agent_pub, eph_pub, nonce, nonce_len, name, okm);
	EVP_PKEY_free(me);
	if (ret)
		return ret;
	memcpy(tag, ct + n, GCM_TAG);
	if (bb_append(secret, ct, n)) {
		OPENSSL_cleanse(okm, sizeof(okm));
		return err_set(ENOMEM, "secret: out of memory");
	}
	ret = gcm(false, okm, nonce, nonce_len, name, secret->data + start, n, secret->data + start, tag);
	OPENSSL_cleanse(okm, sizeof(okm));
	if (ret) {
		OPENSSL_cleanse(secret->data + start, n);
		secret->len = start;
		return err_set(EBADMSG, "secret does not decrypt: not wrapped to this agent's key, or its nonce, name "
					"or ciphertext was changed");
	}
	return 0;
}
