/* tpm.c - the host TPM 2.0 through tpm2-tss (ESAPI, tss2-mu, tctildr):
 * measure each launch into a PCR with a matching event in cvmm's log, and
 * quote PCRs with an attestation key.
 *
 * TPM 2.0 Part 3: TPM2_PCR_Extend (22.2), TPM2_CreatePrimary (24.1),
 * TPM2_Quote (18.4). The AK is a primary key derived from the endorsement
 * seed with a fixed template, so every call recreates the same key and no
 * persistent handle or key blob is needed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "common/common.h"
#include "mb_internal.h"
#include "mb_tss.h"

struct tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
};

static const char *tcti_conf(const char *tcti)
{
	if (tcti && *tcti)
		return tcti;
	if ((tcti = getenv("TPM2TOOLS_TCTI")) && *tcti)
		return tcti;
	if ((tcti = getenv("TCTI")) && *tcti)
		return tcti;
	return NULL; /* tctildr default: tabrmd, /dev/tpmrm0, /dev/tpm0, ... */
}

static int tpm_open(const char *tcti, struct tpm *t)
{
	const char *conf = tcti_conf(tcti);
	TSS2_RC rc;

	memset(t, 0, sizeof(*t));
	rc = Tss2_TctiLdr_Initialize(conf, &t->tcti);
	if (rc != TSS2_RC_SUCCESS && !conf)
		return err_set(EIO, "TPM: no TPM reachable through the tpm2-tss default TCTIs (give --tcti or set "
				    "TPM2TOOLS_TCTI): %s", Tss2_RC_Decode(rc));
	if (rc != TSS2_RC_SUCCESS)
		return err_set(EIO, "TPM: cannot open TCTI '%s': %s", conf, Tss2_RC_Decode(rc));
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		Tss2_TctiLdr_Finalize(&t->tcti);
		return err_set(EIO, "TPM: Esys_Initialize over '%s': %s", conf ? conf : "(default)",
			       Tss2_RC_Decode(rc));
	}
	return 0;
}

static void tpm_close(struct tpm *t)
{
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
}

int mb_tpm_record_launch(const char *tcti, unsigned pcr, const uint8_t *plan_digest, size_t digest_len,
			 const char *description, const char *log_path)
{
	TPML_DIGEST_VALUES dv = { .count = 1 };
	uint8_t *ev = NULL, *old = NULL, *new = NULL;
	size_t ev_len, old_len = 0, new_len;
	char *lock_path = NULL;
	struct tpm t = { 0 };
	int lock_fd = -1, ret;
	TSS2_RC rc;

	if (pcr >= MB_PCRS)
		return err_set(EINVAL, "TPM: PCR %u out of range (0..%d)", pcr, MB_PCRS - 1);
	if ((ret = mb_launch_event_data(plan_digest, digest_len, description, &ev, &ev_len)))
		return ret;
	/* serialize concurrent launches: PCR order must equal log order */
	if (asprintf(&lock_path, "%s.lock", log_path) < 0) {
		lock_path = NULL;
		ret = err_set(ENOMEM, "out of memory");
		goto out;
	}
	lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX)) {
		ret = err_set(errno, "%s: cannot lock: %s", lock_path, strerror(errno));
		goto out;
	}
	if (access(log_path, F_OK) == 0 && (ret = file_read(log_path, MB_LOG_MAX, &old, &old_len)))
		goto out;
	if ((ret = mb_log_append_launch(old, old_len, log_path, pcr, ev, ev_len, &new, &new_len)))
		goto out;
	dv.digests[0].hashAlg = TPM2_ALG_SHA256;
	if (!EVP_Digest(ev, ev_len, dv.digests[0].digest.sha256, NULL, EVP_sha256(), NULL)) {
		ret = err_set(EIO, "SHA-256 failed");
		goto out;
	}
	if ((ret = tpm_open(tcti, &t)))
		goto out;
	rc = Esys_PCR_Extend(t.esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &dv);
	if (rc != TSS2_RC_SUCCESS) {
		ret = err_set(EIO, "TPM: PCR_Extend of PCR %u: %s", pcr, Tss2_RC_Decode(rc));
		goto out;
	}
	if ((ret = file_write(log_path, new, new_len)))
		err_wrap(EIO, "PCR %u was extended but the event log could not be written", pcr);
out:
	tpm_close(&t);
	if (lock_fd >= 0)
		close(lock_fd); /* releases the lock */
	free(lock_path);
	free(ev);
	free(old);
	free(new);
	return ret;
}

/* Restricted ECC P-256 signing key, ECDSA/SHA-256 (TCG EK Credential
 * Profile / tpm2-tools "ecc" AK template shape). */
static void ak_template(TPM2B_PUBLIC *pub)
{
	memset(pub, 0, sizeof(*pub));
	pub->publicArea.type = TPM2_ALG_ECC;
	pub->publicArea.nameAlg = TPM2_ALG_SHA256;
	pub->publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					   TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
					   TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
	pub->publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	pub->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	pub->publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
	pub->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	pub->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
}

