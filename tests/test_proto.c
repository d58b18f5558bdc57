/* test_proto.c - attestation/proto: the report_data binding (known answer
 * computed here independently), agent frame encode/decode and every decoder
 * rejection, secret wrapping and its refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "attestation/proto/proto.h"

static const uint8_t NONCE[20] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
				   0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13 };
static const uint8_t PUB[32] = { 0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28 };

static void test_binding_known_answer(void **state)
{
	/* "cvmm-attest-v1" NUL | u16le 20 | nonce | u16le 32 | pubkey */
	uint8_t msg[15 + 2 + sizeof(NONCE) + 2 + sizeof(PUB)], want[64], got[64];
	unsigned int n = 0;
	size_t off = 0;

	(void)state;
	memcpy(msg, "cvmm-attest-v1", 15); /* with its NUL */
	off = 15;
	msg[off++] = 20;
	msg[off++] = 0;
	memcpy(msg + off, NONCE, sizeof(NONCE));
	off += sizeof(NONCE);
	msg[off++] = 32;
	msg[off++] = 0;
	memcpy(msg + off, PUB, sizeof(PUB));
	off += sizeof(PUB);
	assert_int_equal(off, sizeof(msg));
	assert_true(EVP_Digest(msg, sizeof(msg), want, &n, EVP_sha512(), NULL));
	assert_int_equal(n, 64);
	assert_int_equal(att_bind_report_data(NONCE, sizeof(NONCE), PUB, sizeof(PUB), got), 0);
	assert_memory_equal(got, want, 64);
	/* a different nonce or key gives a different binding */
	{
		uint8_t other[32], got2[64];

		memcpy(other, PUB, 32);
		other[31] ^= 1;
		assert_int_equal(att_bind_report_data(NONCE, sizeof(NONCE), other, 32, got2), 0);
		assert_memory_not_equal(got, got2, 64);
		assert_int_equal(att_bind_report_data(NONCE, 16, PUB, 32, got2), 0);
		assert_memory_not_equal(got, got2, 64);
	}
	assert_int_equal(att_bind_report_data(NONCE, 15, PUB, 32, got), -EINVAL);
	assert_int_equal(att_bind_report_data(NONCE, 65, PUB, 32, got), -EINVAL);
	assert_int_equal(att_bind_report_data(NONCE, 16, PUB, 31, got), -EINVAL);
}

static void encode(const struct att_msg *m, struct bytebuf *b)
{
	b->len = 0;
	assert_int_equal(att_msg_encode(m, b), 0);
}

static void test_roundtrip(void **state)
{
	static const uint8_t report[1184] = { 2, 0, 0, 0, 0xff };
	static const uint8_t ct[40] = { 9 };
	struct att_msg m = { .type = ATT_MSG_EVIDENCE_RSP, .platform = (const uint8_t *)"snp", .platform_len = 3,
			     .provider = (const uint8_t *)"sim", .provider_len = 3, .report = report,
			     .report_len = sizeof(report), .cert_table = (const uint8_t *)"certs", .cert_table_len = 5,
			     .pubkey = PUB, .pubkey_len = 32 };
	struct bytebuf b = { 0 };
	struct att_msg d;
	uint16_t type;
	uint32_t plen;

	(void)state;
	encode(&m, &b);
	assert_int_equal(att_frame_header(b.data, "t", &type, &plen), 0);
	assert_int_equal(type, ATT_MSG_EVIDENCE_RSP);
	assert_int_equal(plen, b.len - ATT_FRAME_HDR);
	assert_int_equal(att_msg_decode(b.data, b.len, "t", &d), 0);
	assert_int_equal(d.type, ATT_MSG_EVIDENCE_RSP);
	assert_int_equal(d.report_len, sizeof(report));
	assert_memory_equal(d.report, report, sizeof(report));
	assert_int_equal(d.cert_table_len, 5);
	assert_memory_equal(d.cert_table, "certs", 5);
	assert_memory_equal(d.pubkey, PUB, 32);
	assert_memory_equal(d.platform, "snp", 3);
	assert_null(d.nonce);

	m = (struct att_msg){ .type = ATT_MSG_SECRET_REQ, .nonce = NONCE, .nonce_len = 16,
			      .name = (const uint8_t *)"disk-key.bin", .name_len = 12, .eph_pubkey = PUB,
			      .eph_pubkey_len = 32, .ciphertext = ct, .ciphertext_len = sizeof(ct) };
	encode(&m, &b);
	assert_int_equal(att_msg_decode(b.data, b.len, "t", &d), 0);
	assert_int_equal(d.type, ATT_MSG_SECRET_REQ);
	assert_int_equal(d.name_len, 12);
	assert_memory_equal(d.name, "disk-key.bin", 12);
	assert_int_equal(d.ciphertext_len, sizeof(ct));

	m = (struct att_msg){ .type = ATT_MSG_SECRET_RSP };
	encode(&m, &b);
	assert_int_equal(b.len, ATT_FRAME_HDR);
	assert_int_equal(att_msg_decode(b.data, b.len, "t", &d), 0);
	assert_int_equal(d.type, ATT_MSG_SECRET_RSP);

	m = (struct att_msg){ .type = ATT_MSG_ERROR, .message = (const uint8_t *)"no", .message_len = 2 };
	encode(&m, &b);
	assert_int_equal(att_msg_decode(b.data, b.len, "t", &d), 0);
	assert_int_equal(d.message_len, 2);
	bb_free(&b);
}

