/* eventlog.c - parse TCG crypto-agile event logs (TPM PC Client and CCEL).
 *
 * Layouts: TCG PC Client Platform Firmware Profile (PFP) 1.05:
 *   10.2.1 TCG_PCClientPCREvent (SHA-1 format, used for the first event),
 *   10.2.2 TCG_PCR_EVENT2 { u32 pcrIndex; u32 eventType; TPML_DIGEST_VALUES
 *          digests (u32 count, {u16 hashAlg; digest}); u32 eventSize; event },
 *   10.4.5.1 TCG_EfiSpecIdEvent ("Spec ID Event03", algorithm table),
 *   10.4.5.3 TCG_EfiStartupLocalityEvent.
 * The CCEL (UEFI 2.10 38.4.1, ACPI CCEL table) uses the same records. All
 * input is read with the bounds-checked reader of common/. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "measured_boot.h"

static const struct {
	uint16_t alg, size;
	const char *name;
} algs[] = {
	{ MB_ALG_SHA1, 20, "sha1" },	 { MB_ALG_SHA256, 32, "sha256" }, { MB_ALG_SHA384, 48, "sha384" },
	{ MB_ALG_SHA512, 64, "sha512" }, { 0x0012, 32, "sm3_256" },	  { 0x0027, 32, "sha3_256" },
	{ 0x0028, 48, "sha3_384" },	 { 0x0029, 64, "sha3_512" },
};

const char *mb_alg_name(uint16_t alg)
{
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++)
		if (algs[i].alg == alg)
			return algs[i].name;
	return NULL;
}

uint16_t mb_alg_size(uint16_t alg)
{
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++)
		if (algs[i].alg == alg)
			return algs[i].size;
	return 0;
}

/* PFP 1.05 table 9 (event types) and 10.4.1. */
static const struct {
	uint32_t type;
	const char *name;
} types[] = {
	{ 0x00, "EV_PREBOOT_CERT" },
	{ 0x01, "EV_POST_CODE" },
	{ 0x02, "EV_UNUSED" },
	{ 0x03, "EV_NO_ACTION" },
	{ 0x04, "EV_SEPARATOR" },
	{ 0x05, "EV_ACTION" },
	{ 0x06, "EV_EVENT_TAG" },
	{ 0x07, "EV_S_CRTM_CONTENTS" },
	{ 0x08, "EV_S_CRTM_VERSION" },
	{ 0x09, "EV_CPU_MICROCODE" },
	{ 0x0A, "EV_PLATFORM_CONFIG_FLAGS" },
	{ 0x0B, "EV_TABLE_OF_DEVICES" },
	{ 0x0C, "EV_COMPACT_HASH" },
	{ 0x0D, "EV_IPL" },
	{ 0x0E, "EV_IPL_PARTITION_DATA" },
	{ 0x0F, "EV_NONHOST_CODE" },
	{ 0x10, "EV_NONHOST_CONFIG" },
	{ 0x11, "EV_NONHOST_INFO" },
	{ 0x12, "EV_OMIT_BOOT_DEVICE_EVENTS" },
	{ 0x13, "EV_POST_CODE2" },
	{ 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
	{ 0x80000002, "EV_EFI_VARIABLE_BOOT" },
	{ 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
	{ 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER" },
	{ 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
	{ 0x80000006, "EV_EFI_GPT_EVENT" },
	{ 0x80000007, "EV_EFI_ACTION" },
	{ 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
	{ 0x80000009, "EV_EFI_HANDOFF_TABLES" },
	{ 0x8000000A, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
	{ 0x8000000B, "EV_EFI_HANDOFF_TABLES2" },
	{ 0x8000000C, "EV_EFI_VARIABLE_BOOT2" },
	{ 0x8000000D, "EV_EFI_GPT_EVENT2" },
	{ 0x80000010, "EV_EFI_HCRTM_EVENT" },
	{ 0x800000E0, "EV_EFI_VARIABLE_AUTHORITY" },
	{ 0x800000E1, "EV_EFI_SPDM_FIRMWARE_BLOB" },
	{ 0x800000E2, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
	{ 0x800000E3, "EV_EFI_SPDM_DEVICE_POLICY" },
	{ 0x800000E4, "EV_EFI_SPDM_DEVICE_AUTHORITY" },
};

const char *mb_event_type_name(uint32_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (types[i].type == type)
			return types[i].name;
	return NULL;
}

static const char spec_id_sig[16] = "Spec ID Event03"; /* includes the NUL */
static const char locality_sig[16] = "StartupLocality";

/* TCG_EfiSpecIdEvent, PFP 1.05 10.4.5.1. */
static int parse_spec_id(const uint8_t *p, uint32_t n, const char *what, struct mb_log *log)
{
	struct reader r;
	uint8_t sig[16], minor, major, errata, uintn, vendor;
	uint32_t platform, nalgs;
	int ret;

	rd_init(&r, p, n, what);
	if (n < sizeof(sig) && n >= 8 && !memcmp(p, spec_id_sig, n))
		return err_set(EINVAL, "%s: Spec ID event: eventDataSize %u is too small", what, n);
	if (n < sizeof(sig) || memcmp(p, spec_id_sig, sizeof(sig)))
		return err_set(EINVAL, "%s: not a crypto-agile TCG event log (first event is not \"Spec ID Event03\")",
			       what);
	rd_bytes(&r, "Spec ID signature", sig, sizeof(sig));
	rd_u32(&r, "Spec ID platformClass", &platform);
	rd_u8(&r, "Spec ID specVersionMinor", &minor);
	rd_u8(&r, "Spec ID specVersionMajor", &major);
	rd_u8(&r, "Spec ID specErrata", &errata);
	rd_u8(&r, "Spec ID uintnSize", &uintn);
	if ((ret = rd_u32(&r, "Spec ID numberOfAlgorithms", &nalgs)))
		return ret;
	if (major != 2)
		return err_set(EINVAL, "%s: Spec ID event: specVersionMajor %u, expected 2 (crypto-agile)", what, major);
	if (nalgs == 0 || nalgs > MB_MAX_ALGS)
		return err_set(EINVAL, "%s: Spec ID event: numberOfAlgorithms %u out of range (1..%d)", what, nalgs,
			       MB_MAX_ALGS);
	for (uint32_t i = 0; i < nalgs; i++) {
		uint16_t alg, size;

		rd_u16(&r, "Spec ID algorithmId", &alg);
		if ((ret = rd_u16(&r, "Spec ID digestSize", &size)))
			return ret;
		if (!mb_alg_size(alg))
			return err_set(EINVAL, "%s: Spec ID event: unknown algorithm 0x%04x", what, alg);
		if (size != mb_alg_size(alg))
			return err_set(EINVAL, "%s: Spec ID event: %s digest size %u, expected %u", what,
				       mb_alg_name(alg), size, mb_alg_size(alg));
		for (uint32_t j = 0; j < i; j++)
			if (log->algs[j].alg == alg)
				return err_set(EINVAL, "%s: Spec ID event: algorithm %s listed twice", what,
					       mb_alg_name(alg));
		log->algs[i].alg = alg;
		log->algs[i].size = size;
	}
	log->nalgs = nalgs;
	rd_u8(&r, "Spec ID vendorInfoSize", &vendor);
	return rd_skip(&r, "Spec ID vendorInfo", vendor);
}

static int add_event(struct mb_log *log, size_t *cap, const struct mb_event *ev)
{
	if (log->nevents == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct mb_event *n = realloc(log->events, ncap * sizeof(*n));

		if (!n)
			return err_set(ENOMEM, "event log: out of memory");
		log->events = n;
		*cap = ncap;
	}
	log->events[log->nevents++] = *ev;
	return 0;
}

/* The unused tail of a CCEL area is 0xFF (TDVF erases it); some TPM logs are
 * zero padded. Only a tail that is all fill ends the log early. */
static bool is_fill(const uint8_t *p, size_t n)
{
	if (!n || (p[0] != 0xFF && p[0] != 0x00))
		return false;
	for (size_t i = 1; i < n; i++)
		if (p[i] != p[0])
			return false;
	return true;
}

/* Put the event number in front of a reader error: "log.bin: event #3 at
 * offset 183: digest at offset 195 needs 48 bytes, only 10 left (truncated)". */
static int event_err(const struct reader *r, size_t i, size_t off)
{
	char old[512];
	const char *m = err_msg();
	size_t n = strlen(r->what);

	if (!strncmp(m, r->what, n) && !strncmp(m + n, ": ", 2))
		m += n + 2;
	snprintf(old, sizeof(old), "%s", m);
	return err_set(EINVAL, "%s: event #%zu at offset %zu: %s", r->what, i, off, old);
}

static int parse_event2(struct reader *r, struct mb_log *log, size_t i, struct mb_event *ev)
{
	const char *what = r->what;
	uint32_t count, size;
	int ret;

	memset(ev, 0, sizeof(*ev));
	ev->offset = r->off;
	rd_u32(r, "pcrIndex", &ev->index);
	rd_u32(r, "eventType", &ev->type);
	if ((ret = rd_u32(r, "digests.count", &count)))
		return event_err(r, i, ev->offset);
	/* PFP 10.2.2 wants one digest per bank; firmware that logs a subset of
	 * the banks exists (tpm2-tools fixtures) and tpm2_eventlog accepts it */
	if (count > log->nalgs)
		return err_set(EINVAL, "%s: event #%zu at offset %zu: digest count %u exceeds the %u algorithms of "
				       "the Spec ID event", what, i, ev->offset, count, log->nalgs);
	for (uint32_t d = 0; d < count; d++) {
		uint16_t alg, dsize = 0;

		if ((ret = rd_u16(r, "digest hashAlg", &alg)))
			return event_err(r, i, ev->offset);
		for (uint32_t a = 0; a < log->nalgs; a++)
			if (log->algs[a].alg == alg)
				dsize = log->algs[a].size;
		if (!dsize)
			return err_set(EINVAL, "%s: event #%zu at offset %zu: unknown algorithm 0x%04x (not in the Spec ID "
					       "event)", what, i, ev->offset, alg);
		for (uint32_t e = 0; e < d; e++)
			if (ev->digests[e].alg == alg)
				return err_set(EINVAL, "%s: event #%zu at offset %zu: two %s digests", what, i,
					       ev->offset, mb_alg_name(alg));
		ev->digests[d].alg = alg;
		ev->digests[d].size = dsize;
		if ((ret = rd_ptr(r, "digest", dsize, &ev->digests[d].bytes)))
			return event_err(r, i, ev->offset);
	}
	ev->ndigests = count;
	if ((ret = rd_u32(r, "eventSize", &size)))
		return event_err(r, i, ev->offset);
	if (size > rd_left(r))
		return err_set(EINVAL, "%s: event #%zu at offset %zu: eventSize %u exceeds the %zu bytes left", what, i,
			       ev->offset, size, rd_left(r));
	ev->data_len = size;
	rd_ptr(r, "event", size, &ev->data);
	return 0;
}

/* TCG_PCClientPCREvent (PFP 10.2.1): the SHA-1 record of the header event
 * and of legacy (TCG 1.2 style) logs. */
static int parse_event1(struct reader *r, size_t i, struct mb_event *ev)
{
	int ret;

	memset(ev, 0, sizeof(*ev));
	ev->offset = r->off;
	rd_u32(r, "pcrIndex", &ev->index);
	rd_u32(r, "eventType", &ev->type);
	rd_ptr(r, "digest", 20, &ev->digests[0].bytes);
	if ((ret = rd_u32(r, "eventDataSize", &ev->data_len)))
		return event_err(r, i, ev->offset);
	if (ev->data_len > rd_left(r))
		return err_set(EINVAL, "%s: event #%zu at offset %zu: eventDataSize %u exceeds the %zu bytes left",
			       r->what, i, ev->offset, ev->data_len, rd_left(r));
	rd_ptr(r, "event", ev->data_len, &ev->data);
	ev->ndigests = 1;
	ev->digests[0].alg = MB_ALG_SHA1;
	ev->digests[0].size = 20;
	return 0;
}

int mb_log_parse(const uint8_t *buf, size_t len, const char *what, enum mb_log_kind kind, struct mb_log *log)
{
	struct reader r;
	struct mb_event ev;
	size_t cap = 0;
	int ret;

	memset(log, 0, sizeof(*log));
	log->buf = buf;
	log->len = len;
	rd_init(&r, buf, len, what);

	if (!len)
		return err_set(EINVAL, "%s: empty file, not an event log", what);
	/* first event: TCG_PCClientPCREvent, SHA-1 format (PFP 10.2.1); say
	 * "not a log" before reporting sizes of something that is not one */
	if (len >= 8 && le32(buf + 4) != MB_EV_NO_ACTION &&
	    (le32(buf) >= MB_PCRS || !mb_event_type_name(le32(buf + 4))))
		return err_set(EINVAL, "%s: not a TCG event log (first event: index %u, type 0x%x; expected the "
				       "\"Spec ID Event03\" EV_NO_ACTION event)", what, le32(buf), le32(buf + 4));
	if ((ret = parse_event1(&r, 0, &ev)))
		return ret;
	if (ev.type == MB_EV_NO_ACTION) {
		/* PFP puts it in PCR 0; TDVF writes MR index 1 (RTMR0): accept any index */
		if ((ret = parse_spec_id(ev.data, ev.data_len, what, log)))
			return ret;
	} else if (ev.index < MB_PCRS && mb_event_type_name(ev.type)) {
		/* no Spec ID event: a SHA-1-only log */
		log->legacy = true;
		log->nalgs = 1;
		log->algs[0].alg = MB_ALG_SHA1;
		log->algs[0].size = 20;
	} else {
		return err_set(EINVAL, "%s: not a TCG event log (first event: index %u, type 0x%x)", what, ev.index,
			       ev.type);
	}
	/* A CCEL holds one bank, SHA-384 for TDX (SM3 for Hygon CSV), and TDVF
	 * writes its Spec ID event with MR index 1; PC Client logs use PCR 0. */
	if (kind == MB_LOG_AUTO)
		kind = !log->legacy && ((log->nalgs == 1 && log->algs[0].alg == MB_ALG_SHA384) || ev.index == 1)
			       ? MB_LOG_CCEL
			       : MB_LOG_TPM;
	log->kind = kind;

	for (;;) {
		size_t left;

		if (ev.type == MB_EV_NO_ACTION && ev.data_len >= 17 && !memcmp(ev.data, locality_sig, 16) &&
		    ev.index == 0) {
			log->has_locality = true;
			log->startup_locality = ev.data[16];
		}
		if (ev.type == 0x80000010 /* EV_EFI_HCRTM_EVENT */ && ev.index == 0)
			log->has_hcrtm = true;
		if ((ret = add_event(log, &cap, &ev)))
			goto fail;
		if (!(left = rd_left(&r)))
			break;
		if (left < 8 || is_fill(buf + r.off, 8)) {
			if (is_fill(buf + r.off, left))
				break;
			if (left < 8) {
				ret = err_set(EINVAL, "%s: %zu stray bytes at offset %zu after the last event (truncated)",
					      what, left, r.off);
				goto fail;
			}
		}
		ret = log->legacy ? parse_event1(&r, log->nevents, &ev) : parse_event2(&r, log, log->nevents, &ev);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	mb_log_free(log);
	return ret;
}

void mb_log_free(struct mb_log *log)
{
	free(log->events);
	log->events = NULL;
	log->nevents = 0;
}
