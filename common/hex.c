/* Hex and number parsing for command-line and policy values. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int hex_decode(const char *s, uint8_t *out, size_t max, size_t *got, const char *what)
{
	size_t n;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	n = strlen(s);
	if (n % 2)
		return err_set(EINVAL, "%s: odd number of hex digits (%zu)", what, n);
	if (n / 2 > max)
		return err_set(EINVAL, "%s: %zu bytes of hex, at most %zu allowed", what, n / 2, max);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return err_set(EINVAL, "%s: not a hex digit at position %zu", what, 2 * i + (hi < 0 ? 0 : 1));
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*got = n / 2;
	return 0;
}

int hex_decode_exact(const char *s, uint8_t *out, size_t n, const char *what)
{
	size_t got;
	int ret = hex_decode(s, out, n, &got, what);

	if (ret)
		return ret;
	if (got != n)
		return err_set(EINVAL, "%s: expected %zu bytes (%zu hex digits), got %zu", what, n, 2 * n, got);
	return 0;
}

int parse_u64(const char *s, uint64_t max, uint64_t *out, const char *what)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return err_set(EINVAL, "%s: '%s' is not a number", what, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return err_set(EINVAL, "%s: '%s' is not a number", what, s);
	if (v > max)
		return err_set(ERANGE, "%s: %llu is larger than %llu", what, v, (unsigned long long)max);
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out, const char *what)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-')
		return err_set(EINVAL, "%s: '%s' is not a size", what, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return err_set(EINVAL, "%s: '%s' is not a size", what, s);
	switch (toupper((unsigned char)*end)) {
	case 0: break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return err_set(EINVAL, "%s: '%s' has an unknown unit", what, s);
	}
	if (*end && end[1] && !(toupper((unsigned char)end[1]) == 'I' && end[2] == 'B' && !end[3]) &&
	    !(toupper((unsigned char)end[1]) == 'B' && !end[2]))
		return err_set(EINVAL, "%s: '%s' has an unknown unit", what, s);
	if (shift && v > (UINT64_MAX >> shift))
		return err_set(ERANGE, "%s: '%s' is too large", what, s);
	*out = (uint64_t)v << shift;
	return 0;
}
