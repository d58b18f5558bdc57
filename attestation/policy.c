/* policy.c - the relying party's policy file (docs/verify.md): one JSON
 * object with a section per platform, {"snp": {...}, "tdx": {...},
 * "allow_sim": false, "allow_warning": false}. Each verifier validates its
 * own section; this file checks the top level and offers the small decoders
 * both use. "allow_warning" is read by `cvmm attest` (release a secret on a
 * warning result too). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attestation/attestation.h"
#include "common/common.h"

#define POLICY_MAX (1 << 20)

int att_policy_load(const char *path, json_t **policy)
{
	uint8_t *data;
	size_t len;
	int ret;

	*policy = NULL;
	if ((ret = file_read(path, POLICY_MAX, &data, &len)))
		return ret;
	ret = att_policy_parse(data, len, path, policy);
	free(data);
	return ret;
}

int att_policy_parse(const uint8_t *data, size_t len, const char *path, json_t **policy)
{
	json_error_t jerr;
	const char *key;
	json_t *v, *p;
	int ret = 0;

	*policy = NULL;
	p = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!p)
		return err_set(EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
	if (!json_is_object(p)) {
		json_decref(p);
		return err_set(EINVAL, "%s: the policy must be a JSON object", path);
	}
	json_object_foreach(p, key, v) {
		if (!strcmp(key, "snp") || !strcmp(key, "tdx")) {
			if (!json_is_object(v))
				ret = err_set(EINVAL, "%s: \"%s\" must be an object", path, key);
		} else if (!strcmp(key, "allow_sim") || !strcmp(key, "allow_warning") || !strcmp(key, "strict") ||
			   !strcmp(key, "require_crl")) {
			if (!json_is_boolean(v))
				ret = err_set(EINVAL, "%s: \"%s\" must be true or false", path, key);
		} else if (!strcmp(key, "collateral_grace_period")) {
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				ret = err_set(EINVAL, "%s: \"%s\" must be an integer number of seconds >= 0", path, key);
		} else {
			ret = err_set(EINVAL,
				      "%s: unknown key \"%s\" (expected snp, tdx, allow_sim, allow_warning, strict, "
				      "require_crl, collateral_grace_period)",
				      path, key);
		}
		if (ret) {
			json_decref(p);
			return ret;
		}
	}
	*policy = p;
	return 0;
}

bool att_policy_bool(const json_t *policy, const char *key)
{
	return json_is_true(json_object_get(policy, key));
}

long long att_policy_grace(const json_t *policy)
{
	const json_t *v = json_object_get(policy, "collateral_grace_period");

	return json_is_integer(v) && json_integer_value(v) >= 0 ? (long long)json_integer_value(v) : -1;
}

int att_policy_hex(const json_t *v, const char *what, uint8_t *out, size_t n, bool pad)
{
	size_t got;
	int ret;

	if (!json_is_string(v))
		return err_set(EINVAL, "%s: expected a hex string", what);
	if (!pad)
		return hex_decode_exact(json_string_value(v), out, n, what);
	memset(out, 0, n);
	if ((ret = hex_decode(json_string_value(v), out, n, &got, what)))
		return ret;
	return 0;
}

int att_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;
	uint64_t v;

	if (!s || !*s)
		return err_set(EINVAL, "--at: empty time");
	if (!strcmp(s, "now")) { /* judge strictly at the current time */
		*out = time(NULL);
		return 0;
	}
	if (*s == '@' || (strlen(s) > 0 && !strchr(s, '-'))) {
		if (parse_u64(s + (*s == '@'), (uint64_t)INT64_MAX / 2, &v, "--at"))
			return -EINVAL;
		*out = (time_t)v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (!end || *end)
		return err_set(EINVAL, "--at: '%s' is not 'now', seconds since 1970, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", s);
	*out = timegm(&tm);
	return 0;
}