/* A raw frame: header for type, then the TLVs given as (tag, len, byte
 * value repeated) triples. */
struct tlv {
	uint16_t tag;
	uint32_t len;
	uint8_t fill;
	const char *text; /* instead of fill */
};

static void frame(struct bytebuf *b, uint16_t type, const struct tlv *t, size_t n)
{
	uint8_t hdr[12], th[6];

	b->len = 0;
	put_le32(hdr, ATT_FRAME_MAGIC);
	put_le16(hdr + 4, 1);
	put_le16(hdr + 6, type);
	put_le32(hdr + 8, 0);
	assert_int_equal(bb_append(b, hdr, 12), 0);
	for (size_t i = 0; i < n; i++) {
		put_le16(th, t[i].tag);
		put_le32(th + 2, t[i].len);
		assert_int_equal(bb_append(b, th, 6), 0);
		for (uint32_t j = 0; j < t[i].len; j++)
			assert_int_equal(bb_append(b, t[i].text ? (const void *)&t[i].text[j] : (const void *)&t[i].fill, 1), 0);
	}
	put_le32(b->data + 8, (uint32_t)(b->len - 12));
}

static int decode(const struct bytebuf *b)
{
	struct att_msg d;

	return att_msg_decode(b->data, b->len, "t", &d);
}

#define GOOD_SECRET_TLVS(name)                                                                               \
	{ ATT_TLV_NONCE, 16, 1, NULL }, { ATT_TLV_NAME, (uint32_t)strlen(name), 0, name },                     \
		{ ATT_TLV_EPH_PUBKEY, 32, 2, NULL }, { ATT_TLV_CIPHERTEXT, 16, 3, NULL }

static void expect_secret_req(const char *name, int want)
{
	struct tlv t[] = { GOOD_SECRET_TLVS(name) };
	struct bytebuf b = { 0 };

	frame(&b, ATT_MSG_SECRET_REQ, t, 4);
	assert_int_equal(decode(&b), want);
	bb_free(&b);
}

