/* verify_common.h - what `cvmm verify` and `cvmm attest` share (internal to
 * attestation/): merging command-line requirements into the policy object
 * and printing an attestation result, so both judge and report alike. */
#ifndef CVMM_ATTESTATION_VERIFY_COMMON_H
#define CVMM_ATTESTATION_VERIFY_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "attestation/attestation.h"

/* Load the policy file at path (NULL: an empty policy) and merge the flags:
 * measurements (array of hex strings) extend snp.measurements and tdx.mrtd,
 * report_data (64 bytes, or NULL) sets snp.report_data and tdx.report_data,
 * *allow_sim sets "allow_sim" (and a policy's "allow_sim": true sets
 * *allow_sim). *out is a new reference. */
int att_policy_build(const char *path, json_t *measurements, const uint8_t *report_data, bool *allow_sim,
		     json_t **out);

/* Print r with status st to stdout: a short summary, or with json the
 * object {"status", "platform", "checks", "claims"} plus the members of
 * extra (may be NULL). */
int att_result_print(const struct att_result *r, enum att_status st, bool json, json_t *extra);

#endif
