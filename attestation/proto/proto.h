/* proto.h - what the guest agent (cvmm-agent serve), the host attestation
 * endpoint (cvmm run --attest-listen) and the relying party (cvmm attest)
 * share: the report_data binding, the agent's wire protocol, and the secret
 * wrapping (docs/attestation.md). Linked into libcvmm.a and into the static
 * cvmm-agent (Makefile: attestation/proto/ is in both), so it depends on
 * common/ and OpenSSL libcrypto only (no jansson, no HTTP).
 *
 * Trust: everything decoded here comes from a peer that may be hostile (the
 * host relays agent traffic; the guest answers the host). Every decoder is a
 * bounds-checked reader over (pointer, length) with a fuzz target. */
#ifndef CVMM_ATTESTATION_PROTO_H
#define CVMM_ATTESTATION_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define ATT_AGENT_PORT     4050u      /* cvmm-agent serve: default vsock port */
#define ATT_NONCE_MIN      16u
#define ATT_NONCE_MAX      64u
#define ATT_PUBKEY_LEN     32u        /* X25519 public key (RFC 7748) */
#define ATT_SECRET_MAX     (64u << 10)
#define ATT_SECRET_NAME_MAX 128u
#define ATT_FRAME_MAX      (256u << 10) /* largest frame payload accepted */
#define ATT_EVENT_LOG_MAX  (128u << 10) /* EVENT_LOG TLV (a CCEL) */

/* ---------------- report_data binding ----------------
 * report_data = SHA-512("cvmm-attest-v1" 0x00 || u16le(len(nonce)) || nonce
 *                       || u16le(len(pubkey)) || pubkey)
 * Binds the relying party's nonce (freshness) and the agent's ephemeral
 * public key (the channel ends inside the measured guest). nonce is
 * ATT_NONCE_MIN..ATT_NONCE_MAX bytes, pubkey ATT_PUBKEY_LEN. */
int att_bind_report_data(const uint8_t *nonce, size_t nonce_len, const uint8_t *pubkey, size_t pubkey_len,
			 uint8_t out[64]);

/* ---------------- agent wire protocol ----------------
 * Stream transport (vsock or a Unix socket). One frame each way per request:
 *   u32le magic ATT_FRAME_MAGIC ("CVAG") | u16le version (1) | u16le type |
 *   u32le payload length (<= ATT_FRAME_MAX) | payload
 * The payload is a list of TLVs: u16le tag | u32le length | bytes. Unknown
 * tags are an error (no silent ignoring); each tag at most once. */
#define ATT_FRAME_MAGIC 0x47415643u /* "CVAG" little-endian */
#define ATT_FRAME_VERSION 1u
#define ATT_FRAME_HDR 12u

enum att_msg_type {
	ATT_MSG_EVIDENCE_REQ = 1, /* TLV NONCE */
	ATT_MSG_EVIDENCE_RSP = 2, /* PLATFORM, PROVIDER, REPORT, [CERT_TABLE], PUBKEY, [EVENT_LOG] */
	ATT_MSG_SECRET_REQ = 3,   /* NONCE, NAME, EPH_PUBKEY, CIPHERTEXT */
	ATT_MSG_SECRET_RSP = 4,   /* (empty payload: stored) */
	ATT_MSG_ERROR = 0xff,     /* MESSAGE */
};

enum att_tlv_tag {
	ATT_TLV_NONCE = 1,
	ATT_TLV_PLATFORM = 2,   /* "snp" | "tdx" */
	ATT_TLV_PROVIDER = 3,   /* "configfs-tsm:sev_guest", "sev-guest", "tdx-guest", "sim" ... */
	ATT_TLV_REPORT = 4,     /* SNP report / TDX quote bytes as the source gave them */
	ATT_TLV_CERT_TABLE = 5, /* SNP extended-report certificate table (GUID table) */
	ATT_TLV_PUBKEY = 6,     /* the agent's X25519 public key */
	ATT_TLV_NAME = 7,       /* secret name: a plain file name */
	ATT_TLV_EPH_PUBKEY = 8, /* the sender's ephemeral X25519 public key */
	ATT_TLV_CIPHERTEXT = 9, /* AES-256-GCM ciphertext || 16-byte tag */
	ATT_TLV_MESSAGE = 10,   /* error text (printable ASCII, <= 256 bytes) */
	ATT_TLV_EVENT_LOG = 11, /* TDX: CCEL-format event log of the RTMRs (<= ATT_EVENT_LOG_MAX) */
};

