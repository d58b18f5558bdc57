/* attestation.h - evidence formats (SNP report, TDX quote), certificate
 * chains, policy, `cvmm verify`/`show`/`fetch-certs`, the endpoint. */
#ifndef CVMM_ATTESTATION_H
#define CVMM_ATTESTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

/* ---------------- CLI entry points ---------------- */
int att_cli_verify(int argc, char **argv);
int att_cli_show(int argc, char **argv);
int att_cli_fetch_certs(int argc, char **argv);

/* ---------------- verification result (shared by SNP and TDX) ----------------
 * Every check that runs is recorded, failed or not: nothing is silently
 * accepted. The class of a check decides what its failure means:
 *   ATT_AUTH     authenticity (signature, chain, CRL, binding): failure -> evidence invalid
 *   ATT_POLICY   a requirement of the policy/flags: failure -> contraindicated
 *   ATT_ADVISORY a property a policy would likely reject (DEBUG allowed, TCB out
 *                of date, collateral expired) with no policy saying so: failure -> warning */
enum att_class { ATT_AUTH, ATT_POLICY, ATT_ADVISORY };
enum att_status { ATT_AFFIRMING, ATT_WARNING, ATT_CONTRAINDICATED };

struct att_result {
	const char *platform; /* "snp" | "tdx" */
	json_t *checks;       /* array of {"name", "ok", "detail"} */
	json_t *claims;       /* object: platform claims, lowercase hex for byte fields */
	bool auth_failed;     /* some ATT_AUTH check failed */
	bool policy_failed;   /* some ATT_POLICY check failed */
	bool warned;          /* some ATT_ADVISORY check failed */
	bool simulated;       /* the accepted root is not AMD's/Intel's: a simulated platform */
	bool strict;          /* policy "strict": a failed ATT_ADVISORY check is recorded as ATT_POLICY */
};

