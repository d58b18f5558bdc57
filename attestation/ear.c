/* ear.c - the attestation result as an EAT Attestation Result (EAR,
 * draft-ietf-rats-ear): a JWT signed with ES256 by the verifier's key, so a
 * relying party that did not run the verifier can trust the verdict
 * (docs/verify.md "Signed results"). JWS signing and verification are
 * libjwt's (Debian libjwt-dev); this file only builds and checks the
 * claims set: iat, exp, eat_nonce, ear.verifier-id, and one submodule per
 * platform with its ear.status, AR4SI trustworthiness vector
 * (draft-ietf-rats-ar4si) and the evidence claims. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "attestation/attestation.h"
#include "attestation/base64.h"
#include "common/common.h"

#define EAR_KEY_MAX (64 << 10)

/* AR4SI tiers: 0 no claim, 2 affirming, 32 warning, 96 contraindicated. */
enum { TV_NONE = 0, TV_OK = 2, TV_WARN = 32, TV_BAD = 96, TV_BAD_HW = 97, TV_BAD_EXE = 99 };

/* The outcome of the named checks: -1 none ran, 0 all passed, 1 an advisory
 * one failed, 2 a policy or authenticity one failed. */
static int outcome(const json_t *checks, const char *const *names)
{
	int worst = -1;
	size_t i;
	json_t *c;

	json_array_foreach(checks, i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));
		const char *cls = json_string_value(json_object_get(c, "class"));

		for (const char *const *p = names; *p; p++) {
			if (!n || strcmp(n, *p))
				continue;
			int v = json_is_true(json_object_get(c, "ok")) ? 0 : cls && !strcmp(cls, "advisory") ? 1 : 2;
			if (v > worst)
				worst = v;
		}
	}
	return worst;
}

static int tier(int o, int bad)
{
	return o < 0 ? TV_NONE : o == 0 ? TV_OK : o == 1 ? TV_WARN : bad;
}

/* The AR4SI trustworthiness vector derived from the checks (the mapping is
 * cvmm's, documented in docs/verify.md). */
static json_t *trust_vector(const struct att_result *r)
{
	static const char *const debug[] = { "debug", "tdx.debug", NULL };
	static const char *const exe[] = { "measurement", "tdx.policy.mrtd", "tdx.policy.rtmr0", "tdx.policy.rtmr1",
					   "tdx.policy.rtmr2", "tdx.policy.rtmr3", "event_log", NULL };
	static const char *const tcb[] = { "tcb_current", "tdx.tcb_status", "tdx.tcb_level", "min_tcb",
					   "vek_tcb", "firmware_consistent", "min_build", "min_api_version",
					   "tdx.policy.min_tee_tcb_svn", NULL };
	static const char *const conf[] = { "debug", "tdx.debug", "smt", "migration_agent", "single_socket", "min_abi",
					    "vmpl", "platform_info_require", "platform_info_forbid", "host_data",
					    "id_key_digest", "author_key_digest", "family_id", "image_id",
					    "guest_policy_reserved", "tdx.policy.xfam", "tdx.policy.mrconfigid",
					    "tdx.policy.mrowner", "tdx.policy.mrownerconfig", "id_block", NULL };
	json_t *tv = json_object();
	int hw;

	if (!tv)
		return NULL;
	json_object_set_new(tv, "instance-identity", json_integer(r->auth_failed ? TV_BAD : TV_OK));
	hw = r->auth_failed ? TV_BAD_HW : r->simulated ? TV_NONE : tier(outcome(r->checks, tcb), TV_BAD);
	if (!r->auth_failed && !r->simulated && hw == TV_NONE)
		hw = TV_OK; /* genuine chain, no TCB judgement */
	json_object_set_new(tv, "hardware", json_integer(hw));
	json_object_set_new(tv, "executables", json_integer(tier(outcome(r->checks, exe), TV_BAD_EXE)));
	json_object_set_new(tv, "configuration", json_integer(tier(outcome(r->checks, conf), TV_BAD)));
	json_object_set_new(tv, "runtime-opaque", json_integer(r->auth_failed ? TV_BAD : tier(outcome(r->checks, debug), TV_BAD)));
	/* zero members are "no claim": leave them out as the draft says */
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(tv, tmp, k, v) if (json_integer_value(v) == TV_NONE) json_object_del(tv, k);
	return tv;
}

