/* Bounds-checked reads over untrusted buffers (design.md: no casting raw
 * input to packed structs). */
#include <errno.h>
#include <string.h>

#include "common.h"

void rd_init(struct reader *r, const void *p, size_t len, const char *what)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->what = what;
	r->failed = false;
}

int rd_ptr(struct reader *r, const char *field, size_t n, const uint8_t **out)
{
	if (r->failed)
		return -EINVAL;
	if (!range_ok(r->off, n, r->len)) {
		r->failed = true;
		return err_set(EINVAL, "%s: %s at offset %zu needs %zu bytes, only %zu left (truncated)",
			       r->what, field, r->off, n, r->len - (r->off <= r->len ? r->off : r->len));
	}
	*out = r->p + r->off;
	r->off += n;
	return 0;
}

int rd_bytes(struct reader *r, const char *field, void *out, size_t n)
{
	const uint8_t *p = NULL;
	int ret = rd_ptr(r, field, n, &p);

	if (!ret && n)
		memcpy(out, p, n);
	return ret;
}

int rd_skip(struct reader *r, const char *field, size_t n)
{
	const uint8_t *p = NULL;

	return rd_ptr(r, field, n, &p);
}

int rd_seek(struct reader *r, const char *field, size_t off)
{
	if (r->failed)
		return -EINVAL;
	if (off > r->len) {
		r->failed = true;
		return err_set(EINVAL, "%s: %s offset %zu is beyond the end (%zu bytes)", r->what, field, off, r->len);
	}
	r->off = off;
	return 0;
}

int rd_u8(struct reader *r, const char *field, uint8_t *v)
{
	return rd_bytes(r, field, v, 1);
}

int rd_u16(struct reader *r, const char *field, uint16_t *v)
{
	const uint8_t *p = NULL;
	int ret = rd_ptr(r, field, 2, &p);

	if (!ret)
		*v = le16(p);
	return ret;
}

int rd_u32(struct reader *r, const char *field, uint32_t *v)
{
	const uint8_t *p = NULL;
	int ret = rd_ptr(r, field, 4, &p);

	if (!ret)
		*v = le32(p);
	return ret;
}

int rd_u64(struct reader *r, const char *field, uint64_t *v)
{
	const uint8_t *p = NULL;
	int ret = rd_ptr(r, field, 8, &p);

	if (!ret)
		*v = le64(p);
	return ret;
}
