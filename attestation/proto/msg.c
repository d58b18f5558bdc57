/* msg.c - the agent wire protocol's frames: a 12-byte header ("CVAG",
 * version, type, payload length) and a payload of TLVs (proto.h). The
 * decoder takes bytes from a possibly hostile peer: bounds-checked reader,
 * no unknown or repeated tags, per-type required tags and sizes
 * (tests/fuzz/fuzz_agent_request.c). */
#include <errno.h>
#include <string.h>

#include "attestation/proto/proto.h"

#define TLV_HDR 6u
#define REPORT_MAX (64u << 10)
#define PROVIDER_MAX 64u
#define MESSAGE_MAX 256u

struct field {
	uint16_t tag;
	const char *name;
	size_t ptr_off, len_off;
};

#define F(tag, member) { tag, #member, offsetof(struct att_msg, member), offsetof(struct att_msg, member##_len) }
static const struct field FIELDS[] = {
	F(ATT_TLV_NONCE, nonce),	   F(ATT_TLV_PLATFORM, platform), F(ATT_TLV_PROVIDER, provider),
	F(ATT_TLV_REPORT, report),	   F(ATT_TLV_CERT_TABLE, cert_table), F(ATT_TLV_PUBKEY, pubkey),
	F(ATT_TLV_NAME, name),		   F(ATT_TLV_EPH_PUBKEY, eph_pubkey), F(ATT_TLV_CIPHERTEXT, ciphertext),
	F(ATT_TLV_MESSAGE, message),	   F(ATT_TLV_EVENT_LOG, event_log),
};
#undef F

static const uint8_t **fptr(const struct att_msg *m, const struct field *f)
{
	return (const uint8_t **)((char *)m + f->ptr_off);
}

static size_t *flen(const struct att_msg *m, const struct field *f)
{
	return (size_t *)((char *)m + f->len_off);
}

static const char *type_name(unsigned int type)
{
	switch (type) {
	case ATT_MSG_EVIDENCE_REQ: return "EVIDENCE_REQ";
	case ATT_MSG_EVIDENCE_RSP: return "EVIDENCE_RSP";
	case ATT_MSG_SECRET_REQ: return "SECRET_REQ";
	case ATT_MSG_SECRET_RSP: return "SECRET_RSP";
	case ATT_MSG_ERROR: return "ERROR";
	default: return NULL;
	}
}

/* The tags each type requires and the ones it may carry (bit = tag). */
static void type_tags(unsigned int type, uint32_t *required, uint32_t *allowed)
{
#define B(t) (1u << (t))
	switch (type) {
	case ATT_MSG_EVIDENCE_REQ:
		*required = B(ATT_TLV_NONCE);
		break;
	case ATT_MSG_EVIDENCE_RSP:
		*required = B(ATT_TLV_PLATFORM) | B(ATT_TLV_PROVIDER) | B(ATT_TLV_REPORT) | B(ATT_TLV_PUBKEY);
		*allowed = *required | B(ATT_TLV_CERT_TABLE) | B(ATT_TLV_EVENT_LOG);
		return;
	case ATT_MSG_SECRET_REQ:
		*required = B(ATT_TLV_NONCE) | B(ATT_TLV_NAME) | B(ATT_TLV_EPH_PUBKEY) | B(ATT_TLV_CIPHERTEXT);
		break;
	case ATT_MSG_ERROR:
		*required = B(ATT_TLV_MESSAGE);
		break;
	default:
		*required = 0;
		break;
	}
	*allowed = *required;
#undef B
}

int att_msg_encode(const struct att_msg *m, struct bytebuf *out)
{
	uint8_t hdr[ATT_FRAME_HDR];
	uint64_t payload = 0;

	for (size_t i = 0; i < ARRAY_SIZE(FIELDS); i++) {
		size_t n = *flen(m, &FIELDS[i]);

		if (!*fptr(m, &FIELDS[i]))
			continue;
		if (n > ATT_FRAME_MAX)
			return err_set(EMSGSIZE, "agent frame: %s is %zu bytes, more than %u", FIELDS[i].name, n,
				       ATT_FRAME_MAX);
		payload += TLV_HDR + n;
	}
	if (payload > ATT_FRAME_MAX)
		return err_set(EMSGSIZE, "agent frame: payload of %llu bytes is more than %u",
			       (unsigned long long)payload, ATT_FRAME_MAX);
	put_le32(hdr, ATT_FRAME_MAGIC);
	put_le16(hdr + 4, ATT_FRAME_VERSION);
	put_le16(hdr + 6, (uint16_t)m->type);
	put_le32(hdr + 8, (uint32_t)payload);
	if (bb_append(out, hdr, sizeof(hdr)))
		return err_set(ENOMEM, "agent frame: out of memory");
	for (size_t i = 0; i < ARRAY_SIZE(FIELDS); i++) {
		const uint8_t *p = *fptr(m, &FIELDS[i]);
		size_t n = *flen(m, &FIELDS[i]);
		uint8_t tlv[TLV_HDR];

		if (!p)
			continue;
		put_le16(tlv, FIELDS[i].tag);
		put_le32(tlv + 2, (uint32_t)n);
		if (bb_append(out, tlv, sizeof(tlv)) || (n && bb_append(out, p, n)))
			return err_set(ENOMEM, "agent frame: out of memory");
	}
	return 0;
}

