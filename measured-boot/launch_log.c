/* launch_log.c - cvmm's own host event log: one EV_EVENT_TAG per launch.
 *
 * The log is a TCG PC Client crypto-agile log (PFP 1.05 10.2) with a
 * SHA-256-only Spec ID header, so `cvmm eventlog replay` and tpm2_eventlog
 * read it. The event is a TCG_PCClientTaggedEvent (PFP 10.4.2.2):
 *   u32 taggedEventID = MB_CVMM_TAG_ID, u32 taggedEventDataSize,
 *   taggedEventData = u16 digest length, plan digest, UTF-8 description.
 * Its digest is SHA-256 of the whole event data: the value extended into the
 * PCR binds the plan digest and the description. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/common.h"
#include "mb_internal.h"

#define MAX_DESC 1024

int mb_launch_event_data(const uint8_t *plan_digest, size_t digest_len, const char *description, uint8_t **out,
			 size_t *out_len)
{
	size_t dlen = strlen(description), n = 10 + digest_len + dlen;
	uint8_t *p;

	if (digest_len < 1 || digest_len > MB_MAX_DIGEST)
		return err_set(EINVAL, "launch event: plan digest of %zu bytes (1..%d)", digest_len, MB_MAX_DIGEST);
	if (dlen > MAX_DESC)
		return err_set(EINVAL, "launch event: description of %zu bytes (at most %d)", dlen, MAX_DESC);
	if (!(p = malloc(n)))
		return err_set(ENOMEM, "launch event: out of memory");
	put_le32(p, MB_CVMM_TAG_ID);
	put_le32(p + 4, (uint32_t)(n - 8));
	put_le16(p + 8, (uint16_t)digest_len);
	memcpy(p + 10, plan_digest, digest_len);
	memcpy(p + 10 + digest_len, description, dlen);
	*out = p;
	*out_len = n;
	return 0;
}

int mb_launch_event_parse(const uint8_t *p, size_t n, const uint8_t **digest, size_t *digest_len,
			  const uint8_t **desc, size_t *desc_len)
{
	size_t dl;

	if (n < 10 || le32(p) != MB_CVMM_TAG_ID || le32(p + 4) != n - 8)
		return -EINVAL;
	dl = le16(p + 8);
	if (dl < 1 || dl > MB_MAX_DIGEST || 10 + dl > n)
		return -EINVAL;
	*digest = p + 10;
	*digest_len = dl;
	*desc = p + 10 + dl;
	*desc_len = n - 10 - dl;
	return 0;
}

/* TCG_PCClientPCREvent holding a TCG_EfiSpecIdEvent with the SHA-256 bank
 * only (PFP 10.4.5.1): platformClass 0 (client), version 2.0 errata 0,
 * uintnSize 2 (UINT64), vendorInfoSize 0. */
static int spec_id_header(struct bytebuf *b)
{
	uint8_t h[32 + 33];

	memset(h, 0, sizeof(h));
	put_le32(h, 0);			  /* pcrIndex */
	put_le32(h + 4, MB_EV_NO_ACTION); /* eventType */
	put_le32(h + 28, 33);		  /* eventDataSize; digest[20] at 8 is zero */
	memcpy(h + 32, "Spec ID Event03", 16);
	h[32 + 21] = 2; /* specVersionMajor (platformClass, minor at 16..20) */
	h[32 + 23] = 2; /* uintnSize */
	put_le32(h + 32 + 24, 1);
	put_le16(h + 32 + 28, MB_ALG_SHA256);
	put_le16(h + 32 + 30, 32);
	return bb_append(b, h, sizeof(h)); /* vendorInfoSize (last byte) is 0 */
}

int mb_log_append_launch(const uint8_t *old, size_t old_len, const char *log_path, unsigned pcr,
			 const uint8_t *event_data, size_t event_len, uint8_t **out, size_t *out_len)
{
	struct bytebuf b = { 0 };
	uint8_t rec[4 + 4 + 4 + 2 + 32 + 4];
	int ret;

	if (pcr >= MB_PCRS)
		return err_set(EINVAL, "launch log: PCR %u out of range (0..%d)", pcr, MB_PCRS - 1);
	if (event_len > UINT32_MAX)
		return err_set(EINVAL, "launch log: event too large");
	if (old_len) {
		struct mb_log log;
		const struct mb_event *last;

		if ((ret = mb_log_parse(old, old_len, log_path, MB_LOG_TPM, &log)))
			return ret;
		last = &log.events[log.nevents - 1];
		if (log.nalgs != 1 || log.algs[0].alg != MB_ALG_SHA256 ||
		    (size_t)(last->data - old) + last->data_len != old_len) {
			mb_log_free(&log);
			return err_set(EINVAL, "%s: not a cvmm launch log (it must hold only the SHA-256 bank and no "
					       "padding)", log_path);
		}
		mb_log_free(&log);
		ret = bb_append(&b, old, old_len);
	} else {
		ret = spec_id_header(&b);
	}
	/* TCG_PCR_EVENT2 (PFP 10.2.2) */
	put_le32(rec, pcr);
	put_le32(rec + 4, MB_EV_EVENT_TAG);
	put_le32(rec + 8, 1);
	put_le16(rec + 12, MB_ALG_SHA256);
	if (!EVP_Digest(event_data, event_len, rec + 14, NULL, EVP_sha256(), NULL)) {
		bb_free(&b);
		return err_set(EIO, "launch log: SHA-256 failed");
	}
	put_le32(rec + 46, (uint32_t)event_len);
	if (ret || bb_append(&b, rec, sizeof(rec)) || bb_append(&b, event_data, event_len)) {
		bb_free(&b);
		return err_set(ENOMEM, "launch log: out of memory");
	}
	*out = b.data;
	*out_len = b.len;
	return 0;
}

size_t mb_launch_log_count(const struct mb_log *log, const uint8_t *plan_digest, size_t digest_len)
{
	size_t n = 0;

	for (size_t i = 0; i < log->nevents; i++) {
		const struct mb_event *ev = &log->events[i];
		const uint8_t *d, *desc;
		size_t dl, descl;

		if (ev->type == MB_EV_EVENT_TAG && !mb_launch_event_parse(ev->data, ev->data_len, &d, &dl, &desc, &descl) &&
		    dl == digest_len && !memcmp(d, plan_digest, dl))
			n++;
	}
	return n;
}