int att_result_init(struct att_result *r, const char *platform);
void att_result_free(struct att_result *r);
/* Record one check; returns ok. */
bool att_check(struct att_result *r, enum att_class cls, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
enum att_status att_result_status(const struct att_result *r);
const char *att_status_name(enum att_status s);
/* A freshness check of collateral (CRL, TCB info, QE identity) whose next
 * update is next_update: current at `at` -> passed; past it -> with the
 * policy's collateral_grace_period, a policy check (passed while within the
 * grace); without it, an advisory failure (refused under "strict"). */
void att_check_fresh(struct att_result *r, const json_t *policy, const char *name, time_t at, time_t next_update,
		     const char *what);
/* claims helpers */
void att_claim_hex(struct att_result *r, const char *name, const uint8_t *p, size_t n);

/* ---------------- verification inputs ----------------
 * policy: the parsed policy JSON (file merged with command-line flags), or
 * NULL. Its "snp" and "tdx" objects hold the per-platform requirements
 * (docs/verify.md). */
struct att_options {
	const char *certs_dir;      /* SNP: vcek.der/vlek.der, ask.pem, asvk.pem, ark.pem, crl */
	const char *collateral_dir; /* TDX: tcbinfo.json, qe_identity.json, pckcrl.der, rootcrl.der */
	json_t *policy;
	time_t at;                  /* evaluation time (0 = now) */
	bool allow_sim;             /* trust cvmm's simulated roots */
	/* SNP: the extended report's certificate table (GHCB GUID table:
	 * VCEK/VLEK, ASK/ASVK, ARK), used when certs_dir is NULL. */
	const uint8_t *cert_table;
	size_t cert_table_len;
	/* SNP: a pinned root (PEM ARK): the chain must end at exactly this
	 * certificate; a simulated platform's root is then trusted without
	 * allow_sim. */
	const char *root_pem;
	size_t root_pem_len;
};

/* Verify evidence and fill r. Returns 0 when the evidence could be judged
 * (r says how), negative errno when it cannot be read/parsed at all (the
 * CLI exits 2 then, with err_msg()). */
int att_snp_verify(const uint8_t *report, size_t len, const struct att_options *o, struct att_result *r);
int att_tdx_verify(const uint8_t *quote, size_t len, const struct att_options *o, struct att_result *r);

/* ---------------- signed results: EAR (ear.c, docs/verify.md) ----------------
 * An EAT Attestation Result (draft-ietf-rats-ear) as a JWT signed with ES256
 * (libjwt): iat, exp, eat_nonce, ear.verifier-id and one submodule per
 * platform with ear.status, the AR4SI trustworthiness vector and the claims. */
#define ATT_EAR_PROFILE "tag:github.com,2023:veraison/ear"
struct att_ear_opts {
	const char *key_path;  /* PEM EC P-256 private key */
	long ttl;              /* exp = now + ttl (seconds) */
	const uint8_t *nonce;  /* eat_nonce (base64url), or NULL */
	size_t nonce_len;
	time_t now;            /* iat */
	const char *policy_id; /* ear.appraisal-policy-id, or NULL */
};
/* The claims set (a new reference, NULL on ENOMEM). */
json_t *att_ear_claims(const struct att_result *r, enum att_status st, const struct att_ear_opts *o);
/* *token: malloc'ed compact JWS. */
int att_ear_sign(const struct att_result *r, enum att_status st, const struct att_ear_opts *o, char **token);
/* Check a token: ES256 signature by the public key in pubkey_path (PEM),
 * eat_profile, exp > now, iat not in the future, submods present, and
 * eat_nonce = the nonce (when nonce_len). 0: valid, *claims a new
 * reference; 1: invalid (why says how); negative errno: the key cannot be
 * read. */
int att_ear_verify(const char *token, const char *pubkey_path, const uint8_t *nonce, size_t nonce_len, time_t now,
		   json_t **claims, char *why, size_t why_len);
/* `cvmm verify-ear TOKEN --ear-pubkey KEY.pem [--nonce HEX]` */
int att_cli_verify_ear(int argc, char **argv);

/* `cvmm show`: print evidence field by field (text or JSON). */
int att_snp_show(const uint8_t *report, size_t len, bool json, FILE *out);
int att_tdx_show(const uint8_t *quote, size_t len, bool json, FILE *out);
/* As att_tdx_verify, but the PCK chain (and the collateral signing chain)
 * must end at root_pem (PEM text) instead of the built-in Intel SGX Root CA:
 * for test roots and simulated quoting (trusted only with --allow-sim). */
int att_tdx_verify_with_root(const uint8_t *quote, size_t len, const struct att_options *o, const char *root_pem,
			     size_t root_pem_len, struct att_result *r);

/* report_data that cvmm's endpoint and agent bind a relying party's nonce
 * into: SHA-512(nonce), 64 bytes, for SNP and TDX alike. */
int att_nonce_report_data(const uint8_t *nonce, size_t len, uint8_t out[64]);

/* ---------------- fetch-certs: what it reads from evidence (fetch_*.c) ----------------
 * Only the few fields needed to build the AMD KDS / Intel PCS requests. */
struct att_fetch_snp_id {
	uint32_t version;
	bool vlek;              /* SIGNING_KEY = 1: signed by a VLEK, not a VCEK */
	bool chip_id_masked;    /* MASK_CHIP_ID = 1: CHIP_ID reads as zero */
	uint64_t reported_tcb;
	uint8_t chip_id[64];
	const char *product;    /* "Milan" | "Genoa" | "Turin" from CPUID (v3+), else NULL */
};
int att_fetch_snp_id(const uint8_t *report, size_t len, const char *what, struct att_fetch_snp_id *id);
/* The PEM PCK certificate chain inside a TDX quote v4/v5 (certification data
 * type 6 -> 5); *pem points into quote, trailing NULs trimmed. */
int att_fetch_tdx_pck_chain(const uint8_t *quote, size_t len, const char *what, const uint8_t **pem,
			    size_t *pem_len);

/* ---------------- policy file (docs/verify.md) ----------------
 * Load a policy JSON file: an object with optional "snp" and "tdx" objects
 * and "allow_sim" (bool). *policy is a new reference. */
int att_policy_load(const char *path, json_t **policy);
/* The same for the len bytes at data; path names them in errors. Only the
 * top level is checked here; each verifier validates its section. */
int att_policy_parse(const uint8_t *data, size_t len, const char *path, json_t **policy);
/* Top-level policy keys: a boolean (absent = false), and
 * collateral_grace_period in seconds (-1 when absent). */
bool att_policy_bool(const json_t *policy, const char *key);
long long att_policy_grace(const json_t *policy);
/* Decode the hex string v (what names it in errors) into exactly n bytes,
 * or, with pad, into at most n bytes zero-padded on the right. */
int att_policy_hex(const json_t *v, const char *what, uint8_t *out, size_t n, bool pad);
/* Parse a time for --at: seconds since the epoch ("1700000000" or
 * "@1700000000"), "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
int att_parse_time(const char *s, time_t *out);

/* ---------------- attestation endpoint (endpoint*.c) and `cvmm attest` ----------------
 * The host side of docs/attestation.md: HTTPS (TLS 1.3) that only relays
 * between a relying party and the guest agent (attestation/proto/proto.h). */
struct att_endpoint;
struct att_endpoint_cfg {
	const char *listen;            /* "ADDR:PORT" (IPv4, or [IPv6]:PORT) */
	const char *tls_cert, *tls_key; /* PEM files; both NULL: a self-signed certificate is made */
	const char *agent_addr;        /* "vsock:CID:PORT" or "unix:PATH" */
	json_t *launch;                /* launch inputs put into every bundle (a reference is taken) */
	const uint8_t *manifest;       /* device manifest DTB (copied), may be NULL */
	size_t manifest_len;
	unsigned max_concurrent;       /* 0: 16 */
	unsigned agent_timeout_ms;     /* 0: 10000 */
};
/* Start serving on its own thread(s); prints "attestation endpoint:
 * https://ADDR:PORT" and, for a self-signed certificate, its SHA-256
 * fingerprint, to stderr. */
int att_endpoint_start(const struct att_endpoint_cfg *cfg, struct att_endpoint **out);
void att_endpoint_stop(struct att_endpoint *ep);
/* `cvmm attest URL ...` */
int att_cli_attest(int argc, char **argv);
/* `cvmm endpoint --listen ADDR:PORT --agent ADDR ...`: the endpoint alone
 * (tests, benchmarks), serving until SIGTERM/SIGINT. */
int att_cli_endpoint(int argc, char **argv);

#endif
