/* verify_common.c - the policy merging and result printing that `cvmm
 * verify` and `cvmm attest` share (verify_common.h, docs/verify.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/verify_common.h"
#include "common/common.h"

static json_t *section(json_t *policy, const char *name)
{
	json_t *s = json_object_get(policy, name);

	if (!s) {
		s = json_object();
		json_object_set_new(policy, name, s);
	}
	return s;
}

static void append_list(json_t *obj, const char *key, json_t *items)
{
	json_t *list = json_object_get(obj, key);
	size_t i;
	json_t *e;

	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(obj, key, list);
	}
	json_array_foreach(items, i, e) json_array_append(list, e);
}

int att_policy_build(const char *path, json_t *measurements, const uint8_t *report_data, bool *allow_sim,
		     json_t **out)
{
	json_t *policy = NULL;
	int ret;

	if (path) {
		if ((ret = att_policy_load(path, &policy)))
			return ret;
	} else if (!(policy = json_object())) {
		return err_set(ENOMEM, "out of memory");
	}
	if (json_array_size(measurements)) {
		append_list(section(policy, "snp"), "measurements", measurements);
		append_list(section(policy, "tdx"), "mrtd", measurements);
	}
	if (report_data) {
		char hex[129];

		hex_encode(report_data, 64, hex);
		json_object_set_new(section(policy, "snp"), "report_data", json_string(hex));
		json_object_set_new(section(policy, "tdx"), "report_data", json_string(hex));
	}
	if (*allow_sim)
		json_object_set_new(policy, "allow_sim", json_true());
	else if (json_is_true(json_object_get(policy, "allow_sim")))
		*allow_sim = true;
	*out = policy;
	return 0;
}

static void print_human(const struct att_result *r, enum att_status st)
{
	size_t i;
	json_t *c;
	static const char *const claims[] = { "product", "signing_key", "measurement", "mrtd", "report_data",
					      "host_data", "policy", "reported_tcb" };

	printf("%s (%s)\n", att_status_name(st), r->platform);
	if (r->simulated)
		printf("simulated platform: evidence is not rooted in %s hardware\n",
		       r->platform && !strcmp(r->platform, "tdx") ? "Intel" : "AMD");
	json_array_foreach(r->checks, i, c) printf("  %-4s %-22s %s\n", json_is_true(json_object_get(c, "ok")) ? "ok" : "FAIL",
						   json_string_value(json_object_get(c, "name")),
						   json_string_value(json_object_get(c, "detail")));
	for (i = 0; i < ARRAY_SIZE(claims); i++) {
		json_t *v = json_object_get(r->claims, claims[i]);

		if (json_is_string(v))
			printf("%s: %s\n", claims[i], json_string_value(v));
	}
}

int att_result_print(const struct att_result *r, enum att_status st, bool json, json_t *extra)
{
	json_t *out;
	char *s;

	if (!json) {
		print_human(r, st);
		return 0;
	}
	out = json_pack("{s:s, s:s, s:b, s:O, s:O}", "status", att_status_name(st), "platform", r->platform,
			"simulated", r->simulated, "checks", r->checks, "claims", r->claims);
	if (out && extra)
		json_object_update(out, extra);
	s = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
	json_decref(out);
	if (!s)
		return err_set(ENOMEM, "out of memory");
	printf("%s\n", s);
	free(s);
	return 0;
}
