/* evidence_check.c - event logs checked against hardware evidence, for
 * `cvmm verify`: a CCEL against the RTMRs of a TDX quote, and a host TPM
 * quote (TPMS_ATTEST, TPM 2.0 Part 2 10.12.12) against the AK, the nonce and
 * cvmm's launch log. Return 0 = match, 1 = evidence does not match (detail
 * says what), negative errno = input unusable (err_msg()). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/common.h"
#include "mb_internal.h"
#include "mb_tss.h"

static int mismatch(char *detail, size_t dlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int mismatch(char *detail, size_t dlen, const char *fmt, ...)
{
	va_list ap;

	if (detail && dlen) {
		va_start(ap, fmt);
		vsnprintf(detail, dlen, fmt, ap);
		va_end(ap);
	}
	return 1;
}

int mb_ccel_check_rtmrs(const uint8_t *log, size_t len, const uint8_t rtmr[4][48], char *detail, size_t dlen)
{
	struct mb_log l;
	struct mb_replay *rp = malloc(sizeof(*rp));
	int ret;

	if (!rp)
		return err_set(ENOMEM, "out of memory");
	if ((ret = mb_log_parse(log, len, "CCEL", MB_LOG_CCEL, &l)))
		goto out;
	ret = mb_replay(&l, rp);
	mb_log_free(&l);
	if (ret)
		goto out;
	if (!mb_replay_reg(rp, MB_ALG_SHA384, 0)) {
		ret = err_set(EINVAL, "CCEL: the log has no SHA-384 bank");
		goto out;
	}
	for (unsigned i = 0; i < MB_RTMRS; i++) {
		const uint8_t *v = mb_replay_reg(rp, MB_ALG_SHA384, i);
		char a[97], b[97];

		if (!memcmp(v, rtmr[i], 48))
			continue;
		hex_encode(v, 48, a);
		hex_encode(rtmr[i], 48, b);
		ret = mismatch(detail, dlen, "rtmr%u: event log replays to %s, quote has %s", i, a, b);
		goto out;
	}
	mismatch(detail, dlen, "RTMR0..3 equal the replayed CCEL (%zu events)", rp->nevents);
	ret = 0;
out:
	free(rp);
	return ret;
}

static const EVP_MD *tpm_md(TPMI_ALG_HASH alg)
{
	switch (alg) {
	case TPM2_ALG_SHA1: return EVP_sha1();
	case TPM2_ALG_SHA256: return EVP_sha256();
	case TPM2_ALG_SHA384: return EVP_sha384();
	case TPM2_ALG_SHA512: return EVP_sha512();
	}
	return NULL;
}

/* Check TPMT_SIGNATURE over the TPMS_ATTEST bytes with the AK (TPM 2.0
 * Part 1 section 11.4.11 / Part 3 18.4: the signature is over the digest of
 * the attestation structure). 0 = good, 1 = bad, <0 = unusable input. */
static int check_signature(const TPMT_SIGNATURE *sig, const uint8_t *msg, size_t len, const char *ak_path)
{
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	ECDSA_SIG *esig = NULL;
	uint8_t *der = NULL, *pem = NULL;
	const uint8_t *s;
	size_t pem_len, slen = 0;
	const EVP_MD *md;
	int ret, dlen;
	BIO *bio;

	if (!mctx)
		return err_set(ENOMEM, "out of memory");
	if ((ret = file_read(ak_path, 1 << 16, &pem, &pem_len)))
		goto out;
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (!pkey) {
		ret = err_set(EINVAL, "%s: not a PEM public key", ak_path);
		goto out;
	}
	switch (sig->sigAlg) {
	case TPM2_ALG_ECDSA:
		md = tpm_md(sig->signature.ecdsa.hash);
		esig = ECDSA_SIG_new();
		if (!md || !esig || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
		    !ECDSA_SIG_set0(esig, BN_bin2bn(sig->signature.ecdsa.signatureR.buffer,
						    sig->signature.ecdsa.signatureR.size, NULL),
				    BN_bin2bn(sig->signature.ecdsa.signatureS.buffer,
					      sig->signature.ecdsa.signatureS.size, NULL))) {
			ret = 1;
			goto out;
		}
		if ((dlen = i2d_ECDSA_SIG(esig, &der)) <= 0) {
			ret = 1;
			goto out;
		}
		s = der, slen = (size_t)dlen;
		break;
	case TPM2_ALG_RSASSA:
	case TPM2_ALG_RSAPSS:
		md = tpm_md(sig->signature.rsassa.hash);
		if (!md || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
			ret = 1;
			goto out;
		}
		s = sig->signature.rsassa.sig.buffer, slen = sig->signature.rsassa.sig.size;
		break;
	default:
		ret = 1;
		goto out;
	}
	if (EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pkey) != 1) {
		ret = 1;
		goto out;
	}
	if (sig->sigAlg == TPM2_ALG_RSAPSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1)) {
		ret = 1;
		goto out;
	}
	ret = EVP_DigestVerify(mctx, s, slen, msg, len) == 1 ? 0 : 1;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(esig);
	EVP_PKEY_free(pkey);
	EVP_MD_CTX_free(mctx);
	free(pem);
	return ret;
}

