/* tdx.h - Intel TDX: TD HOB, MRTD/RTMR engine, (later) KVM backend and sim. */
#ifndef CVMM_TDX_H
#define CVMM_TDX_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/firmware.h"

/* `cvmm measure --platform tdx ...` (argv[0] is "measure"). */
int tdx_cli_measure(int argc, char **argv);

#endif