/* SubjectPublicKeyInfo PEM of the AK, built with OpenSSL from the point. */
static int ak_pem(const TPMS_ECC_POINT *pt, char **pem, size_t *pem_len)
{
	uint8_t point[1 + 2 * 32];
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pkey = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int ret = err_set(EIO, "TPM: cannot encode the AK public key");

	if (pt->x.size != 32 || pt->y.size != 32) {
		ret = err_set(EIO, "TPM: AK point has %u/%u-byte coordinates, expected 32", pt->x.size, pt->y.size);
		goto out;
	}
	point[0] = 0x04; /* uncompressed, SEC 1 2.3.3 */
	memcpy(point + 1, pt->x.buffer, 32);
	memcpy(point + 33, pt->y.buffer, 32);
	if (!bld || !ctx || !bio || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0 || !PEM_write_bio_PUBKEY(bio, pkey))
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || !(*pem = malloc((size_t)n + 1)))
		goto out;
	memcpy(*pem, data, (size_t)n);
	(*pem)[n] = 0;
	*pem_len = (size_t)n;
	ret = 0;
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return ret;
}

void mb_quote_free(struct mb_quote *q)
{
	free(q->quote);
	free(q->sig);
	free(q->ak_pem);
	memset(q, 0, sizeof(*q));
}

int mb_tpm_quote(const char *tcti, uint32_t pcr_mask, const uint8_t *nonce, size_t nonce_len, struct mb_quote *q)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_PUBLIC tmpl, *out_pub = NULL;
	TPM2B_DATA outside = { 0 }, qual = { 0 };
	TPML_PCR_SELECTION none = { 0 }, sel = { .count = 1 };
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPM2B_ATTEST *attest = NULL;
	TPMT_SIGNATURE *sig = NULL;
	ESYS_TR ak = ESYS_TR_NONE;
	struct tpm t;
	size_t off;
	int ret;
	TSS2_RC rc;

	memset(q, 0, sizeof(*q));
	if (nonce_len > sizeof(qual.buffer))
		return err_set(EINVAL, "nonce: %zu bytes, the TPM takes at most %zu", nonce_len, sizeof(qual.buffer));
	if (!pcr_mask || pcr_mask >> MB_PCRS)
		return err_set(EINVAL, "pcrs: select PCRs in 0..%d", MB_PCRS - 1);
	qual.size = (UINT16)nonce_len;
	memcpy(qual.buffer, nonce, nonce_len);
	sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel.pcrSelections[0].sizeofSelect = 3;
	for (int i = 0; i < 3; i++)
		sel.pcrSelections[0].pcrSelect[i] = (uint8_t)(pcr_mask >> (8 * i));
	ak_template(&tmpl);

	if ((ret = tpm_open(tcti, &t)))
		return ret;
	rc = Esys_CreatePrimary(t.esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens,
				&tmpl, &outside, &none, &ak, &out_pub, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		ret = err_set(EIO, "TPM: CreatePrimary (AK under the endorsement hierarchy): %s", Tss2_RC_Decode(rc));
		goto out;
	}
	rc = Esys_Quote(t.esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qual, &scheme, &sel, &attest, &sig);
	if (rc != TSS2_RC_SUCCESS) {
		ret = err_set(EIO, "TPM: Quote: %s", Tss2_RC_Decode(rc));
		goto out;
	}
	if ((ret = ak_pem(&out_pub->publicArea.unique.ecc, &q->ak_pem, &q->ak_pem_len)))
		goto out;
	q->quote = malloc(sizeof(*attest) + sizeof(*sig));
	q->sig = malloc(sizeof(*sig));
	if (!q->quote || !q->sig) {
		ret = err_set(ENOMEM, "out of memory");
		goto out;
	}
	off = 0;
	rc = Tss2_MU_TPM2B_ATTEST_Marshal(attest, q->quote, sizeof(*attest) + sizeof(*sig), &off);
	if (rc == TSS2_RC_SUCCESS)
		rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, q->quote, sizeof(*attest) + sizeof(*sig), &off);
	q->quote_len = off;
	off = 0;
	if (rc == TSS2_RC_SUCCESS)
		rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, q->sig, sizeof(*sig), &off);
	q->sig_len = off;
	if (rc != TSS2_RC_SUCCESS)
		ret = err_set(EIO, "TPM: marshalling the quote: %s", Tss2_RC_Decode(rc));
out:
	if (ret)
		mb_quote_free(q);
	if (ak != ESYS_TR_NONE)
		Esys_FlushContext(t.esys, ak);
	Esys_Free(out_pub);
	Esys_Free(attest);
	Esys_Free(sig);
	tpm_close(&t);
	return ret;
}
