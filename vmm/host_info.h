/* host_info.h - `cvmm host-info` (host_info.c). */
#ifndef CVMM_VMM_HOST_INFO_H
#define CVMM_VMM_HOST_INFO_H

#include <jansson.h>

#include "vmm/ioctl_rec.h"

/* Probe through io; module parameters are read under sysroot ("" = /). */
int vmm_host_info(struct cc_io *io, const char *sysroot, json_t **out);
int vmm_cli_host_info(int argc, char **argv);
/* `--platform auto`: the best hardware platform in a probe's result (snp,
 * tdx, sev-es, sev: the first with nothing missing), else "kvm" — never a
 * sim platform. */
const char *vmm_auto_platform(json_t *info);
/* `cvmm run --platform auto` (explicit only; without --platform cvmm run
 * stays on kvm): probe through io, replace the argument in argv by the
 * choice and say on stderr which it is. 0, or -errno with err_set(). */
int vmm_resolve_auto(struct cc_io *io, const char *sysroot, int argc, char **argv);

#endif