static void test_decode_rejects(void **state)
{
	struct bytebuf b = { 0 };
	struct tlv nonce16 = { ATT_TLV_NONCE, 16, 7, NULL };

	(void)state;
	frame(&b, ATT_MSG_EVIDENCE_REQ, &nonce16, 1);
	assert_int_equal(decode(&b), 0);
	/* bad magic, version */
	b.data[0] ^= 1;
	assert_int_equal(decode(&b), -EPROTO);
	b.data[0] ^= 1;
	b.data[4] = 2;
	assert_int_equal(decode(&b), -EPROTO);
	b.data[4] = 1;
	/* truncated: shorter than the header, payload shorter than stated */
	assert_int_equal(att_msg_decode(b.data, 11, "t", &(struct att_msg){ 0 }), -EPROTO);
	assert_int_equal(att_msg_decode(b.data, b.len - 1, "t", &(struct att_msg){ 0 }), -EPROTO);
	/* trailing bytes after the frame */
	assert_int_equal(bb_append(&b, "x", 1), 0);
	assert_int_equal(decode(&b), -EPROTO);
	/* a TLV whose length runs past the payload (header length consistent) */
	frame(&b, ATT_MSG_EVIDENCE_REQ, &nonce16, 1);
	put_le32(b.data + 12 + 2, 17);
	assert_int_equal(decode(&b), -EPROTO);
	/* trailing bytes inside the payload: a partial TLV header */
	frame(&b, ATT_MSG_EVIDENCE_REQ, &nonce16, 1);
	assert_int_equal(bb_append(&b, "\x01\x00", 2), 0);
	put_le32(b.data + 8, (uint32_t)(b.len - 12));
	assert_int_equal(decode(&b), -EPROTO);
	/* frame larger than ATT_FRAME_MAX */
	frame(&b, ATT_MSG_EVIDENCE_REQ, &nonce16, 1);
	put_le32(b.data + 8, ATT_FRAME_MAX + 1);
	assert_int_equal(decode(&b), -EPROTO);
	{
		uint16_t type;
		uint32_t plen;

		assert_int_equal(att_frame_header(b.data, "t", &type, &plen), -EMSGSIZE);
	}
	/* duplicate, unknown, not-allowed tag; unknown type; missing tag */
	{
		struct tlv dup[] = { nonce16, nonce16 };
		struct tlv unk[] = { nonce16, { 99, 1, 0, NULL } };
		struct tlv extra[] = { nonce16, { ATT_TLV_PUBKEY, 32, 0, NULL } };

		frame(&b, ATT_MSG_EVIDENCE_REQ, dup, 2);
		assert_int_equal(decode(&b), -EPROTO);
		frame(&b, ATT_MSG_EVIDENCE_REQ, unk, 2);
		assert_int_equal(decode(&b), -EPROTO);
		frame(&b, ATT_MSG_EVIDENCE_REQ, extra, 2);
		assert_int_equal(decode(&b), -EPROTO);
		frame(&b, 77, &nonce16, 1);
		assert_int_equal(decode(&b), -EPROTO);
		frame(&b, ATT_MSG_EVIDENCE_REQ, NULL, 0);
		assert_int_equal(decode(&b), -EPROTO);
		frame(&b, ATT_MSG_SECRET_RSP, &nonce16, 1);
		assert_int_equal(decode(&b), -EPROTO);
	}
	/* nonce length: 15 and 65 refused, 64 fine */
	{
		struct tlv n15 = { ATT_TLV_NONCE, 15, 0, NULL }, n64 = { ATT_TLV_NONCE, 64, 0, NULL },
			   n65 = { ATT_TLV_NONCE, 65, 0, NULL };

		frame(&b, ATT_MSG_EVIDENCE_REQ, &n15, 1);
		assert_int_equal(decode(&b), -EPROTO);
		frame(&b, ATT_MSG_EVIDENCE_REQ, &n65, 1);
		assert_int_equal(decode(&b), -EPROTO);
		frame(&b, ATT_MSG_EVIDENCE_REQ, &n64, 1);
		assert_int_equal(decode(&b), 0);
	}
	/* pubkey lengths, platform, report size, error message */
	{
		struct tlv rsp[] = { { ATT_TLV_PLATFORM, 3, 0, "snp" }, { ATT_TLV_PROVIDER, 3, 0, "sim" },
				     { ATT_TLV_REPORT, 1184, 0, NULL }, { ATT_TLV_PUBKEY, 32, 0, NULL } };

		frame(&b, ATT_MSG_EVIDENCE_RSP, rsp, 4);
		assert_int_equal(decode(&b), 0);
		rsp[3].len = 31;
		frame(&b, ATT_MSG_EVIDENCE_RSP, rsp, 4);
		assert_int_equal(decode(&b), -EPROTO);
		rsp[3].len = 32;
		rsp[0].text = "sev";
		frame(&b, ATT_MSG_EVIDENCE_RSP, rsp, 4);
		assert_int_equal(decode(&b), -EPROTO);
		rsp[0].text = "tdx";
		rsp[2].len = (64u << 10) + 1;
		frame(&b, ATT_MSG_EVIDENCE_RSP, rsp, 4);
		assert_int_equal(decode(&b), -EPROTO);
		rsp[2].len = 0;
		frame(&b, ATT_MSG_EVIDENCE_RSP, rsp, 3); /* no PUBKEY */
		assert_int_equal(decode(&b), -EPROTO);
	}
	{
		struct tlv msg = { ATT_TLV_MESSAGE, 4, 0, "a\nb!" }, big = { ATT_TLV_MESSAGE, 257, 'x', NULL };

		frame(&b, ATT_MSG_ERROR, &msg, 1);
		assert_int_equal(decode(&b), -EPROTO);
		frame(&b, ATT_MSG_ERROR, &big, 1);
		assert_int_equal(decode(&b), -EPROTO);
		big.len = 256;
		frame(&b, ATT_MSG_ERROR, &big, 1);
		assert_int_equal(decode(&b), 0);
	}
	/* SECRET_REQ: eph pubkey and ciphertext sizes */
	{
		struct tlv t[] = { GOOD_SECRET_TLVS("k") };

		frame(&b, ATT_MSG_SECRET_REQ, t, 4);
		assert_int_equal(decode(&b), 0);
		t[2].len = 33;
		frame(&b, ATT_MSG_SECRET_REQ, t, 4);
		assert_int_equal(decode(&b), -EPROTO);
		t[2].len = 32;
		t[3].len = 15;
		frame(&b, ATT_MSG_SECRET_REQ, t, 4);
		assert_int_equal(decode(&b), -EPROTO);
		t[3].len = ATT_SECRET_MAX + 17;
		frame(&b, ATT_MSG_SECRET_REQ, t, 4);
		assert_int_equal(decode(&b), -EPROTO);
		t[3].len = ATT_SECRET_MAX + 16;
		frame(&b, ATT_MSG_SECRET_REQ, t, 4);
		assert_int_equal(decode(&b), 0);
	}
	bb_free(&b);
}

