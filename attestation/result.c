/* result.c - the attestation result shared by the SNP and TDX verifiers:
 * a list of every check that ran (nothing is silently accepted), the claims
 * read from the evidence, and the verdict derived from the check classes
 * (attestation.h). Also the nonce -> report_data binding used by the agent,
 * the endpoint and `cvmm verify --nonce`. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "attestation/attestation.h"
#include "common/common.h"

int att_result_init(struct att_result *r, const char *platform)
{
	*r = (struct att_result){ .platform = platform };
	r->checks = json_array();
	r->claims = json_object();
	if (!r->checks || !r->claims) {
		att_result_free(r);
		return err_set(ENOMEM, "attestation result: out of memory");
	}
	return 0;
}

void att_result_free(struct att_result *r)
{
	json_decref(r->checks);
	json_decref(r->claims);
	r->checks = NULL;
	r->claims = NULL;
}

bool att_check(struct att_result *r, enum att_class cls, const char *name, bool ok, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	json_t *c;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (!ok && cls == ATT_ADVISORY && r->strict) {
		/* strict (docs/verify.md): what would be a warning is a refusal */
		size_t n = strlen(detail);

		snprintf(detail + n, sizeof(detail) - n, " [strict: refused]");
		cls = ATT_POLICY;
	}
	if (!ok) {
		if (cls == ATT_AUTH)
			r->auth_failed = true;
		else if (cls == ATT_POLICY)
			r->policy_failed = true;
		else
			r->warned = true;
	}
	/* The flags above carry the verdict even if recording fails (ENOMEM):
	 * a failed check can never turn into an accepted one. */
	c = json_pack("{s:s, s:b, s:s, s:s}", "name", name, "ok", ok, "detail", detail, "class",
		      cls == ATT_AUTH ? "auth" : cls == ATT_POLICY ? "policy" : "advisory");
	if (c && r->checks)
		json_array_append_new(r->checks, c);
	else
		json_decref(c);
	return ok;
}

enum att_status att_result_status(const struct att_result *r)
{
	if (r->auth_failed || r->policy_failed)
		return ATT_CONTRAINDICATED;
	if (r->warned)
		return ATT_WARNING;
	return ATT_AFFIRMING;
}

const char *att_status_name(enum att_status s)
{
	switch (s) {
	case ATT_AFFIRMING:
		return "affirming";
	case ATT_WARNING:
		return "warning";
	case ATT_CONTRAINDICATED:
		return "contraindicated";
	}
	return "contraindicated";
}

void att_check_fresh(struct att_result *r, const json_t *policy, const char *name, time_t at, time_t next_update,
		     const char *what)
{
	long long grace = att_policy_grace(policy);
	char when[32];
	struct tm tm;

	if (!gmtime_r(&next_update, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof(when), "@%lld", (long long)next_update);
	if (at <= next_update)
		att_check(r, grace >= 0 ? ATT_POLICY : ATT_ADVISORY, name, true, "%s: current (next update %s)", what,
			  when);
	else if (grace >= 0)
		att_check(r, ATT_POLICY, name, (long long)(at - next_update) <= grace,
			  "%s: expired: past its next update (%s) by %lld s; collateral_grace_period %lld s", what, when,
			  (long long)(at - next_update), grace);
	else
		att_check(r, ATT_ADVISORY, name, false, "%s: expired at the evaluation time: past its next update (%s), fetch a new one", what, when);
}

void att_claim_hex(struct att_result *r, const char *name, const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (!s)
		return;
	hex_encode(p, n, s);
	if (r->claims)
		json_object_set_new(r->claims, name, json_string(s));
	free(s);
}

int att_nonce_report_data(const uint8_t *nonce, size_t len, uint8_t out[64])
{
	unsigned int n = 0;

	if (!EVP_Digest(nonce, len, out, &n, EVP_sha512(), NULL) || n != 64)
		return err_set(EIO, "nonce: SHA-512 failed");
	return 0;
}