int att_frame_header(const uint8_t hdr[ATT_FRAME_HDR], const char *what, uint16_t *type, uint32_t *payload_len)
{
	uint32_t magic = le32(hdr), len = le32(hdr + 8);
	uint16_t version = le16(hdr + 4);

	if (magic != ATT_FRAME_MAGIC)
		return err_set(EPROTO, "%s: not an agent frame (magic 0x%08x, expected 0x%08x \"CVAG\")", what, magic,
			       ATT_FRAME_MAGIC);
	if (version != ATT_FRAME_VERSION)
		return err_set(EPROTO, "%s: agent frame version %u, expected %u", what, version, ATT_FRAME_VERSION);
	if (len > ATT_FRAME_MAX)
		return err_set(EMSGSIZE, "%s: agent frame payload of %u bytes is more than %u", what, len,
			       ATT_FRAME_MAX);
	*type = le16(hdr + 6);
	*payload_len = len;
	return 0;
}

static bool printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

static int check_len(const char *what, const char *field, size_t n, size_t min, size_t max)
{
	if (n < min || n > max)
		return err_set(EPROTO, "%s: %s is %zu bytes, expected %zu..%zu", what, field, n, min, max);
	return 0;
}

/* Sizes and contents of the tags present (the type decided which). */
static int check_fields(const struct att_msg *m, const char *what)
{
	if (m->nonce && check_len(what, "NONCE", m->nonce_len, ATT_NONCE_MIN, ATT_NONCE_MAX))
		return -EPROTO;
	if (m->pubkey && check_len(what, "PUBKEY", m->pubkey_len, ATT_PUBKEY_LEN, ATT_PUBKEY_LEN))
		return -EPROTO;
	if (m->eph_pubkey && check_len(what, "EPH_PUBKEY", m->eph_pubkey_len, ATT_PUBKEY_LEN, ATT_PUBKEY_LEN))
		return -EPROTO;
	if (m->ciphertext && check_len(what, "CIPHERTEXT", m->ciphertext_len, 16, ATT_SECRET_MAX + 16))
		return -EPROTO;
	if (m->report && check_len(what, "REPORT", m->report_len, 1, REPORT_MAX))
		return -EPROTO;
	if (m->event_log && check_len(what, "EVENT_LOG", m->event_log_len, 1, ATT_EVENT_LOG_MAX))
		return -EPROTO;
	if (m->name && !att_secret_name_ok(m->name, m->name_len))
		return err_set(EPROTO, "%s: NAME is not a plain file name (1..%u of [A-Za-z0-9._-], no leading '.')",
			       what, ATT_SECRET_NAME_MAX);
	if (m->platform && !(m->platform_len == 3 && (!memcmp(m->platform, "snp", 3) || !memcmp(m->platform, "tdx", 3))))
		return err_set(EPROTO, "%s: PLATFORM is not \"snp\" or \"tdx\"", what);
	if (m->provider && (check_len(what, "PROVIDER", m->provider_len, 1, PROVIDER_MAX) ||
			    !printable(m->provider, m->provider_len)))
		return err_set(EPROTO, "%s: PROVIDER is not 1..%u printable ASCII bytes", what, PROVIDER_MAX);
	if (m->message && (m->message_len > MESSAGE_MAX || !printable(m->message, m->message_len)))
		return err_set(EPROTO, "%s: MESSAGE is not at most %u printable ASCII bytes", what, MESSAGE_MAX);
	return 0;
}

int att_msg_decode(const uint8_t *buf, size_t len, const char *what, struct att_msg *m)
{
	uint32_t payload_len, seen = 0, required, allowed;
	const char *tname;
	struct reader r;
	uint16_t type;

	memset(m, 0, sizeof(*m));
	if (len < ATT_FRAME_HDR)
		return err_set(EPROTO, "%s: agent frame of %zu bytes is shorter than its %u-byte header (truncated)",
			       what, len, ATT_FRAME_HDR);
	if (att_frame_header(buf, what, &type, &payload_len))
		return -EPROTO;
	if (payload_len != len - ATT_FRAME_HDR)
		return err_set(EPROTO, "%s: agent frame header says %u payload bytes, the frame has %zu", what,
			       payload_len, len - ATT_FRAME_HDR);
	tname = type_name(type);
	if (!tname)
		return err_set(EPROTO, "%s: unknown agent message type %u", what, type);
	type_tags(type, &required, &allowed);
	rd_init(&r, buf + ATT_FRAME_HDR, payload_len, what);
	while (rd_left(&r)) {
		const struct field *f = NULL;
		const uint8_t *p;
		uint32_t n;
		uint16_t tag;

		if (rd_u16(&r, "TLV tag", &tag) || rd_u32(&r, "TLV length", &n) || rd_ptr(&r, "TLV value", n, &p))
			return -EPROTO;
		for (size_t i = 0; i < ARRAY_SIZE(FIELDS); i++)
			if (FIELDS[i].tag == tag)
				f = &FIELDS[i];
		if (!f)
			return err_set(EPROTO, "%s: %s: unknown tag %u", what, tname, tag);
		if (!(allowed & (1u << tag)))
			return err_set(EPROTO, "%s: %s may not carry %s", what, tname, f->name);
		if (seen & (1u << tag))
			return err_set(EPROTO, "%s: %s: tag %s appears twice", what, tname, f->name);
		seen |= 1u << tag;
		*fptr(m, f) = p;
		*flen(m, f) = n;
	}
	if ((seen & required) != required) {
		for (size_t i = 0; i < ARRAY_SIZE(FIELDS); i++)
			if ((required & ~seen) & (1u << FIELDS[i].tag))
				return err_set(EPROTO, "%s: %s without its %s", what, tname, FIELDS[i].name);
	}
	m->type = (enum att_msg_type)type;
	return check_fields(m, what) ? -EPROTO : 0;
}
