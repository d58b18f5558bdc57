/* mb_tss.h - the tpm2-tss headers for measured-boot/. tss2_mu.h 3.2 declares
 * marshalling for TPMS_ALGORITHM_DESCRIPTION, which tss2_tpm2_types.h marks
 * deprecated: that warning is about the library's own header, not our use,
 * so it is silenced here only, around the includes. */
#ifndef CVMM_MB_TSS_H
#define CVMM_MB_TSS_H

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <tss2_esys.h>
#include <tss2_mu.h>
#include <tss2_rc.h>
#include <tss2_tctildr.h>
#pragma GCC diagnostic pop

#endif
