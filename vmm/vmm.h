/* vmm.h - the KVM VMM: VM/vCPU lifecycle, guest memory, x86 boot, devices,
 * confinement, and `cvmm run`. */
#ifndef CVMM_VMM_H
#define CVMM_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int vmm_cli_run(int argc, char **argv);
/* The control API (docs/api.md): `cvmm serve`, `cvmm ctl`, `cvmm config check`. */
int vmm_cli_serve(int argc, char **argv);
int vmm_cli_ctl(int argc, char **argv);
int vmm_cli_config(int argc, char **argv);
/* `cvmm --version`'s string, for vmm.ping (set by main). */
extern const char *vmm_version;
/* `cvmm measure`: --platform sim-snp here, every other platform in sev/ (and tdx/). */
int vmm_cli_measure(int argc, char **argv);
int vmm_cli_measure_sim(int argc, char **argv);
/* `cvmm sim-root`: the root certificate of a sim platform's key store. */
int vmm_cli_sim_root(int argc, char **argv);
/* The launch measurement of `cvmm run --platform sim-snp` with these inputs. */
int vmm_sim_snp_measure(const uint8_t *kernel, size_t klen, const char *kernel_path, const uint8_t *initrd,
			size_t ilen, const char *cmdline, unsigned vcpus, uint64_t mem, bool trace,
			uint8_t out[48]);
/* The MRTD of `cvmm run --platform sim-tdx` with these inputs; trace (may
 * be NULL) gets one line per PAGE.ADD / MR.EXTEND. */
int vmm_sim_tdx_measure(const uint8_t *kernel, size_t klen, const char *kernel_path, const uint8_t *initrd,
			size_t ilen, const char *cmdline, unsigned vcpus, uint64_t mem, FILE *trace,
			uint8_t out[48]);

#endif
