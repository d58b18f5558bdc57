/* decode.c - readable JSON of event data, by event type.
 * Layouts: TCG PFP 1.05 section 10.2 / 10.4 (UEFI_VARIABLE_DATA,
 * UEFI_IMAGE_LOAD_EVENT, UEFI_PLATFORM_FIRMWARE_BLOB(2), UEFI_HANDOFF_TABLE_POINTERS(2),
 * TCG_PCClientTaggedEvent, TCG_EfiSpecIdEvent, TCG_EfiStartupLocalityEvent).
 * Anything that does not decode cleanly is shown as hex: the decoder never
 * fails on hostile data, it only declines. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/common.h"
#include "mb_internal.h"

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	json_t *j;

	if (!s)
		return json_null();
	hex_encode(p, n, s);
	j = json_string(s);
	free(s);
	return j;
}

static json_t *u64_hex(uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "0x%llx", (unsigned long long)v);
	return json_string(s);
}

/* EFI_GUID: u32, u16, u16 little-endian, then 8 bytes in order. */
static json_t *guid_json(const uint8_t *g)
{
	char s[40];

	snprintf(s, sizeof(s), "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", le32(g), le16(g + 4),
		 le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
	return json_string(s);
}

static bool printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

/* Printable ASCII (trailing NULs dropped), else NULL. */
static json_t *ascii_json(const uint8_t *p, size_t n)
{
	while (n && p[n - 1] == 0)
		n--;
	if (!n)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\n' && p[i] != '\r' && p[i] != '\t')
			return NULL;
	return json_stringn((const char *)p, n);
}

/* UCS-2 text (UEFI CHAR16 strings), trailing NULs dropped. Only printable
 * ASCII is accepted: anything else is more likely binary than a name. */
static json_t *utf16_json(const uint8_t *p, size_t n)
{
	char *s;
	json_t *j;

	if (n % 2)
		return NULL;
	n /= 2;
	while (n && le16(p + 2 * (n - 1)) == 0)
		n--;
	if (!n || !(s = malloc(n)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint16_t c = le16(p + 2 * i);

		if ((c < 0x20 || c > 0x7e) && c != '\t' && c != '\n') {
			free(s);
			return NULL;
		}
		s[i] = (char)c;
	}
	j = json_stringn(s, n);
	free(s);
	return j;
}

static json_t *text_json(const uint8_t *p, size_t n)
{
	json_t *s = ascii_json(p, n);

	if (!s)
		s = utf16_json(p, n);
	return s ? json_pack("{s:o}", "text", s) : NULL;
}

static json_t *spec_id_json(const uint8_t *p, size_t n)
{
	struct reader r;
	uint32_t platform, nalgs;
	uint8_t minor, major, errata, uintn;
	json_t *o, *list;

	rd_init(&r, p, n, "Spec ID");
	rd_skip(&r, "signature", 16);
	rd_u32(&r, "platformClass", &platform);
	rd_u8(&r, "minor", &minor);
	rd_u8(&r, "major", &major);
	rd_u8(&r, "errata", &errata);
	rd_u8(&r, "uintnSize", &uintn);
	if (rd_u32(&r, "numberOfAlgorithms", &nalgs) || nalgs > MB_MAX_ALGS)
		return NULL;
	list = json_array();
	for (uint32_t i = 0; i < nalgs; i++) {
		uint16_t alg, size;
		const char *name;

		rd_u16(&r, "alg", &alg);
		if (rd_u16(&r, "size", &size))
			break;
		name = mb_alg_name(alg);
		json_array_append_new(list, json_pack("{s:o,s:i}", "algorithm", name ? json_string(name) : u64_hex(alg),
						      "digest_size", size));
	}
	o = json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:o}", "signature", "Spec ID Event03", "platform_class",
		      (int)platform, "spec_version_major", major, "spec_version_minor", minor, "spec_errata", errata,
		      "uintn_size", uintn, "algorithms", list);
	return o;
}

static json_t *no_action_json(const uint8_t *p, size_t n)
{
	if (n >= 16 && !memcmp(p, "Spec ID Event03", 16))
		return spec_id_json(p, n);
	if (n == 17 && !memcmp(p, "StartupLocality", 16))
		return json_pack("{s:s,s:i}", "signature", "StartupLocality", "startup_locality", p[16]);
	if (n >= 16 && printable(p, 15)) {
		json_t *sig = ascii_json(p, 16);

		return sig ? json_pack("{s:o,s:o}", "signature", sig, "rest_hex", hex_json(p + 16, n - 16)) : NULL;
	}
	return NULL;
}

