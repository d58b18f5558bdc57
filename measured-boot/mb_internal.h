/* mb_internal.h - helpers shared by the files of measured-boot/ only. */
#ifndef CVMM_MB_INTERNAL_H
#define CVMM_MB_INTERNAL_H

#include <jansson.h>

#include "measured_boot.h"

/* OpenSSL name of a TPM_ALG_ID hash ("SHA384"), NULL when unknown. */
const char *mb_alg_evp_name(uint16_t alg);
/* One decoded event as a JSON object (new reference). */
json_t *mb_event_json(const struct mb_log *log, size_t i);
/* The event data decoded by type, NULL when only hex can be shown. */
json_t *mb_event_data_json(uint32_t type, const uint8_t *p, size_t n);

/* Parse the event data of a cvmm launch event (see measured_boot.h).
 * Returns 0 and borrowed pointers, or -EINVAL when it is not one. */
int mb_launch_event_parse(const uint8_t *p, size_t n, const uint8_t **digest, size_t *digest_len,
			  const uint8_t **desc, size_t *desc_len);

#endif
