/* Growable byte buffer for building outputs before writing them once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static int bb_reserve(struct bytebuf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (n <= b->cap - b->len)
		return 0;
	if (n > SIZE_MAX / 2 - b->len)
		return err_set(ENOMEM, "buffer too large");
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return err_set(ENOMEM, "out of memory");
	b->data = p;
	b->cap = cap;
	return 0;
}

int bb_append(struct bytebuf *b, const void *p, size_t n)
{
	int ret = bb_reserve(b, n + 1);

	if (ret)
		return ret;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int bb_printf(struct bytebuf *b, const char *fmt, ...)
{
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return err_set(EINVAL, "format error");
	ret = bb_reserve(b, (size_t)n + 1);
	if (ret)
		return ret;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void bb_free(struct bytebuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