/* The quoted PCR digest (Part 3 18.4.1): hash, with the signing scheme's
 * algorithm, of the selected PCR values in selection order, PCRs ascending. */
static int check_pcrs(const TPMS_QUOTE_INFO *qi, TPMI_ALG_HASH halg, const struct mb_replay *rp, char *detail,
		      size_t dlen)
{
	const EVP_MD *md = tpm_md(halg);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t dg[EVP_MAX_MD_SIZE];
	uint32_t covered = 0;
	unsigned int n = 0;
	int ret = 0;

	if (!ctx || !md || !EVP_DigestInit_ex(ctx, md, NULL)) {
		EVP_MD_CTX_free(ctx);
		return mismatch(detail, dlen, "quote: unsupported PCR digest algorithm 0x%04x", halg);
	}
	if (qi->pcrSelect.count > TPM2_NUM_PCR_BANKS) {
		EVP_MD_CTX_free(ctx);
		return mismatch(detail, dlen, "quote: %u PCR selections", qi->pcrSelect.count);
	}
	for (uint32_t s = 0; s < qi->pcrSelect.count && !ret; s++) {
		const TPMS_PCR_SELECTION *ps = &qi->pcrSelect.pcrSelections[s];

		if (ps->sizeofSelect > sizeof(ps->pcrSelect)) {
			ret = mismatch(detail, dlen, "quote: PCR selection of %u bytes", ps->sizeofSelect);
			break;
		}

		for (unsigned p = 0; p < 8u * ps->sizeofSelect && !ret; p++) {
			const uint8_t *v;

			if (!(ps->pcrSelect[p / 8] & (1u << (p % 8))))
				continue;
			v = mb_replay_reg(rp, ps->hash, p);
			if (!v) {
				ret = mismatch(detail, dlen, "quote selects pcr%u in the %s bank, which the event log %s", p,
					       mb_alg_name(ps->hash) ? mb_alg_name(ps->hash) : "unknown",
					       p < MB_PCRS ? "does not record" : "cannot cover");
				break;
			}
			covered |= 1u << p;
			EVP_DigestUpdate(ctx, v, mb_alg_size(ps->hash));
		}
	}
	if (!ret && EVP_DigestFinal_ex(ctx, dg, &n) != 1)
		ret = err_set(EIO, "quote: digest failed");
	EVP_MD_CTX_free(ctx);
	if (ret)
		return ret;
	if (n != qi->pcrDigest.size || memcmp(dg, qi->pcrDigest.buffer, n))
		return mismatch(detail, dlen, "quote: PCR digest does not match the PCR values replayed from the event "
					      "log (the log does not explain the quoted PCRs)");
	for (unsigned p = 0; p < MB_PCRS; p++)
		if ((rp->touched & (1u << p)) && !(covered & (1u << p)))
			return mismatch(detail, dlen, "event log extends pcr%u, which the quote does not cover", p);
	return 0;
}

/* cvmm launch events carry their own data: the SHA-256 digest must be the
 * hash of the event data, else the data was changed after extension. */
static int check_launch_events(const struct mb_log *log, char *detail, size_t dlen)
{
	for (size_t i = 1; i < log->nevents; i++) {
		const struct mb_event *ev = &log->events[i];
		const uint8_t *a, *b;
		size_t al, bl;
		uint8_t h[32];

		if (ev->type != MB_EV_EVENT_TAG || mb_launch_event_parse(ev->data, ev->data_len, &a, &al, &b, &bl))
			continue;
		if (!EVP_Digest(ev->data, ev->data_len, h, NULL, EVP_sha256(), NULL))
			return err_set(EIO, "SHA-256 failed");
		for (uint32_t d = 0; d < ev->ndigests; d++)
			if (ev->digests[d].alg == MB_ALG_SHA256 && memcmp(ev->digests[d].bytes, h, 32))
				return mismatch(detail, dlen, "event log: event #%zu (pcr%u launch event) sha256 digest "
							      "does not match its data", i, ev->index);
	}
	return 0;
}

