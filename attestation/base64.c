/* base64.c - strict base64 for the attestation bundle (base64.h): OpenSSL
 * does the coding, this file checks the text first. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "attestation/base64.h"
#include "common/common.h"

int att_b64_encode(const uint8_t *p, size_t n, char **out)
{
	char *s;

	if (n > INT_MAX / 2)
		return err_set(EFBIG, "base64: %zu bytes is too large", n);
	if (!(s = malloc(4 * ((n + 2) / 3) + 1)))
		return err_set(ENOMEM, "out of memory");
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	*out = s;
	return 0;
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int att_b64_decode(const char *s, size_t len, size_t max, const char *what, uint8_t **out, size_t *out_len)
{
	size_t pad = 0, n;
	uint8_t *buf;
	int got;

	*out = NULL;
	*out_len = 0;
	if (len % 4)
		return err_set(EINVAL, "%s: not base64 (length %zu is not a multiple of 4)", what, len);
	if (len > INT_MAX || len / 4 * 3 > max + 2)
		return err_set(EINVAL, "%s: longer than %zu bytes", what, max);
	while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++)
		if (!b64_char(s[i]))
			return err_set(EINVAL, "%s: not base64 (character %zu)", what, i);
	n = len / 4 * 3 - pad;
	if (n > max)
		return err_set(EINVAL, "%s: longer than %zu bytes", what, max);
	if (!(buf = malloc(len / 4 * 3 + 1)))
		return err_set(ENOMEM, "out of memory");
	got = len ? EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len) : 0;
	if (got < 0 || (size_t)got != len / 4 * 3) {
		free(buf);
		return err_set(EINVAL, "%s: not base64", what);
	}
	*out = buf;
	*out_len = n;
	return 0;
}
