/* vmm.h - the KVM VMM: VM/vCPU lifecycle, guest memory, x86 boot, devices,
 * confinement, and `cvmm run`. */
#ifndef CVMM_VMM_H
#define CVMM_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int vmm_cli_run(int argc, char **argv);

#endif