static int b64url(const uint8_t *p, size_t n, char **out)
{
	int ret = att_b64_encode(p, n, out);

	if (ret)
		return ret;
	for (char *s = *out; *s; s++)
		if (*s == '+')
			*s = '-';
		else if (*s == '/')
			*s = '_';
		else if (*s == '=')
			*s = 0;
	return 0;
}

json_t *att_ear_claims(const struct att_result *r, enum att_status st, const struct att_ear_opts *o)
{
	json_t *sub, *failed, *c, *claims;
	char *nonce = NULL;
	size_t i;

	failed = json_array();
	json_array_foreach(r->checks, i, c) if (!json_is_true(json_object_get(c, "ok")))
		json_array_append(failed, json_object_get(c, "name"));
	sub = json_pack("{s:s, s:o, s:O, s:o, s:b}", "ear.status", att_status_name(st), "ear.trustworthiness-vector",
			trust_vector(r), "ear.veraison.annotated-evidence", r->claims, "cvmm.failed-checks", failed,
			"cvmm.simulated", r->simulated);
	if (sub && o->policy_id)
		json_object_set_new(sub, "ear.appraisal-policy-id", json_string(o->policy_id));
	claims = json_pack("{s:s, s:I, s:I, s:{s:s, s:s}, s:{s:o}}", "eat_profile", ATT_EAR_PROFILE, "iat",
			   (json_int_t)o->now, "exp", (json_int_t)(o->now + o->ttl), "ear.verifier-id", "developer",
			   "cvmm", "build", "cvmm verify", "submods", r->platform, sub);
	if (claims && o->nonce_len) {
		if (b64url(o->nonce, o->nonce_len, &nonce)) {
			json_decref(claims);
			return NULL;
		}
		json_object_set_new(claims, "eat_nonce", json_string(nonce));
		free(nonce);
	}
	return claims;
}

/* Read a PEM key file: private (sign) or public (verify), which must be an
 * EC P-256 key (ES256); returned re-encoded as PEM for libjwt. */
static int load_key(const char *path, bool private_key, char **pem, size_t *pem_len)
{
	uint8_t *data;
	size_t len;
	BIO *in, *out = NULL;
	EVP_PKEY *k = NULL;
	char *p;
	long n;
	int ret;

	if ((ret = file_read(path, EAR_KEY_MAX, &data, &len)))
		return ret;
	in = BIO_new_mem_buf(data, (int)len);
	if (in)
		k = private_key ? PEM_read_bio_PrivateKey(in, NULL, NULL, NULL) : PEM_read_bio_PUBKEY(in, NULL, NULL, NULL);
	BIO_free(in);
	OPENSSL_cleanse(data, len);
	free(data);
	if (!k)
		return err_set(EINVAL, "%s: not a PEM %s key", path, private_key ? "private" : "public");
	if (!EVP_PKEY_is_a(k, "EC") || EVP_PKEY_get_bits(k) != 256) {
		EVP_PKEY_free(k);
		return err_set(EINVAL, "%s: not an EC P-256 key (EAR tokens are signed with ES256)", path);
	}
	out = BIO_new(BIO_s_mem());
	if (!out || !(private_key ? PEM_write_bio_PrivateKey(out, k, NULL, NULL, 0, NULL, NULL) : PEM_write_bio_PUBKEY(out, k))) {
		BIO_free(out);
		EVP_PKEY_free(k);
		return err_set(ENOMEM, "%s: cannot encode the key", path);
	}
	EVP_PKEY_free(k);
	n = BIO_get_mem_data(out, &p);
	*pem = malloc((size_t)n + 1);
	if (*pem) {
		memcpy(*pem, p, (size_t)n);
		(*pem)[n] = 0;
		*pem_len = (size_t)n;
	}
	OPENSSL_cleanse(p, (size_t)n);
	BIO_free(out);
	return *pem ? 0 : err_set(ENOMEM, "out of memory");
}