/* UEFI_VARIABLE_DATA: GUID, u64 name length (chars), u64 data length, name, data. */
static json_t *variable_json(const uint8_t *p, size_t n)
{
	uint64_t nlen, dlen;
	json_t *name;

	if (n < 32)
		return NULL;
	nlen = le64(p + 16);
	dlen = le64(p + 24);
	if (nlen > (n - 32) / 2 || dlen != n - 32 - 2 * nlen)
		return NULL;
	name = utf16_json(p + 32, 2 * nlen);
	return json_pack("{s:o,s:o,s:I,s:o}", "variable_guid", guid_json(p), "name", name ? name : json_string(""),
			 "data_size", (json_int_t)dlen, "data_hex", hex_json(p + 32 + 2 * nlen, dlen));
}

/* UEFI_IMAGE_LOAD_EVENT: u64 location, u64 length, u64 link-time address,
 * u64 device path length, device path. */
static json_t *image_json(const uint8_t *p, size_t n)
{
	if (n < 32 || le64(p + 24) != n - 32)
		return NULL;
	return json_pack("{s:o,s:I,s:o,s:o}", "image_location", u64_hex(le64(p)), "image_length",
			 (json_int_t)le64(p + 8), "link_time_address", u64_hex(le64(p + 16)), "device_path_hex",
			 hex_json(p + 32, n - 32));
}

static json_t *tag_json(const uint8_t *p, size_t n)
{
	const uint8_t *dg, *desc;
	size_t dl, descl;

	if (n < 8 || le32(p + 4) != n - 8)
		return NULL;
	if (!mb_launch_event_parse(p, n, &dg, &dl, &desc, &descl)) {
		json_t *d = ascii_json(desc, descl);

		if (!d)
			d = json_stringn((const char *)desc, descl); /* NULL when not UTF-8 */
		return json_pack("{s:s,s:o,s:o}", "tag", "cvmm launch", "plan_digest", hex_json(dg, dl), "description",
				 d ? d : hex_json(desc, descl));
	}
	return json_pack("{s:o,s:o}", "tag_id", u64_hex(le32(p)), "tag_data_hex", hex_json(p + 8, n - 8));
}

/* UEFI_PLATFORM_FIRMWARE_BLOB(2): [u8 desc size, desc], u64 base, u64 length. */
static json_t *blob_json(const uint8_t *p, size_t n, bool v2)
{
	json_t *desc = NULL;
	size_t off = 0;

	if (v2) {
		if (n < 1 || n != 1u + p[0] + 16)
			return NULL;
		desc = ascii_json(p + 1, p[0]);
		off = 1u + p[0];
	} else if (n != 16) {
		return text_json(p, n);
	}
	return json_pack("{s:o,s:o,s:I}", "description", desc ? desc : json_null(), "blob_base",
			 u64_hex(le64(p + off)), "blob_length", (json_int_t)le64(p + off + 8));
}

/* UEFI_HANDOFF_TABLE_POINTERS(2): [u8 desc size, desc], u64 count, {GUID, u64 ptr}. */
static json_t *handoff_json(const uint8_t *p, size_t n, bool v2)
{
	json_t *desc = NULL, *list;
	size_t off = 0;
	uint64_t count;

	if (v2) {
		if (n < 1 || n < 1u + p[0] + 8)
			return NULL;
		off = 1u + p[0];
	}
	if (n - off < 8)
		return NULL;
	count = le64(p + off);
	if (count != (n - off - 8) / 24 || (n - off - 8) % 24)
		return NULL;
	if (v2)
		desc = ascii_json(p + 1, p[0]);
	off += 8;
	list = json_array();
	for (uint64_t i = 0; i < count; i++, off += 24)
		json_array_append_new(list, json_pack("{s:o,s:o}", "vendor_guid", guid_json(p + off), "table",
						      u64_hex(le64(p + off + 16))));
	return json_pack("{s:o,s:o}", "description", desc ? desc : json_null(), "tables", list);
}

