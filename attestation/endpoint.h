/* endpoint.h - internals of the host attestation endpoint (endpoint*.c) and
 * of `cvmm attest` that tests and fuzz targets call without a server: the
 * JSON request parsers, the evidence bundle (built by the endpoint, parsed
 * by cvmm attest), and the TLS certificate the endpoint serves. */
#ifndef CVMM_ATTESTATION_ENDPOINT_H
#define CVMM_ATTESTATION_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "attestation/attestation.h"
#include "attestation/proto/proto.h"

#define ATT_EP_BODY_MAX (128u << 10)      /* largest request body; more -> 413 */
#define ATT_EP_TIMEOUT_S 10u             /* idle connection cut after this */
#define ATT_EP_AGENT_TIMEOUT_MS 30000u   /* default wait for the guest agent's answer */
#define ATT_BUNDLE_MAX (4u << 20)        /* largest bundle cvmm attest reads */
#define ATT_BUNDLE_REPORT_MAX (64u << 10) /* SNP report / TDX quote */
#define ATT_BUNDLE_CERTS_MAX (128u << 10) /* SNP certificate table */
#define ATT_BUNDLE_MANIFEST_MAX (1u << 20)

/* ---- requests (endpoint_json.c) ----
 * POST /v1/evidence {"nonce": hex (ATT_NONCE_MIN..ATT_NONCE_MAX bytes)} */
int att_ep_parse_evidence_req(const char *body, size_t len, uint8_t nonce[ATT_NONCE_MAX], size_t *nonce_len);

/* POST /v1/secret {"nonce": hex, "name": "...", "ephemeral_pubkey": hex (32
 * bytes), "ciphertext": base64}. */
struct att_ep_secret_req {
	uint8_t nonce[ATT_NONCE_MAX];
	size_t nonce_len;
	char name[ATT_SECRET_NAME_MAX + 1];
	uint8_t eph_pubkey[ATT_PUBKEY_LEN];
	uint8_t *ciphertext; /* malloc'ed */
	size_t ciphertext_len;
};
int att_ep_parse_secret_req(const char *body, size_t len, struct att_ep_secret_req *req);
void att_ep_secret_req_free(struct att_ep_secret_req *req);
/* The ATT_MSG_SECRET_REQ for req (pointers into req). */
void att_ep_secret_msg(const struct att_ep_secret_req *req, struct att_msg *m);

/* ---- the evidence bundle (endpoint_json.c) ----
 * The answer to POST /v1/evidence, version 1:
 *   {"version": 1,
 *    "platform": "snp" | "tdx",          from the agent
 *    "provider": "...",                  where the agent got it ("sim", "configfs-tsm:sev_guest", ...)
 *    "nonce": hex,                       the relying party's nonce, echoed
 *    "report": base64,                   SNP report / TDX quote as the agent gave it
 *    "cert_table": base64,               SNP extended-report certificate table (when the agent had one)
 *    "agent_pubkey": hex,                the agent's X25519 key (32 bytes)
 *    "launch": {...},                    the launch inputs the host states (when configured)
 *    "manifest": base64}                 device manifest DTB (when configured)
 * Everything in it is relayed or stated by the host: the relying party
 * trusts only what the report's signature and binding prove. */
json_t *att_ep_bundle(const struct att_msg *rsp, const uint8_t *nonce, size_t nonce_len, json_t *launch,
		      const uint8_t *manifest, size_t manifest_len);

/* cvmm attest's side: decode and check every field (sizes, hex, base64). */
struct att_bundle {
	char platform[4];
	char provider[64];
	uint8_t nonce[ATT_NONCE_MAX];
	size_t nonce_len;
	uint8_t *report, *cert_table, *manifest; /* malloc'ed; cert_table, manifest may be NULL */
	size_t report_len, cert_table_len, manifest_len;
	uint8_t agent_pubkey[ATT_PUBKEY_LEN];
	json_t *launch; /* a reference, or NULL */
	uint8_t *event_log; /* TDX: the CCEL of the RTMRs (malloc'ed), may be NULL */
	size_t event_log_len;
};
int att_bundle_parse(const char *body, size_t len, struct att_bundle *b);
void att_bundle_free(struct att_bundle *b);

/* cvmm attest's HTTPS POST of a JSON body (attest_http.c): TLS 1.3, the
 * server authenticated by cacert (a CA file), pin (the SHA-256 of the leaf
 * certificate's DER, 32 bytes) or, with neither, the system CAs. The answer
 * body (at most ATT_BUNDLE_MAX bytes) replaces rsp's contents. */
struct att_https {
	const char *cacert;
	const uint8_t *pin;
	long timeout_s;
};
int att_https_post(const struct att_https *h, const char *url, const char *body, struct bytebuf *rsp, long *status);

/* ---- TLS certificate (endpoint_tls.c) ---- */
struct att_ep_tls {
	char *cert_pem, *key_pem; /* malloc'ed, NUL-terminated */
	uint8_t fingerprint[32];  /* SHA-256 of the leaf certificate's DER */
	bool self_signed;
};
/* A fresh ECDSA P-256 key and a self-signed certificate for host (CN and
 * subjectAltName: IP when host is an address, else DNS). */
int att_ep_tls_self_signed(const char *host, struct att_ep_tls *t);
int att_ep_tls_load(const char *cert_path, const char *key_path, struct att_ep_tls *t);
void att_ep_tls_free(struct att_ep_tls *t);

/* The port the endpoint listens on (useful with port 0). */
unsigned att_endpoint_port(const struct att_endpoint *ep);

/* If set, att_endpoint_start calls it in its own thread just before
 * libmicrohttpd creates its threads, which inherit that thread's seccomp
 * filter (cvmm run installs the api role there: vmm/confine). Nonzero
 * (negative errno) fails the start. */
extern int (*att_endpoint_before_threads)(void);

#endif
