/* sev.h - AMD SEV, SEV-ES and SEV-SNP: VMSA construction, launch digests,
 * and (later) the KVM backend and the sim secure processor. */
#ifndef CVMM_SEV_H
#define CVMM_SEV_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/firmware.h"

/* `cvmm measure` (all platforms; hands --platform tdx to tdx_cli_measure). */
int sev_cli_measure(int argc, char **argv);

#endif