int att_ear_sign(const struct att_result *r, enum att_status st, const struct att_ear_opts *o, char **token)
{
	json_t *claims = att_ear_claims(r, st, o);
	char *json = claims ? json_dumps(claims, JSON_COMPACT) : NULL, *key = NULL, *t;
	size_t key_len = 0;
	jwt_t *jwt = NULL;
	int ret;

	*token = NULL;
	json_decref(claims);
	if (!json)
		return err_set(ENOMEM, "EAR: out of memory");
	if ((ret = load_key(o->key_path, true, &key, &key_len)))
		goto out;
	if (jwt_new(&jwt) || jwt_set_alg(jwt, JWT_ALG_ES256, (const unsigned char *)key, (int)key_len) ||
	    jwt_add_grants_json(jwt, json)) {
		ret = err_set(EINVAL, "%s: libjwt refused the key or the claims", o->key_path);
		goto out;
	}
	if (!(t = jwt_encode_str(jwt))) {
		ret = err_set(EIO, "%s: ES256 signing failed", o->key_path);
		goto out;
	}
	*token = strdup(t);
	free(t);
	ret = *token ? 0 : err_set(ENOMEM, "EAR: out of memory");
out:
	jwt_free(jwt);
	if (key)
		OPENSSL_cleanse(key, key_len);
	free(key);
	free(json);
	return ret;
}

int att_ear_verify(const char *token, const char *pubkey_path, const uint8_t *nonce, size_t nonce_len, time_t now,
		   json_t **claims, char *why, size_t why_len)
{
	char *key = NULL, *grants = NULL, *want = NULL;
	size_t key_len = 0;
	jwt_t *jwt = NULL;
	json_t *c = NULL, *v;
	int ret;

	*claims = NULL;
	why[0] = 0;
	if ((ret = load_key(pubkey_path, false, &key, &key_len)))
		return ret;
	ret = 1;
	/* libjwt verifies with the algorithm the token names; only ES256 may
	 * be accepted, or a token "signed" with HS256 keyed by this public PEM
	 * would pass (the classic JWT algorithm confusion). */
	if (jwt_decode(&jwt, token, (const unsigned char *)key, (int)key_len) || !jwt) {
		snprintf(why, why_len, "EAR: the token is malformed or its signature does not verify with %s",
			 pubkey_path);
		goto out;
	}
	if (jwt_get_alg(jwt) != JWT_ALG_ES256) {
		snprintf(why, why_len, "EAR: alg is %s, not ES256", jwt_alg_str(jwt_get_alg(jwt)));
		goto out;
	}
	if (!(grants = jwt_get_grants_json(jwt, NULL)) || !(c = json_loads(grants, JSON_REJECT_DUPLICATES, NULL)) ||
	    !json_is_object(c)) {
		snprintf(why, why_len, "EAR: the claims are not a JSON object");
		goto out;
	}
	if (!json_is_string(json_object_get(c, "eat_profile")) ||
	    strcmp(json_string_value(json_object_get(c, "eat_profile")), ATT_EAR_PROFILE)) {
		snprintf(why, why_len, "EAR: eat_profile is not %s", ATT_EAR_PROFILE);
		goto out;
	}
	v = json_object_get(c, "exp");
	if (!json_is_integer(v) || json_integer_value(v) <= now) {
		snprintf(why, why_len, "EAR: %s", json_is_integer(v) ? "expired (exp is past)" : "no exp claim");
		goto out;
	}
	v = json_object_get(c, "iat");
	if (!json_is_integer(v) || json_integer_value(v) > now + 60) {
		snprintf(why, why_len, "EAR: %s", json_is_integer(v) ? "issued in the future (iat)" : "no iat claim");
		goto out;
	}
	if (!json_is_object(json_object_get(c, "submods")) || !json_object_size(json_object_get(c, "submods"))) {
		snprintf(why, why_len, "EAR: no submods");
		goto out;
	}
	if (nonce_len) {
		if (b64url(nonce, nonce_len, &want)) {
			ret = -ENOMEM;
			goto out;
		}
		v = json_object_get(c, "eat_nonce");
		if (!json_is_string(v) || strcmp(json_string_value(v), want)) {
			snprintf(why, why_len, "EAR: eat_nonce %s the given nonce", json_is_string(v) ? "is not" : "missing, expected");
			goto out;
		}
	}
	*claims = c;
	c = NULL;
	ret = 0;
out:
	json_decref(c);
	free(want);
	free(grants);
	jwt_free(jwt);
	free(key);
	return ret;
}
