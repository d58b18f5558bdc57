/* Folding a launch plan into the digest the AMD secure processor reports.
 *
 * SNP (SEV-SNP ABI spec, SNP_LAUNCH_UPDATE, "PAGE_INFO" structure): for each
 * 4 KiB page, in launch order,
 *   PAGE_INFO = { DIGEST_CUR[48], CONTENTS[48], LENGTH u16 = 0x70,
 *                 PAGE_TYPE u8, IMI_PAGE u8, VMPL3/2/1_PERMS u8 x3, reserved u8,
 *                 GPA u64 }
 *   DIGEST_CUR = SHA-384(PAGE_INFO)
 * CONTENTS is the SHA-384 of the page for NORMAL and VMSA pages, zero for
 * ZERO, UNMEASURED, SECRETS and CPUID pages.
 *
 * Cost: every page is hashed once (unavoidable) and each fold is a 112-byte
 * SHA-384 (two compression blocks). One EVP context serves both, the
 * algorithm is fetched once per call, and the new digest is written straight
 * into the next PAGE_INFO, so the loop does no allocation.
 *
 * SEV / SEV-ES (SEV API spec, LAUNCH_MEASURE): SHA-256 over the bytes passed
 * to LAUNCH_UPDATE_DATA and LAUNCH_UPDATE_VMSA, in order. */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/common.h"
#include "sev.h"

#define PAGE_INFO_LEN 0x70u

/* SNP ABI, table "PAGE_TYPE field encodings". */
enum snp_page_type {
	SNP_PAGE_NORMAL = 1,
	SNP_PAGE_VMSA = 2,
	SNP_PAGE_ZERO = 3,
	SNP_PAGE_UNMEASURED = 4,
	SNP_PAGE_SECRETS = 5,
	SNP_PAGE_CPUID = 6,
};

static int snp_page_type(enum plan_kind k, bool *measured)
{
	*measured = false;
	switch (k) {
	case PLAN_NORMAL:
	case PLAN_KERNEL_HASHES:
		*measured = true;
		return SNP_PAGE_NORMAL;
	case PLAN_VMSA:
		*measured = true;
		return SNP_PAGE_VMSA;
	case PLAN_ZERO: return SNP_PAGE_ZERO;
	case PLAN_UNMEASURED: return SNP_PAGE_UNMEASURED;
	case PLAN_SECRETS: return SNP_PAGE_SECRETS;
	case PLAN_CPUID: return SNP_PAGE_CPUID;
	default: return -1;
	}
}

static int ossl_fail(const char *what)
{
	return err_set(EIO, "%s failed (OpenSSL)", what);
}

int snp_digest_fold(const struct launch_plan *p, size_t from, const uint8_t *seed, uint8_t out[SNP_DIGEST_LEN],
		    sev_trace_fn trace, void *trace_ctx)
{
	static const uint8_t zero_page[SEV_PAGE_SIZE];
	uint8_t info[PAGE_INFO_LEN], last_hash[48];
	const uint8_t *last_page = NULL;
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA384", NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ret = 0;

	if (!md || !ctx) {
		ret = ossl_fail("SHA-384 setup");
		goto out;
	}
	memset(info, 0, sizeof(info));
	if (seed)
		memcpy(info, seed, SNP_DIGEST_LEN);
	put_le16(info + 96, PAGE_INFO_LEN);
	/* info[99] IMI_PAGE = 0, VMPL permissions and reserved = 0 (launch by the
	 * VMM, not by a migration agent). */
	for (size_t i = from; i < p->n; i++) {
		const struct plan_step *s = &p->steps[i];
		bool measured;
		int type = snp_page_type(s->kind, &measured);

		if (type < 0) {
			ret = err_set(EINVAL, "launch plan step %zu (%s): kind %s is not an SNP page type", i, s->label,
				      plan_kind_name(s->kind));
			goto out;
		}
		if (s->len % SEV_PAGE_SIZE || s->gpa % SEV_PAGE_SIZE) {
			ret = err_set(EINVAL, "launch plan step %zu (%s): gpa %#llx length %#llx not page aligned", i,
				      s->label, (unsigned long long)s->gpa, (unsigned long long)s->len);
			goto out;
		}
		info[98] = (uint8_t)type;
		if (!measured)
			memset(info + 48, 0, 48);
		for (uint64_t off = 0; off < s->len; off += SEV_PAGE_SIZE) {
			if (measured) {
				const uint8_t *page = s->data ? s->data + off : zero_page;

				/* APs share one VMSA buffer: hash it once */
				if (page == last_page) {
					memcpy(info + 48, last_hash, 48);
				} else if (!EVP_DigestInit_ex(ctx, md, NULL) ||
					   !EVP_DigestUpdate(ctx, page, SEV_PAGE_SIZE) ||
					   !EVP_DigestFinal_ex(ctx, info + 48, NULL)) {
					ret = ossl_fail("SHA-384");
					goto out;
				} else if (s->kind == PLAN_VMSA) {
					last_page = page;
					memcpy(last_hash, info + 48, 48);
				}
			}
			put_le64(info + 104, s->gpa + off);
			if (!EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, info, PAGE_INFO_LEN) ||
			    !EVP_DigestFinal_ex(ctx, info, NULL)) {
				ret = ossl_fail("SHA-384");
				goto out;
			}
		}
		if (trace)
			trace(trace_ctx, i, s, info, SNP_DIGEST_LEN);
	}
	memcpy(out, info, SNP_DIGEST_LEN);
out:
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return ret;
}

int sev_digest_fold(const struct launch_plan *p, uint8_t out[SEV_DIGEST_LEN], sev_trace_fn trace, void *trace_ctx)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new(), *tmp = NULL;
	uint8_t running[SEV_DIGEST_LEN];
	int ret = 0;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		ret = ossl_fail("SHA-256 setup");
		goto out;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_step *s = &p->steps[i];

		if (s->kind != PLAN_NORMAL && s->kind != PLAN_KERNEL_HASHES && s->kind != PLAN_VMSA) {
			ret = err_set(EINVAL, "launch plan step %zu (%s): kind %s has no SEV measurement", i, s->label,
				      plan_kind_name(s->kind));
			goto out;
		}
		if (!s->data) {
			ret = err_set(EINVAL, "launch plan step %zu (%s): no data", i, s->label);
			goto out;
		}
		if (!EVP_DigestUpdate(ctx, s->data, s->len)) {
			ret = ossl_fail("SHA-256");
			goto out;
		}
		if (trace) {
			/* The running digest: finalize a copy, keep going on ctx. */
			if (!tmp)
				tmp = EVP_MD_CTX_new();
			if (!tmp || !EVP_MD_CTX_copy_ex(tmp, ctx) || !EVP_DigestFinal_ex(tmp, running, NULL)) {
				ret = ossl_fail("SHA-256");
				goto out;
			}
			trace(trace_ctx, i, s, running, SEV_DIGEST_LEN);
		}
	}
	if (!EVP_DigestFinal_ex(ctx, out, NULL))
		ret = ossl_fail("SHA-256");
out:
	EVP_MD_CTX_free(tmp);
	EVP_MD_CTX_free(ctx);
	return ret;
}
