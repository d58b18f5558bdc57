/* att_checks.h - test helpers over the checks an att_result recorded (the
 * SNP and TDX verification tests). Include after <cmocka.h>. A check that
 * was not recorded at all fails the test: a missing check must never read
 * as a passed or failed one. */
#ifndef CVMM_TESTS_ATT_CHECKS_H
#define CVMM_TESTS_ATT_CHECKS_H

#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "attestation/attestation.h"

static inline const json_t *result_check(const struct att_result *r, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(r->checks, i, c)
		if (!strcmp(json_string_value(json_object_get(c, "name")), name))
			return c;
	fail_msg("check '%s' was not recorded", name);
	return NULL;
}

static inline bool result_check_ok(const struct att_result *r, const char *name)
{
	return json_is_true(json_object_get(result_check(r, name), "ok"));
}

static inline const char *result_detail(const struct att_result *r, const char *name)
{
	return json_string_value(json_object_get(result_check(r, name), "detail"));
}

#endif
