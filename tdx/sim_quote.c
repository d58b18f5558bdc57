/* sim_quote.c - the sim-tdx TDX module and quoting enclave (tdx.h
 * "sim-tdx"): the TD's measurement registers (MRTD folded from the launch
 * plan, MRCONFIGID, RTMR0..3 with their CCEL event log) and TD quotes v4
 * in Intel's format (TDX DCAP Quoting Library API, appendix A "Quote
 * Format"; the layout attestation/tdx_quote.c parses):
 *   header (48) | TD quote body (584) | u32 signature data length |
 *   ECDSA signature (64, by the attestation key over header||body) |
 *   attestation key (64) | certification data type 6: QE report (384, an
 *   SGX REPORTBODY whose REPORTDATA = SHA-256(attestation key || QE auth
 *   data) || 0^32) | QE report signature (64, by the PCK key) | QE auth data
 *   (u16 size, 32 bytes) | certification data type 5: the PEM PCK chain.
 * RTMR extension is TDG.MR.RTMR.EXTEND's arithmetic (TDX module ABI):
 *   RTMR[i] = SHA-384(RTMR[i] || digest). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "tdx/sim_internal.h"

#define CCEL_EV_NO_ACTION 0x3u
#define CCEL_EV_IPL       0xdu
#define TPM_ALG_SHA384    0x000cu
#define CCEL_EVENT_MAX    (64u << 10)
#define CCEL_LOG_MAX      (128u << 10) /* = ATT_EVENT_LOG_MAX: it travels in one agent TLV */

static const uint8_t qe_vendor_intel[16] = { 0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
					     0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07 };

int tdx_sim_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t rs[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[80];
	const unsigned char *p = der;
	size_t dlen = sizeof(der);
	ECDSA_SIG *sig = NULL;
	int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestSign(md, der, &dlen, msg, len) == 1 && (sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) &&
		 BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32) == 32 && BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32) == 32;

	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return ok ? 0 : err_set(EIO, "sim-tdx: ECDSA P-256 signing failed (OpenSSL)");
}

int tdx_sim_mrtd(const struct launch_plan *plan, FILE *trace, uint8_t mrtd[TDX_MR_SIZE])
{
	/* KVM_TDX_INIT_MEM_REGION with KVM_TDX_MEASURE_MEMORY_REGION: every
	 * page of the initial image is PAGE.ADDed and then MR.EXTENDed, page
	 * by page (single pass). The direct-boot plan has no other kind. */
	struct launch_plan p = *plan;
	int ret;

	p.steps = malloc(plan->n * sizeof(*p.steps) + 1);
	if (!p.steps)
		return err_set(ENOMEM, "sim-tdx: out of memory");
	for (size_t i = 0; i < plan->n; i++) {
		p.steps[i] = plan->steps[i];
		p.steps[i].flags = (p.steps[i].flags & ~PLAN_F_AUG) | PLAN_F_EXTEND;
	}
	ret = tdx_mrtd(&p, TDX_MRTD_SINGLE_PASS, trace, mrtd);
	free(p.steps);
	return ret;
}

/* The CCEL's first record (TCG PFP 1.05 10.4.5.1): a SHA-1-format
 * EV_NO_ACTION event holding TCG_EfiSpecIdEvent "Spec ID Event03" with one
 * algorithm, SHA-384. */
static int ccel_start(struct bytebuf *b)
{
	uint8_t ev[32 + 8 + 1 + 4 + 4], hdr[32] = { 0 };
	size_t n = 0;

	memset(ev, 0, sizeof(ev));
	memcpy(ev, "Spec ID Event03", 16);
	n = 16;
	put_le32(ev + n, 0);        /* platformClass: client */
	n += 4;
	ev[n++] = 0;                /* specVersionMinor */
	ev[n++] = 2;                /* specVersionMajor */
	ev[n++] = 0;                /* specErrata */
	ev[n++] = 2;                /* uintnSize: UINT64 */
	put_le32(ev + n, 1);        /* numberOfAlgorithms */
	n += 4;
	put_le16(ev + n, TPM_ALG_SHA384);
	put_le16(ev + n + 2, 48);
	n += 4;
	ev[n++] = 0;                /* vendorInfoSize */
	put_le32(hdr, 0);           /* pcrIndex */
	put_le32(hdr + 4, CCEL_EV_NO_ACTION);
	put_le32(hdr + 28, (uint32_t)n); /* after the 20-byte SHA-1 digest */
	b->len = 0;
	return bb_append(b, hdr, 32) || bb_append(b, ev, n) ? err_set(ENOMEM, "sim-tdx: out of memory") : 0;
}

