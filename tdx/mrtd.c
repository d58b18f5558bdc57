/* MRTD: the TD build-time measurement register.
 *
 * Intel TDX Module Base Architecture Specification, "MRTD": TDH.MEM.PAGE.ADD
 * and TDH.MR.EXTEND each extend the running SHA-384 of MRTD with a 128-byte
 * record; TDH.MR.FINALIZE closes it. Records (tests/fixtures/measure/README.md):
 *   PAGE.ADD:  "MEM.PAGE.ADD" zero-padded to 16 bytes, u64 GPA at 16, zeros to 128
 *   MR.EXTEND: "MR.EXTEND" zero-padded to 16 bytes, u64 GPA of the 256-byte
 *              chunk at 16, zeros to 128, then the 256 chunk bytes
 * So MRTD is one SHA-384 over the concatenated records.
 *
 * Speed: records and data are copied into one stack buffer and hashed in
 * large EVP_DigestUpdate calls (128 is the SHA-384 block size, so the copy
 * is all the overhead); no allocation per record. */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/common.h"
#include "tdx.h"

#define PAGE        4096u
#define CHUNK       256u
#define RECORD      128u
#define STREAM_BUF  (64u * 1024)

struct mrtd_stream {
	EVP_MD_CTX *ctx;
	FILE *trace;
	const char *label;
	size_t n;
	int failed;
	uint8_t buf[STREAM_BUF];
};

static void flush(struct mrtd_stream *s)
{
	if (s->n && !EVP_DigestUpdate(s->ctx, s->buf, s->n))
		s->failed = 1;
	s->n = 0;
}

static uint8_t *reserve(struct mrtd_stream *s, size_t n)
{
	if (s->n + n > sizeof(s->buf))
		flush(s);
	s->n += n;
	return s->buf + s->n - n;
}

static void record(uint8_t *r, const char *name, uint64_t gpa)
{
	memset(r, 0, RECORD);
	memcpy(r, name, strlen(name));
	put_le64(r + 16, gpa);
}

static void page_add(struct mrtd_stream *s, uint64_t gpa)
{
	record(reserve(s, RECORD), "MEM.PAGE.ADD", gpa);
	if (s->trace)
		fprintf(s->trace, "0x%012llx ADD %s\n", (unsigned long long)gpa, s->label);
}

/* The 16 MR.EXTENDs of one page; data NULL = zeros. */
static void page_extend(struct mrtd_stream *s, uint64_t gpa, const uint8_t *data)
{
	for (unsigned c = 0; c < PAGE; c += CHUNK) {
		uint8_t *r = reserve(s, RECORD + CHUNK);

		record(r, "MR.EXTEND", gpa + c);
		if (data)
			memcpy(r + RECORD, data + c, CHUNK);
		else
			memset(r + RECORD, 0, CHUNK);
		if (s->trace)
			fprintf(s->trace, "0x%012llx EXTEND %s\n", (unsigned long long)(gpa + c), s->label);
	}
}

int tdx_mrtd_variant_parse(const char *str, enum tdx_mrtd_variant *v)
{
	if (!strcmp(str, "single-pass"))
		*v = TDX_MRTD_SINGLE_PASS;
	else if (!strcmp(str, "two-pass"))
		*v = TDX_MRTD_TWO_PASS;
	else
		return err_set(EINVAL, "--mrtd-variant: '%s' is not single-pass or two-pass", str);
	return 0;
}

const char *tdx_mrtd_variant_name(enum tdx_mrtd_variant v)
{
	return v == TDX_MRTD_TWO_PASS ? "two-pass" : "single-pass";
}

static int check_step(const struct plan_step *st, size_t i)
{
	switch (st->kind) {
	case PLAN_NORMAL:
	case PLAN_ZERO:
	case PLAN_TD_HOB:
	case PLAN_TEMP_MEM:
	case PLAN_PERM_MEM:
	case PLAN_PAYLOAD:
		break;
	default:
		return err_set(EINVAL, "TDX launch plan: step %zu (%s) has no TDX meaning", i, plan_kind_name(st->kind));
	}
	if (st->gpa % PAGE || st->len % PAGE)
		return err_set(EINVAL, "TDX launch plan: step %zu (%s) %#llx+%#llx is not 4 KiB aligned", i, st->label,
			       (unsigned long long)st->gpa, (unsigned long long)st->len);
	if ((st->flags & PLAN_F_AUG) && (st->flags & PLAN_F_EXTEND))
		return err_set(EINVAL, "TDX launch plan: step %zu (%s) is both PAGE.AUG and MR.EXTEND", i, st->label);
	return 0;
}

int tdx_mrtd(const struct launch_plan *plan, enum tdx_mrtd_variant v, FILE *trace, uint8_t mrtd[TDX_MR_SIZE])
{
	struct mrtd_stream *s;
	unsigned int mdlen = 0;
	int ret = 0;

	for (size_t i = 0; i < plan->n; i++) {
		ret = check_step(&plan->steps[i], i);
		if (ret)
			return ret;
	}
	/* 64 KiB of buffer: too much for a small thread stack, one malloc per MRTD. */
	s = OPENSSL_zalloc(sizeof(*s));
	if (!s)
		return err_set(ENOMEM, "MRTD: out of memory");
	s->trace = trace;
	s->ctx = EVP_MD_CTX_new();
	if (!s->ctx || !EVP_DigestInit_ex(s->ctx, EVP_sha384(), NULL)) {
		ret = err_set(EIO, "MRTD: SHA-384 init failed (OpenSSL)");
		goto out;
	}
	for (size_t i = 0; i < plan->n; i++) {
		const struct plan_step *st = &plan->steps[i];
		bool add = !(st->flags & PLAN_F_AUG), ext = st->flags & PLAN_F_EXTEND;

		s->label = st->label;
		if (v == TDX_MRTD_SINGLE_PASS) {
			for (uint64_t off = 0; off < st->len; off += PAGE) {
				if (add)
					page_add(s, st->gpa + off);
				if (ext)
					page_extend(s, st->gpa + off, st->data ? st->data + off : NULL);
			}
		} else {
			for (uint64_t off = 0; add && off < st->len; off += PAGE)
				page_add(s, st->gpa + off);
			for (uint64_t off = 0; ext && off < st->len; off += PAGE)
				page_extend(s, st->gpa + off, st->data ? st->data + off : NULL);
		}
	}
	flush(s);
	if (s->failed || !EVP_DigestFinal_ex(s->ctx, mrtd, &mdlen) || mdlen != TDX_MR_SIZE)
		ret = err_set(EIO, "MRTD: SHA-384 failed (OpenSSL)");
out:
	EVP_MD_CTX_free(s->ctx);
	OPENSSL_free(s);
	return ret;
}