static void test_names(void **state)
{
	char longname[ATT_SECRET_NAME_MAX + 2];

	(void)state;
	expect_secret_req("disk.key", 0);
	expect_secret_req("A-b_c.9", 0);
	expect_secret_req("../x", -EPROTO);
	expect_secret_req(".hidden", -EPROTO);
	expect_secret_req("a/b", -EPROTO);
	expect_secret_req("..", -EPROTO);
	expect_secret_req("a b", -EPROTO);
	expect_secret_req("", -EPROTO);
	assert_false(att_secret_name_ok((const uint8_t *)"a\0b", 3));
	memset(longname, 'a', sizeof(longname));
	assert_true(att_secret_name_ok((const uint8_t *)longname, ATT_SECRET_NAME_MAX));
	assert_false(att_secret_name_ok((const uint8_t *)longname, ATT_SECRET_NAME_MAX + 1));
}

static void test_wrap(void **state)
{
	static const uint8_t secret[] = "correct horse battery staple\n\0binary";
	uint8_t priv[32], pub[32], priv2[32], pub2[32], nonce2[20];
	struct att_wrapped w = { 0 };
	struct bytebuf out = { 0 };

	(void)state;
	assert_int_equal(att_x25519_keygen(priv, pub), 0);
	assert_int_equal(att_x25519_keygen(priv2, pub2), 0);
	assert_memory_not_equal(pub, pub2, 32);
	assert_int_equal(att_secret_wrap(pub, NONCE, sizeof(NONCE), "disk-key", secret, sizeof(secret), &w), 0);
	assert_int_equal(w.ciphertext.len, sizeof(secret) + 16);
	assert_memory_not_equal(w.ciphertext.data, secret, sizeof(secret));
	assert_int_equal(att_secret_unwrap(priv, NONCE, sizeof(NONCE), "disk-key", w.eph_pubkey, w.ciphertext.data,
					   w.ciphertext.len, &out),
			 0);
	assert_int_equal(out.len, sizeof(secret));
	assert_memory_equal(out.data, secret, sizeof(secret));
	/* another agent's key */
	out.len = 0;
	assert_int_equal(att_secret_unwrap(priv2, NONCE, sizeof(NONCE), "disk-key", w.eph_pubkey, w.ciphertext.data,
					   w.ciphertext.len, &out),
			 -EBADMSG);
	assert_int_equal(out.len, 0);
	/* changed name, nonce */
	assert_int_equal(att_secret_unwrap(priv, NONCE, sizeof(NONCE), "disk-kez", w.eph_pubkey, w.ciphertext.data,
					   w.ciphertext.len, &out),
			 -EBADMSG);
	memcpy(nonce2, NONCE, sizeof(nonce2));
	nonce2[0] ^= 0x80;
	assert_int_equal(att_secret_unwrap(priv, nonce2, sizeof(nonce2), "disk-key", w.eph_pubkey, w.ciphertext.data,
					   w.ciphertext.len, &out),
			 -EBADMSG);
	assert_int_equal(att_secret_unwrap(priv, NONCE, 16, "disk-key", w.eph_pubkey, w.ciphertext.data,
					   w.ciphertext.len, &out),
			 -EBADMSG);
	/* tampered ciphertext, tag, eph key */
	w.ciphertext.data[0] ^= 1;
	assert_int_equal(att_secret_unwrap(priv, NONCE, sizeof(NONCE), "disk-key", w.eph_pubkey, w.ciphertext.data,
					   w.ciphertext.len, &out),
			 -EBADMSG);
	w.ciphertext.data[0] ^= 1;
	w.ciphertext.data[w.ciphertext.len - 1] ^= 1;
	assert_int_equal(att_secret_unwrap(priv, NONCE, sizeof(NONCE), "disk-key", w.eph_pubkey, w.ciphertext.data,
					   w.ciphertext.len, &out),
			 -EBADMSG);
	w.ciphertext.data[w.ciphertext.len - 1] ^= 1;
	w.eph_pubkey[5] ^= 1;
	assert_int_equal(att_secret_unwrap(priv, NONCE, sizeof(NONCE), "disk-key", w.eph_pubkey, w.ciphertext.data,
					   w.ciphertext.len, &out),
			 -EBADMSG);
	w.eph_pubkey[5] ^= 1;
	/* a truncated ciphertext (tag cut off) */
	assert_int_equal(att_secret_unwrap(priv, NONCE, sizeof(NONCE), "disk-key", w.eph_pubkey, w.ciphertext.data,
					   15, &out),
			 -EBADMSG);
	/* a low-order (all-zero) sender key gives no shared secret */
	{
		static const uint8_t zero[32];

		assert_int_equal(att_secret_unwrap(priv, NONCE, sizeof(NONCE), "disk-key", zero, w.ciphertext.data,
						   w.ciphertext.len, &out),
				 -EBADMSG);
	}
	assert_int_equal(out.len, 0);
	/* still intact after all that */
	assert_int_equal(att_secret_unwrap(priv, NONCE, sizeof(NONCE), "disk-key", w.eph_pubkey, w.ciphertext.data,
					   w.ciphertext.len, &out),
			 0);
	assert_memory_equal(out.data, secret, sizeof(secret));
	/* bad arguments */
	bb_free(&w.ciphertext);
	assert_int_equal(att_secret_wrap(pub, NONCE, sizeof(NONCE), "../x", secret, 4, &w), -EINVAL);
	assert_int_equal(att_secret_wrap(pub, NONCE, 8, "k", secret, 4, &w), -EINVAL);
	/* an empty secret is fine */
	assert_int_equal(att_secret_wrap(pub, NONCE, 16, "empty", NULL, 0, &w), 0);
	assert_int_equal(w.ciphertext.len, 16);
	out.len = 0;
	assert_int_equal(att_secret_unwrap(priv, NONCE, 16, "empty", w.eph_pubkey, w.ciphertext.data,
					   w.ciphertext.len, &out),
			 0);
	assert_int_equal(out.len, 0);
	bb_free(&w.ciphertext);
	bb_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binding_known_answer), cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_decode_rejects),	     cmocka_unit_test(test_names),
		cmocka_unit_test(test_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