/* A decoded message. Byte fields point into the decoded buffer. */
struct att_msg {
	enum att_msg_type type;
	const uint8_t *nonce;      size_t nonce_len;
	const uint8_t *platform;   size_t platform_len;
	const uint8_t *provider;   size_t provider_len;
	const uint8_t *report;     size_t report_len;
	const uint8_t *cert_table; size_t cert_table_len;
	const uint8_t *pubkey;     size_t pubkey_len;
	const uint8_t *name;       size_t name_len;
	const uint8_t *eph_pubkey; size_t eph_pubkey_len;
	const uint8_t *ciphertext; size_t ciphertext_len;
	const uint8_t *message;    size_t message_len;
	const uint8_t *event_log;  size_t event_log_len;
};

/* Encode m (fields with a NULL pointer are left out) as one frame appended
 * to out. */
int att_msg_encode(const struct att_msg *m, struct bytebuf *out);
/* Parse the 12-byte header: *type and *payload_len (checked against
 * ATT_FRAME_MAX). what names the peer in errors. */
int att_frame_header(const uint8_t hdr[ATT_FRAME_HDR], const char *what, uint16_t *type, uint32_t *payload_len);
/* Decode one whole frame (header + payload, exactly len bytes) and check
 * that the message has the tags its type requires, each well-formed (nonce
 * length, pubkey length, name a plain file name, ...). */
int att_msg_decode(const uint8_t *buf, size_t len, const char *what, struct att_msg *m);

/* Transport addresses: "vsock:CID:PORT" or "unix:PATH" (listening: CID
 * "any" is VMADDR_CID_ANY; a leftover socket file at PATH is replaced). */
int att_sock_connect(const char *addr, int timeout_ms);
int att_sock_listen(const char *addr);
/* Send a frame / receive one whole frame (header first, then the payload;
 * bounded by ATT_FRAME_MAX, each read bounded by timeout_ms). recv returns
 * -ENODATA when the peer closed cleanly before a new frame, -ETIMEDOUT when
 * a read waited timeout_ms; frame is replaced (not appended to). */
int att_sock_send(int fd, const struct bytebuf *frame);
int att_sock_recv(int fd, int timeout_ms, const char *what, struct bytebuf *frame);
/* Read exactly n bytes (partial reads, EINTR; each wait bounded by
 * timeout_ms): for other stream protocols on the same transport (the sim
 * channel). what names the peer in errors. */
int att_sock_read(int fd, void *buf, size_t n, int timeout_ms, const char *what);
/* One request/response exchange on a new connection to addr. An ERROR
 * answer gives -EREMOTEIO with the agent's message (rsp still decoded); an
 * answer of the wrong type -EPROTO. */
int att_agent_call(const char *addr, int timeout_ms, const struct att_msg *req, struct bytebuf *rsp_frame,
		   struct att_msg *rsp);

/* ---------------- secret wrapping ----------------
 * X25519 ECDH between a fresh sender key and the agent's key; HKDF-SHA256
 * (salt = nonce, info = "cvmm-secret-v1" || agent pubkey || eph pubkey ||
 * name) gives a 32-byte AES key and a 12-byte IV; AES-256-GCM with
 * AAD = nonce || name. The nonce is the one of the attestation that
 * convinced the sender: the agent accepts a secret only for a nonce it
 * answered and has not consumed yet (no replay). */
struct att_wrapped {
	uint8_t eph_pubkey[ATT_PUBKEY_LEN];
	struct bytebuf ciphertext; /* ciphertext || tag */
};
int att_secret_wrap(const uint8_t agent_pub[ATT_PUBKEY_LEN], const uint8_t *nonce, size_t nonce_len,
		    const char *name, const uint8_t *secret, size_t secret_len, struct att_wrapped *out);
/* agent_priv: the 32-byte X25519 private key. -EBADMSG for a secret that
 * is not for this key or was tampered with. */
int att_secret_unwrap(const uint8_t agent_priv[32], const uint8_t *nonce, size_t nonce_len, const char *name,
		      const uint8_t eph_pub[ATT_PUBKEY_LEN], const uint8_t *ct, size_t ct_len, struct bytebuf *secret);
/* A fresh X25519 key pair. */
int att_x25519_keygen(uint8_t priv[32], uint8_t pub[ATT_PUBKEY_LEN]);
/* A plain file name: 1..ATT_SECRET_NAME_MAX bytes of [A-Za-z0-9._-], not
 * starting with '.'. */
bool att_secret_name_ok(const uint8_t *name, size_t len);

#endif