int mb_tpm_quote_check(const char *quote_path, const char *log_path, const char *ak_pub_path,
		       const uint8_t *nonce, size_t nonce_len, char *detail, size_t dlen)
{
	uint8_t *qbuf = NULL, *lbuf = NULL;
	size_t qlen, llen, off = 0, aoff = 0;
	TPM2B_ATTEST attest;
	TPMT_SIGNATURE sig;
	TPMS_ATTEST info;
	struct mb_log log = { 0 };
	struct mb_replay *rp = NULL;
	TPMI_ALG_HASH halg;
	TSS2_RC rc;
	int ret;

	if (detail && dlen)
		detail[0] = 0;
	if ((ret = file_read(quote_path, 1 << 16, &qbuf, &qlen)))
		return ret;
	/* file format (docs/measured-boot.md): TPM2B_ATTEST then TPMT_SIGNATURE */
	rc = Tss2_MU_TPM2B_ATTEST_Unmarshal(qbuf, qlen, &off, &attest);
	if (rc == TSS2_RC_SUCCESS)
		rc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(qbuf, qlen, &off, &sig);
	if (rc != TSS2_RC_SUCCESS || off != qlen) {
		ret = err_set(EINVAL, "%s: not a TPM2B_ATTEST followed by a TPMT_SIGNATURE (%s)", quote_path,
			      rc != TSS2_RC_SUCCESS ? Tss2_RC_Decode(rc) : "trailing bytes");
		goto out;
	}
	/* the signature first: nothing in the quote is trusted before it */
	ret = check_signature(&sig, attest.attestationData, attest.size, ak_pub_path);
	if (ret) {
		if (ret > 0)
			mismatch(detail, dlen, "quote: signature does not verify with the AK in %s", ak_pub_path);
		goto out;
	}
	rc = Tss2_MU_TPMS_ATTEST_Unmarshal(attest.attestationData, attest.size, &aoff, &info);
	if (rc != TSS2_RC_SUCCESS || aoff != attest.size) {
		ret = mismatch(detail, dlen, "quote: attestation data is not a TPMS_ATTEST (%s)",
			       rc != TSS2_RC_SUCCESS ? Tss2_RC_Decode(rc) : "trailing bytes");
		goto out;
	}
	if (info.magic != TPM2_GENERATED_VALUE || info.type != TPM2_ST_ATTEST_QUOTE) {
		ret = mismatch(detail, dlen, "quote: not a TPM-generated quote (magic 0x%08x, type 0x%04x)", info.magic,
			       info.type);
		goto out;
	}
	if (info.extraData.size != nonce_len || (nonce_len && memcmp(info.extraData.buffer, nonce, nonce_len))) {
		char got[2 * sizeof(info.extraData.buffer) + 1];

		hex_encode(info.extraData.buffer, info.extraData.size, got);
		ret = mismatch(detail, dlen, "quote: nonce mismatch (quote extraData %s)", got[0] ? got : "empty");
		goto out;
	}
	if ((ret = file_read(log_path, MB_LOG_MAX, &lbuf, &llen)) ||
	    (ret = mb_log_parse(lbuf, llen, log_path, MB_LOG_TPM, &log)))
		goto out;
	if (!(rp = malloc(sizeof(*rp)))) {
		ret = err_set(ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = mb_replay(&log, rp)) || (ret = check_launch_events(&log, detail, dlen)))
		goto out;
	halg = sig.sigAlg == TPM2_ALG_ECDSA ? sig.signature.ecdsa.hash : sig.signature.rsassa.hash;
	if ((ret = check_pcrs(&info.attested.quote, halg, rp, detail, dlen)))
		goto out;
	mismatch(detail, dlen, "TPM quote verified: signature, nonce, PCR digest = replay of %zu events", log.nevents);
out:
	free(rp);
	mb_log_free(&log);
	free(lbuf);
	free(qbuf);
	return ret;
}
