/* host_info.h - `cvmm host-info` (host_info.c). */
#ifndef CVMM_VMM_HOST_INFO_H
#define CVMM_VMM_HOST_INFO_H

#include <jansson.h>

#include "vmm/ioctl_rec.h"

/* Probe through io; module parameters are read under sysroot ("" = /). */
int vmm_host_info(struct cc_io *io, const char *sysroot, json_t **out);
int vmm_cli_host_info(int argc, char **argv);

#endif