json_t *mb_event_data_json(uint32_t type, const uint8_t *p, size_t n)
{
	switch (type) {
	case MB_EV_NO_ACTION: return no_action_json(p, n);
	case MB_EV_SEPARATOR:
		return n == 4 ? json_pack("{s:o}", "value", u64_hex(le32(p))) : NULL;
	case MB_EV_EVENT_TAG: return tag_json(p, n);
	case MB_EV_POST_CODE: return blob_json(p, n, false);
	case MB_EV_IPL:
	case MB_EV_ACTION:
	case MB_EV_S_CRTM_VERSION:
	case MB_EV_S_CRTM_CONTENTS:
	case 0x0C: /* EV_COMPACT_HASH */
	case 0x80000007: /* EV_EFI_ACTION */
		return text_json(p, n);
	case 0x80000001: /* EV_EFI_VARIABLE_DRIVER_CONFIG */
	case 0x80000002: /* EV_EFI_VARIABLE_BOOT */
	case 0x8000000C: /* EV_EFI_VARIABLE_BOOT2 */
	case 0x800000E0: /* EV_EFI_VARIABLE_AUTHORITY */
		return variable_json(p, n);
	case 0x80000003: /* EV_EFI_BOOT_SERVICES_APPLICATION */
	case 0x80000004: /* EV_EFI_BOOT_SERVICES_DRIVER */
	case 0x80000005: /* EV_EFI_RUNTIME_SERVICES_DRIVER */
		return image_json(p, n);
	case 0x80000008: return blob_json(p, n, false);
	case 0x8000000A: return blob_json(p, n, true);
	case 0x80000009: return handoff_json(p, n, false);
	case 0x8000000B: return handoff_json(p, n, true);
	}
	return NULL;
}

static bool digests_match_data(const struct mb_event *ev)
{
	for (uint32_t d = 0; d < ev->ndigests; d++) {
		const char *name = mb_alg_evp_name(ev->digests[d].alg);
		EVP_MD *md = name ? EVP_MD_fetch(NULL, name, NULL) : NULL;
		uint8_t h[EVP_MAX_MD_SIZE];
		unsigned int n = 0;
		bool ok = md && EVP_Digest(ev->data, ev->data_len, h, &n, md, NULL) && n == ev->digests[d].size &&
			  !memcmp(h, ev->digests[d].bytes, n);

		EVP_MD_free(md);
		if (!ok)
			return false;
	}
	return ev->ndigests > 0;
}

json_t *mb_event_json(const struct mb_log *log, size_t i)
{
	const struct mb_event *ev = &log->events[i];
	const char *tname = mb_event_type_name(ev->type);
	json_t *o = json_object(), *digests = json_object(), *data;
	char reg[16];

	json_object_set_new(o, "number", json_integer((json_int_t)i));
	json_object_set_new(o, "offset", json_integer((json_int_t)ev->offset));
	if (log->kind == MB_LOG_CCEL && ev->index >= 1 && ev->index <= MB_RTMRS)
		snprintf(reg, sizeof(reg), "rtmr%u", ev->index - 1);
	else
		snprintf(reg, sizeof(reg), "%s%u", log->kind == MB_LOG_CCEL ? "mr" : "pcr", ev->index);
	json_object_set_new(o, "index", json_integer(ev->index));
	json_object_set_new(o, "register", json_string(reg));
	json_object_set_new(o, "type", tname ? json_string(tname) : u64_hex(ev->type));
	json_object_set_new(o, "type_id", u64_hex(ev->type));
	for (uint32_t d = 0; d < ev->ndigests; d++)
		json_object_set_new(digests, mb_alg_name(ev->digests[d].alg),
				    hex_json(ev->digests[d].bytes, ev->digests[d].size));
	json_object_set_new(o, "digests", digests);
	/* informational: many event types (EV_SEPARATOR, EV_EFI_ACTION, cvmm
	 * launch events...) are defined as the hash of their data; others
	 * (images, boot variables) hash something else */
	json_object_set_new(o, "digest_matches_data", json_boolean(digests_match_data(ev)));
	json_object_set_new(o, "data_size", json_integer(ev->data_len));
	data = mb_event_data_json(ev->type, ev->data, ev->data_len);
	if (data)
		json_object_set_new(o, "data", data);
	else
		json_object_set_new(o, "data_hex", hex_json(ev->data, ev->data_len));
	return o;
}

char *mb_log_json(const struct mb_log *log)
{
	json_t *root = json_object(), *algs = json_array(), *events = json_array();
	char *text;

	for (uint32_t a = 0; a < log->nalgs; a++)
		json_array_append_new(algs, json_string(mb_alg_name(log->algs[a].alg)));
	json_object_set_new(root, "kind", json_string(log->kind == MB_LOG_CCEL ? "ccel" : "tpm"));
	json_object_set_new(root, "algorithms", algs);
	if (log->has_locality)
		json_object_set_new(root, "startup_locality", json_integer(log->startup_locality));
	for (size_t i = 0; i < log->nevents; i++)
		json_array_append_new(events, mb_event_json(log, i));
	json_object_set_new(root, "events", events);
	text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	return text;
}