int tdx_sim_launch(struct tdx_sim *s, const uint8_t mrtd[TDX_MR_SIZE], const uint8_t mrconfigid[TDX_MR_SIZE])
{
	int ret;

	pthread_mutex_lock(&s->lock);
	memcpy(s->mrtd, mrtd, TDX_MR_SIZE);
	memcpy(s->mrconfigid, mrconfigid, TDX_MR_SIZE);
	memset(s->rtmr, 0, sizeof(s->rtmr));
	ret = ccel_start(&s->ccel);
	s->launched = !ret;
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int tdx_rtmr_fold(const uint8_t old[TDX_MR_SIZE], const uint8_t digest[TDX_MR_SIZE], uint8_t out[TDX_MR_SIZE])
{
	uint8_t buf[2 * TDX_MR_SIZE];

	memcpy(buf, old, TDX_MR_SIZE);
	memcpy(buf + TDX_MR_SIZE, digest, TDX_MR_SIZE);
	if (!EVP_Digest(buf, sizeof(buf), out, NULL, EVP_sha384(), NULL))
		return err_set(EIO, "RTMR: SHA-384 failed (OpenSSL)");
	return 0;
}

int tdx_sim_rtmr_extend(struct tdx_sim *s, unsigned index, const uint8_t digest[TDX_MR_SIZE], const uint8_t *event,
			size_t event_len, uint8_t out[TDX_MR_SIZE])
{
	uint8_t rec[4 + 4 + 4 + 2 + TDX_MR_SIZE + 4];
	int ret;

	if (index > 3)
		return err_set(EINVAL, "sim-tdx: RTMR index %u is not 0..3", index);
	if (event_len > CCEL_EVENT_MAX)
		return err_set(EINVAL, "sim-tdx: event of %zu bytes is over the limit %u", event_len, CCEL_EVENT_MAX);
	pthread_mutex_lock(&s->lock);
	if (!s->launched) {
		ret = err_set(ENODATA, "sim-tdx: no TD launched yet");
		goto out;
	}
	if (s->ccel.len + sizeof(rec) + event_len > CCEL_LOG_MAX) {
		ret = err_set(ENOSPC, "sim-tdx: the event log is full (%u bytes)", CCEL_LOG_MAX);
		goto out;
	}
	if ((ret = tdx_rtmr_fold(s->rtmr[index], digest, s->rtmr[index])))
		goto out;
	/* TCG_PCR_EVENT2 (PFP 10.2.2) with the CC MR index (RTMR i = i + 1) */
	put_le32(rec, index + 1);
	put_le32(rec + 4, CCEL_EV_IPL);
	put_le32(rec + 8, 1);
	put_le16(rec + 12, TPM_ALG_SHA384);
	memcpy(rec + 14, digest, TDX_MR_SIZE);
	put_le32(rec + 14 + TDX_MR_SIZE, (uint32_t)event_len);
	if (bb_append(&s->ccel, rec, sizeof(rec)) || (event_len && bb_append(&s->ccel, event, event_len)))
		ret = err_set(ENOMEM, "sim-tdx: out of memory");
	if (out)
		memcpy(out, s->rtmr[index], TDX_MR_SIZE);
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* The quoting enclave's SGX REPORTBODY (Intel SDM vol. 3D 38.15). */
static int qe_report(const struct tdx_sim *s, const uint8_t *auth, size_t auth_len, uint8_t r[384])
{
	static const char mrenclave_id[] = "cvmm sim-tdx quoting enclave";
	static const char mrsigner_id[] = "cvmm sim-tdx";
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	memset(r, 0, 384);
	memcpy(r + 0, tdx_sim_comp_svn, 16); /* CPUSVN */
	r[48] = 0x11;                        /* ATTRIBUTES: INIT | PROVISIONKEY */
	put_le16(r + 256, TDX_SIM_QE_ISVPRODID);
	put_le16(r + 258, TDX_SIM_QE_ISVSVN);
	ok = md && EVP_Digest(mrenclave_id, sizeof(mrenclave_id) - 1, r + 64, NULL, EVP_sha256(), NULL) &&
	     EVP_Digest(mrsigner_id, sizeof(mrsigner_id) - 1, r + 128, NULL, EVP_sha256(), NULL) &&
	     EVP_DigestInit_ex(md, EVP_sha256(), NULL) && EVP_DigestUpdate(md, s->ak_xy, 64) &&
	     EVP_DigestUpdate(md, auth, auth_len) && EVP_DigestFinal_ex(md, r + 320, NULL);
	EVP_MD_CTX_free(md);
	return ok ? 0 : err_set(EIO, "sim-tdx: SHA-256 failed (OpenSSL)");
}

int tdx_sim_quote(struct tdx_sim *s, const uint8_t report_data[64], struct bytebuf *quote, struct bytebuf *ccel)
{
	uint8_t hb[48 + 584], sig[64], qer[384], qesig[64], auth[TDX_SIM_QE_AUTH_LEN], u[6];
	uint8_t *body = hb + 48;
	size_t inner, outer;
	int ret;

	for (unsigned i = 0; i < sizeof(auth); i++)
		auth[i] = (uint8_t)i; /* as Intel's QE: bytes 0..31 */
	memset(hb, 0, sizeof(hb));
	put_le16(hb, 4);
	put_le16(hb + 2, 2);   /* ECDSA-256-with-P-256 */
	put_le32(hb + 4, 0x81); /* TDX */
	put_le16(hb + 8, TDX_SIM_QE_ISVSVN);
	put_le16(hb + 10, TDX_SIM_PCESVN);
	memcpy(hb + 12, qe_vendor_intel, 16);
	pthread_mutex_lock(&s->lock);
	if (!s->launched) {
		pthread_mutex_unlock(&s->lock);
		return err_set(ENODATA, "sim-tdx: no TD launched yet");
	}
	memcpy(body + 0, tdx_sim_tee_tcb_svn, 16);
	put_le64(body + 128, 0xe7);   /* XFAM: x87, SSE, AVX, AVX-512 state */
	memcpy(body + 136, s->mrtd, TDX_MR_SIZE);
	memcpy(body + 184, s->mrconfigid, TDX_MR_SIZE);
	for (int i = 0; i < 4; i++)
		memcpy(body + 328 + 48 * i, s->rtmr[i], TDX_MR_SIZE);
	memcpy(body + 520, report_data, 64);
	ret = ccel && bb_append(ccel, s->ccel.data, s->ccel.len) ? err_set(ENOMEM, "sim-tdx: out of memory") : 0;
	pthread_mutex_unlock(&s->lock);
	if (ret || (ret = tdx_sim_sign(s->ak, hb, sizeof(hb), sig)) || (ret = qe_report(s, auth, sizeof(auth), qer)) ||
	    (ret = tdx_sim_sign(s->pck_key, qer, sizeof(qer), qesig)))
		return ret;
	inner = 384 + 64 + 2 + sizeof(auth) + 2 + 4 + s->chain_pem_len;
	outer = 64 + 64 + 2 + 4 + inner;
	put_le32(u, (uint32_t)outer);
	if (bb_append(quote, hb, sizeof(hb)) || bb_append(quote, u, 4) || bb_append(quote, sig, 64) ||
	    bb_append(quote, s->ak_xy, 64))
		return err_set(ENOMEM, "sim-tdx: out of memory");
	put_le16(u, 6);
	put_le32(u + 2, (uint32_t)inner);
	if (bb_append(quote, u, 6) || bb_append(quote, qer, 384) || bb_append(quote, qesig, 64))
		return err_set(ENOMEM, "sim-tdx: out of memory");
	put_le16(u, sizeof(auth));
	if (bb_append(quote, u, 2) || bb_append(quote, auth, sizeof(auth)))
		return err_set(ENOMEM, "sim-tdx: out of memory");
	put_le16(u, 5);
	put_le32(u + 2, (uint32_t)s->chain_pem_len);
	if (bb_append(quote, u, 6) || bb_append(quote, s->chain_pem, s->chain_pem_len))
		return err_set(ENOMEM, "sim-tdx: out of memory");
	return 0;
}

int tdx_sim_rtmrs(struct tdx_sim *s, uint8_t out[4][TDX_MR_SIZE])
{
	pthread_mutex_lock(&s->lock);
	memcpy(out, s->rtmr, sizeof(s->rtmr));
	pthread_mutex_unlock(&s->lock);
	return 0;
}
