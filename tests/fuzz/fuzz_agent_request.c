/* libFuzzer target: the agent wire protocol decoder (att_msg_decode), what
 * cvmm-agent serve runs on every frame the host relays, and what the host
 * runs on the agent's answers. Any input gives 0 or -errno; a decoded
 * message's fields lie inside the input, have the sizes its type requires,
 * and a SECRET_REQ's name passes att_secret_name_ok. Decoded messages are
 * re-encoded and must decode to the same bytes. Seeds: tests/fuzz/seeds/agent_request/. */
#include <stdlib.h>
#include <string.h>

#include "attestation/proto/proto.h"

static void inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
	if (p && (p < data || (size_t)(p - data) > size || n > size - (size_t)(p - data)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct att_msg m;
	struct bytebuf b = { 0 };
	int ret = att_msg_decode(data, size, "fuzz", &m);

	if (ret > 0)
		abort();
	if (ret)
		return 0;
	inside(m.nonce, m.nonce_len, data, size);
	inside(m.report, m.report_len, data, size);
	inside(m.cert_table, m.cert_table_len, data, size);
	inside(m.ciphertext, m.ciphertext_len, data, size);
	inside(m.message, m.message_len, data, size);
	if (m.type == ATT_MSG_SECRET_REQ &&
	    (!att_secret_name_ok(m.name, m.name_len) || m.eph_pubkey_len != ATT_PUBKEY_LEN ||
	     m.nonce_len < ATT_NONCE_MIN || m.nonce_len > ATT_NONCE_MAX || m.ciphertext_len < 16))
		abort();
	if (m.type == ATT_MSG_EVIDENCE_REQ && (m.nonce_len < ATT_NONCE_MIN || m.nonce_len > ATT_NONCE_MAX))
		abort();
	/* Same content, canonical tag order: decodes again to the same fields. */
	if (att_msg_encode(&m, &b))
		abort();
	{
		struct att_msg d;

		if (b.len != size || att_msg_decode(b.data, b.len, "fuzz", &d) || d.type != m.type ||
		    d.nonce_len != m.nonce_len || (m.nonce && memcmp(d.nonce, m.nonce, m.nonce_len)) ||
		    d.name_len != m.name_len || (m.name && memcmp(d.name, m.name, m.name_len)))
			abort();
	}
	bb_free(&b);
	return 0;
}
