/* binding.c - report_data = SHA-512 over the domain string, the relying
 * party's nonce and the agent's public key, each length-prefixed (proto.h). */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "attestation/proto/proto.h"

static const char BIND_DOMAIN[] = "cvmm-attest-v1"; /* hashed with its NUL */

int att_bind_report_data(const uint8_t *nonce, size_t nonce_len, const uint8_t *pubkey, size_t pubkey_len,
			 uint8_t out[64])
{
	uint8_t len16[2];
	unsigned int n = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if (!nonce || nonce_len < ATT_NONCE_MIN || nonce_len > ATT_NONCE_MAX)
		return err_set(EINVAL, "binding: nonce is %zu bytes, expected %u..%u", nonce_len, ATT_NONCE_MIN,
			       ATT_NONCE_MAX);
	if (!pubkey || pubkey_len != ATT_PUBKEY_LEN)
		return err_set(EINVAL, "binding: public key is %zu bytes, expected %u", pubkey_len, ATT_PUBKEY_LEN);
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return err_set(ENOMEM, "binding: out of memory");
	ok = EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) && EVP_DigestUpdate(ctx, BIND_DOMAIN, sizeof(BIND_DOMAIN));
	put_le16(len16, (uint16_t)nonce_len);
	ok = ok && EVP_DigestUpdate(ctx, len16, 2) && EVP_DigestUpdate(ctx, nonce, nonce_len);
	put_le16(len16, (uint16_t)pubkey_len);
	ok = ok && EVP_DigestUpdate(ctx, len16, 2) && EVP_DigestUpdate(ctx, pubkey, pubkey_len);
	ok = ok && EVP_DigestFinal_ex(ctx, out, &n) && n == 64;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : err_set(EIO, "binding: SHA-512 failed");
}
